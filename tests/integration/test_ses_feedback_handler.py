"""SesFeedbackFunction on the template's stack in moto: SES events in the shape SNS delivers them."""

import io
import json
from typing import Any

import boto3
import pytest
from headsup.domain.ses_feedback import parse_notification
from headsup.platform.batch import NotAllRecorded

from emulator import Deployment
from tests.unit.test_ses_feedback import (
    ADDRESS,
    NOTICE,
    OTHER_ADDRESS,
    OTHER_NOTICE,
    ses_notification,
    sns_event,
)


def dynamodb(deployment: Deployment) -> Any:
    return boto3.client("dynamodb", region_name=deployment.region)


def sent_notice(deployment: Deployment, notice_id: str, customer_id: str, status: str = "sent") -> None:
    """A ledger item as delivery leaves it once the email is sent (or, `unconfirmed`, once the
    invocation sending it died before SES's answer was recorded)."""
    dynamodb(deployment).put_item(
        TableName=deployment.ref("NoticeLedgerTable"),
        Item={
            "notice_id": {"S": notice_id},
            "status": {"S": status},
            "customer_id": {"S": customer_id},
            "kind": {"S": "bill_increase"},
            "topic": {"S": "billing"},
            "channel": {"S": "email"},
            "provider_message_id": {"S": "0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000"},
            "attempts": {"N": "1"},
            "sent_at": {"S": "2026-11-24T11:59:58+00:00"},
            "completed_at": {"S": "2026-11-24T11:59:58+00:00"},
            "expires_at": {"N": "1830340800"},
        },
    )


def ledger_item(deployment: Deployment, notice_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        dynamodb(deployment)
        .get_item(TableName=deployment.ref("NoticeLedgerTable"), Key={"notice_id": {"S": notice_id}})
        .get("Item")
    )
    return item


def preferences_item(deployment: Deployment, customer_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        dynamodb(deployment)
        .get_item(TableName=deployment.ref("PreferencesTable"), Key={"customer_id": {"S": customer_id}})
        .get("Item")
    )
    return item


def deliver(deployment: Deployment, *notifications: dict[str, Any] | str) -> Any:
    messages = [n if isinstance(n, str) else json.dumps(n) for n in notifications]
    return deployment.invoke("SesFeedbackFunction", sns_event(deployment, *messages))


def test_handler_permanent_bounce_suppresses_the_address_and_marks_the_sent_notice(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given a notice the ledger records as sent to cust-ana
    sent_notice(deployment, NOTICE, "cust-ana")

    # When SES reports a permanent bounce for it
    result = deliver(deployment, ses_notification("Bounce"))

    # Then the address is suppressed, the notice carries the feedback and is still `sent`
    assert result == {"suppressed": 1}
    preferences = preferences_item(deployment, "cust-ana")
    assert preferences is not None
    assert preferences["suppressed_email"]["S"] == ADDRESS
    assert preferences["suppressed_reason"]["S"] == "bounce:Permanent"
    notice = ledger_item(deployment, NOTICE)
    assert notice is not None
    assert notice["status"]["S"] == "sent"
    assert notice["feedback"]["S"] == "bounce:Permanent"
    assert notice["feedback_at"]["S"] == "2026-11-24T12:00:02.669000+00:00"
    assert "Email address suppressed after SES feedback" in logs.getvalue()
    assert ADDRESS not in logs.getvalue()


def test_handler_complaint_suppresses_the_address_and_marks_the_notice(
    deployment: Deployment, logs: io.StringIO
) -> None:
    sent_notice(deployment, NOTICE, "cust-ana")

    result = deliver(deployment, ses_notification("Complaint"))

    assert result == {"suppressed": 1}
    preferences = preferences_item(deployment, "cust-ana")
    assert preferences is not None
    assert preferences["suppressed_email"]["S"] == ADDRESS
    assert preferences["suppressed_reason"]["S"] == "complaint"
    notice = ledger_item(deployment, NOTICE)
    assert notice is not None
    assert (notice["status"]["S"], notice["feedback"]["S"]) == ("sent", "complaint")
    assert ADDRESS not in logs.getvalue()


def test_handler_transient_bounce_is_recorded_without_suppressing(deployment: Deployment) -> None:
    sent_notice(deployment, NOTICE, "cust-ana")

    result = deliver(deployment, ses_notification("Bounce", bounce_type="Transient"))

    assert result == {"recorded": 1}
    assert preferences_item(deployment, "cust-ana") is None
    notice = ledger_item(deployment, NOTICE)
    assert notice is not None
    assert (notice["status"]["S"], notice["feedback"]["S"]) == ("sent", "bounce:Transient")


def test_handler_the_same_event_twice_is_harmless(deployment: Deployment) -> None:
    sent_notice(deployment, NOTICE, "cust-ana")

    deliver(deployment, ses_notification("Bounce"))
    first = ledger_item(deployment, NOTICE)
    deliver(deployment, ses_notification("Bounce"))

    assert ledger_item(deployment, NOTICE) == first


def test_handler_skips_feedback_for_an_unknown_notice_without_creating_it(
    deployment: Deployment, logs: io.StringIO
) -> None:
    result = deliver(deployment, ses_notification("Complaint", notice_id=OTHER_NOTICE))

    assert result == {"unattributed": 1}
    assert ledger_item(deployment, OTHER_NOTICE) is None
    assert "SES feedback for no notice in the ledger; skipped" in logs.getvalue()
    assert OTHER_NOTICE in logs.getvalue()


def test_handler_a_malformed_record_is_logged_and_the_others_are_still_processed(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given two sent notices, and a batch with a malformed record between their bounces
    sent_notice(deployment, NOTICE, "cust-ana")
    sent_notice(deployment, OTHER_NOTICE, "cust-jonas")
    event = sns_event(
        deployment,
        json.dumps(ses_notification("Bounce")),
        json.dumps({"eventType": "Bounce", "bounce": {"bouncedRecipients": [{"emailAddress": ADDRESS}]}}),
        json.dumps(ses_notification("Complaint", notice_id=OTHER_NOTICE, address=OTHER_ADDRESS)),
    )
    malformed_id = event["Records"][1]["Sns"]["MessageId"]

    # When the function is invoked with it
    result = deployment.invoke("SesFeedbackFunction", event)

    # Then both good records took effect and the bad one is logged with its id and what is wrong
    assert result == {"suppressed": 2, "malformed": 1}
    for customer, address in (("cust-ana", ADDRESS), ("cust-jonas", OTHER_ADDRESS)):
        item = preferences_item(deployment, customer)
        assert item is not None
        assert item["suppressed_email"]["S"] == address
    logged = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    errors = [entry for entry in logged if entry.get("message") == "Malformed SES notification; dropped"]
    assert len(errors) == 1
    assert errors[0]["sns_message_id"] == malformed_id
    assert "mail: Field required" in errors[0]["problems"]
    assert "bounce.bounceType: Field required" in errors[0]["problems"]
    assert ADDRESS not in logs.getvalue()
    assert OTHER_ADDRESS not in logs.getvalue()


def test_handler_raises_after_the_other_records_when_one_could_not_be_recorded(
    deployment: Deployment, logs: io.StringIO
) -> None:
    # Given the preferences table is unavailable, so a suppression cannot be written
    sent_notice(deployment, NOTICE, "cust-ana")
    sent_notice(deployment, OTHER_NOTICE, "cust-jonas")
    dynamodb(deployment).delete_table(TableName=deployment.ref("PreferencesTable"))
    event = sns_event(
        deployment,
        json.dumps(ses_notification("Complaint")),
        json.dumps(ses_notification("Bounce", notice_id=OTHER_NOTICE, bounce_type="Transient")),
    )

    # When the function is invoked
    with pytest.raises(NotAllRecorded) as caught:
        deployment.invoke("SesFeedbackFunction", event)

    # Then the record after the failed one was still processed, and the failure names its record
    assert caught.value.ids == [event["Records"][0]["Sns"]["MessageId"]]
    other = ledger_item(deployment, OTHER_NOTICE)
    assert other is not None
    assert other["feedback"]["S"] == "bounce:Transient"
    assert "ClientError ResourceNotFoundException (UpdateItem)" in logs.getvalue()
    assert ADDRESS not in logs.getvalue()
    assert ADDRESS not in str(caught.value)


def test_handler_ignores_ses_topic_validation_message(deployment: Deployment) -> None:
    result = deliver(deployment, "Successfully validated SNS topic for Amazon SES event publishing.")

    assert result == {"ignored": 1}


def test_a_complaint_that_names_no_recipient_is_about_the_address_it_was_sent_to() -> None:
    notification = ses_notification("Complaint")
    notification["complaint"]["complainedRecipients"] = []

    feedback = parse_notification(json.dumps(notification))

    assert feedback is not None
    assert feedback.recipients == (ADDRESS,)


def test_handler_a_record_without_a_message_is_malformed(deployment: Deployment, logs: io.StringIO) -> None:
    event = sns_event(deployment, "placeholder")
    del event["Records"][0]["Sns"]["Message"]

    result = deployment.invoke("SesFeedbackFunction", event)

    assert result == {"malformed": 1}
    assert "Sns.Message: Field required" in logs.getvalue()


# ------------------------------------------------------------------------------ receipts


def delivery_state(deployment: Deployment, notice_id: str) -> tuple[str | None, str | None, set[str]]:
    item = ledger_item(deployment, notice_id) or {}
    state, at = item.get("delivery_state", {}).get("S"), item.get("delivery_at", {}).get("S")
    return state, at, set(item.get("delivery_seen", {}).get("SS", []))


def test_receipts_record_what_became_of_the_email_and_never_move_back(deployment: Deployment) -> None:
    # Given a sent notice
    sent_notice(deployment, NOTICE, "cust-ana")

    # When SES reports it delivered, then (late, out of order) a delay, then the delivery again
    results = [
        deliver(deployment, ses_notification(event)) for event in ("Delivery", "DeliveryDelay", "Delivery")
    ]

    # Then it is delivered, at SES's time; the late delay and the replay changed nothing
    assert results == [{"moved": 1}, {"kept": 1}, {"kept": 1}]
    assert delivery_state(deployment, NOTICE) == (
        "delivered",
        "2026-11-24T12:00:01.412000+00:00",
        {"delivered"},
    )
    item = ledger_item(deployment, NOTICE) or {}
    assert item["status"] == {"S": "sent"}  # the one recorded outcome stays as it was


def test_a_complaint_after_the_delivery_is_a_later_fact_and_is_recorded(deployment: Deployment) -> None:
    sent_notice(deployment, NOTICE, "cust-ana")

    deliver(deployment, ses_notification("DeliveryDelay"), ses_notification("Delivery"))
    result = deliver(deployment, ses_notification("Complaint"))

    assert result == {"suppressed": 1}  # the address is suppressed, as before
    state, _, seen = delivery_state(deployment, NOTICE)
    assert (state, seen) == ("complained", {"delayed", "delivered", "complained"})


def test_a_receipt_for_an_unknown_notice_is_counted_and_dropped(
    deployment: Deployment, logs: io.StringIO
) -> None:
    result = deliver(deployment, ses_notification("Delivery", notice_id=OTHER_NOTICE))

    assert result == {"unknown": 1}
    assert ledger_item(deployment, OTHER_NOTICE) is None
    assert "Receipt for no notice in the ledger; dropped" in logs.getvalue()
    assert ADDRESS not in logs.getvalue()


def test_a_rejected_email_is_recorded_with_the_mails_own_time(deployment: Deployment) -> None:
    sent_notice(deployment, NOTICE, "cust-ana")

    assert deliver(deployment, ses_notification("Reject")) == {"moved": 1}

    assert delivery_state(deployment, NOTICE)[:2] == ("rejected", "2026-11-24T11:59:58.120000+00:00")


def test_an_unconfirmed_notice_is_resolved_by_its_receipt(deployment: Deployment) -> None:
    # Given a notice whose send headsup could not confirm
    sent_notice(deployment, NOTICE, "cust-ana", status="unconfirmed")

    # When SES first reports a delay (still trying), then the delivery
    delayed = deliver(deployment, ses_notification("DeliveryDelay"))
    delivered = deliver(deployment, ses_notification("Delivery"))

    # Then only the delivery settles it: it did go out, and it landed
    assert (delayed, delivered) == ({"moved": 1}, {"resolved": 1})
    item = ledger_item(deployment, NOTICE) or {}
    assert item["status"] == {"S": "unconfirmed"}  # what delivery knew stays its outcome
    assert item["resolved_by_receipt"] == {"S": "delivered"}
    assert item["resolved_at"] == {"S": "2026-11-24T12:00:01.412000+00:00"}
    # ...and a replay of the receipt resolves nothing more
    assert deliver(deployment, ses_notification("Delivery")) == {"kept": 1}
