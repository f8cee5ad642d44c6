"""SES bounces and complaints: parsing and the rules with in-memory fakes, then the real handler on
moto with template.yaml provisioned, driven with the Lambda SNS events SES's notifications arrive in."""

import base64
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from headsup.domain.preferences import Preferences
from headsup.domain.ses_feedback import FeedbackType, MalformedFeedback, SesFeedback, parse_notification
from headsup.handlers.ses_feedback import FeedbackNotRecorded
from headsup.logic.feedback import FeedbackRecorder, FeedbackResult
from moto import mock_aws

from emulator import Deployment, provision
from sim.pipeline import lambda_output_to

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOTICE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_NOTICE = "00112233445566778899aabbccddeeff"
ADDRESS = "ana.souza@example.com"
OTHER_ADDRESS = "jonas.weber@example.org"


# ------------------------------------------------------------------------------------------- events


def ses_notification(
    event_type: str,
    *,
    notice_id: str | None = NOTICE,
    address: str = ADDRESS,
    bounce_type: str = "Permanent",
    tagged: bool = True,
    key: str = "eventType",
) -> dict[str, Any]:
    """SES's notification for one email delivery sent (event publishing through a configuration
    set, as template.yaml sets up; `key="notificationType"` for the classic identity notifications)."""
    headers = [
        {"name": "From", "value": "Example Co <notices@example.com>"},
        {"name": "To", "value": address},
        {"name": "Subject", "value": "Your bill went up"},
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
    ]
    tags: dict[str, list[str]] = {
        "ses:configuration-set": ["headsup-local-SesConfigurationSet"],
        "ses:source-ip": ["192.0.2.20"],
        "ses:from-domain": ["example.com"],
        "ses:caller-identity": ["headsup-NoticeDeliveryFunction-role"],
        "kind": ["bill_increase"],
    }
    if notice_id is not None:
        headers.append({"name": "X-Headsup-Notice-Id", "value": notice_id})
        if tagged:
            tags["notice_id"] = [notice_id]
    mail = {
        "timestamp": "2026-11-24T11:59:58.120Z",
        "source": "Example Co <notices@example.com>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        "sendingAccountId": "123456789012",
        "messageId": "0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
        "destination": [address],
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": ["Example Co <notices@example.com>"],
            "to": [address],
            "messageId": "0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
            "subject": "Your bill went up",
        },
    }
    if key == "eventType":
        mail["tags"] = tags  # classic notifications carry no tags
    notification: dict[str, Any] = {key: event_type, "mail": mail}
    if event_type == "Bounce":
        permanent = bounce_type == "Permanent"
        notification["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General" if permanent else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if permanent else "4.2.2",
                    "diagnosticCode": f"smtp; 550 5.1.1 <{address}>: user unknown"
                    if permanent
                    else "smtp; 452 4.2.2 mailbox full",
                }
            ],
            "timestamp": "2026-11-24T12:00:02.669Z",
            "feedbackId": "0100019a5b1c3f00-11111111-2222-3333-4444-555555555555-000000",
            "reportingMTA": "dsn; a8-50.smtp-out.amazonses.com",
        }
    elif event_type == "Complaint":
        notification["complaint"] = {
            "complainedRecipients": [{"emailAddress": address}],
            "timestamp": "2026-11-24T13:15:00.000Z",
            "feedbackId": "0100019a5b1c4a11-66666666-7777-8888-9999-000000000000-000000",
            "userAgent": "Yahoo!-Mail-Feedback/2.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-11-24T13:14:58.000Z",
        }
    return notification


def sns_record(deployment: Deployment, message: str) -> dict[str, Any]:
    """One record of the event Lambda is invoked with for a message on SesFeedbackTopic."""
    topic_arn = deployment.ref("SesFeedbackTopic")
    endpoint = f"https://sns.{deployment.region}.amazonaws.com"
    subscription_arn = f"{topic_arn}:4c5d1f0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": None,
            "Message": message,
            "Timestamp": "2026-11-24T12:00:03.001Z",
            "SignatureVersion": "1",
            "Signature": base64.b64encode(b"Z" * 256).decode(),  # shape only: nothing verifies it
            "SigningCertUrl": f"{endpoint}/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "UnsubscribeUrl": f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            "MessageAttributes": {},
        },
    }


def sns_event(deployment: Deployment, *messages: str) -> dict[str, Any]:
    return {"Records": [sns_record(deployment, message) for message in messages]}


# ------------------------------------------------------------------------------------------- fakes


@dataclass
class InMemoryPreferences:
    suppressed: dict[str, tuple[str, str]] = field(default_factory=dict)  # customer -> (address, reason)

    def get(self, customer_id: str) -> Preferences:
        address = self.suppressed.get(customer_id, (None, None))[0]
        return Preferences(customer_id, suppressed_email=address)

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        raise AssertionError("feedback never opts out of a topic")

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        self.suppressed[customer_id] = (address, reason)


@dataclass
class InMemoryFeedbackLedger:
    """Like the table: only notices it holds can be marked, and marking returns their customer."""

    customers: dict[str, str] = field(default_factory=dict)  # notice id -> customer id
    feedback: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        if notice_id not in self.customers:
            return None
        self.feedback[notice_id] = (feedback, at)
        return self.customers[notice_id]


def recorder(ledger: InMemoryFeedbackLedger, preferences: InMemoryPreferences) -> FeedbackRecorder:
    return FeedbackRecorder(ledger=ledger, preferences=preferences)


# ------------------------------------------------------------------------------------------- parsing


def test_a_permanent_bounce_is_read_with_its_notice_and_bare_address() -> None:
    feedback = parse_notification(json.dumps(ses_notification("Bounce")))

    assert feedback == SesFeedback(
        type=FeedbackType.BOUNCE,
        ses_message_id="0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
        notice_id=NOTICE,
        recipients=(ADDRESS,),
        bounce_type="Permanent",
        occurred_at=datetime(2026, 11, 24, 12, 0, 2, 669000, tzinfo=UTC),
    )
    assert (feedback.outcome, feedback.suppresses) == ("bounce:Permanent", True)


@pytest.mark.parametrize(
    ("notification", "outcome", "suppresses"),
    [
        (ses_notification("Complaint"), "complaint", True),
        (ses_notification("Bounce", bounce_type="Transient"), "bounce:Transient", False),
        (ses_notification("Bounce", bounce_type="Undetermined"), "bounce:Undetermined", False),
        # Classic identity notifications: `notificationType`, no tags, the header names the notice.
        (ses_notification("Bounce", key="notificationType"), "bounce:Permanent", True),
        (ses_notification("Complaint", key="notificationType"), "complaint", True),
    ],
)
def test_what_each_kind_of_feedback_does(
    notification: dict[str, Any], outcome: str, suppresses: bool
) -> None:
    feedback = parse_notification(json.dumps(notification))

    assert feedback is not None
    assert feedback.notice_id == NOTICE
    assert (feedback.outcome, feedback.suppresses) == (outcome, suppresses)


def test_the_notice_id_comes_from_the_header_when_the_tag_is_missing() -> None:
    feedback = parse_notification(json.dumps(ses_notification("Bounce", tagged=False)))

    assert feedback is not None
    assert feedback.notice_id == NOTICE


def test_an_email_without_a_valid_notice_id_cannot_be_attributed() -> None:
    untagged = parse_notification(json.dumps(ses_notification("Bounce", notice_id=None)))
    forged = parse_notification(json.dumps(ses_notification("Bounce", notice_id="../../etc/passwd")))

    assert untagged is not None
    assert untagged.notice_id is None
    assert forged is not None
    assert forged.notice_id is None


@pytest.mark.parametrize(
    "message",
    [
        "Successfully validated SNS topic for Amazon SES event publishing.",
        json.dumps({**ses_notification("Bounce"), "eventType": "Delivery"}),
        json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded", "mail": {"messageId": "x"}}),
    ],
)
def test_other_messages_ses_publishes_need_no_action(message: str) -> None:
    assert parse_notification(message) is None


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("not json at all " + ADDRESS, "Invalid JSON"),
        (json.dumps({"eventType": "Bounce"}), "mail: Field required"),
        (json.dumps({k: v for k, v in ses_notification("Bounce").items() if k != "bounce"}), "bounce"),
        (
            json.dumps(
                {**ses_notification("Bounce"), "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}
            ),
            "bounce.bouncedRecipients",
        ),
        (
            json.dumps({**ses_notification("Complaint"), "complaint": {"complainedRecipients": [{}]}}),
            "complaint.complainedRecipients.0.emailAddress: Field required",
        ),
    ],
)
def test_a_malformed_message_names_what_is_wrong_never_the_address(message: str, problem: str) -> None:
    with pytest.raises(MalformedFeedback) as caught:
        parse_notification(message)

    assert problem in str(caught.value)
    assert ADDRESS not in str(caught.value)


# ------------------------------------------------------------------------------------------- rules


def test_a_permanent_bounce_suppresses_the_address_and_marks_the_notice() -> None:
    # Given a notice sent to cust-ana
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Bounce")))
    assert feedback is not None

    # When its permanent bounce is recorded
    result = recorder(ledger, preferences).record(feedback, now=NOW)

    # Then the address is suppressed for that customer and the notice says why, at SES's time
    assert result is FeedbackResult.SUPPRESSED
    assert preferences.suppressed == {"cust-ana": (ADDRESS, "bounce:Permanent")}
    assert ledger.feedback == {
        NOTICE: ("bounce:Permanent", datetime(2026, 11, 24, 12, 0, 2, 669000, tzinfo=UTC))
    }


def test_a_complaint_suppresses_the_address_and_marks_the_notice() -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Complaint")))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.SUPPRESSED
    assert preferences.suppressed == {"cust-ana": (ADDRESS, "complaint")}
    assert ledger.feedback[NOTICE][0] == "complaint"


def test_a_transient_bounce_is_only_recorded() -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Bounce", bounce_type="Transient")))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.RECORDED
    assert preferences.suppressed == {}
    assert ledger.feedback[NOTICE][0] == "bounce:Transient"


@pytest.mark.parametrize("notice_id", [OTHER_NOTICE, None])
def test_feedback_for_no_notice_of_ours_is_skipped(notice_id: str | None) -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Complaint", notice_id=notice_id)))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.UNATTRIBUTED
    assert (preferences.suppressed, ledger.feedback) == ({}, {})


# ------------------------------------------------------------------------------------------- handler


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    saved = dict(os.environ)  # invoke() leaves the function's environment set, as a warm Lambda would
    with mock_aws():
        yield provision()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def logs(deployment: Deployment) -> Iterator[io.StringIO]:
    with lambda_output_to(io.StringIO(), deployment) as buffer:
        yield buffer  # type: ignore[misc]


def dynamodb(deployment: Deployment) -> Any:
    return boto3.client("dynamodb", region_name=deployment.region)


def sent_notice(deployment: Deployment, notice_id: str, customer_id: str) -> None:
    """A ledger item as delivery leaves it once the email is sent."""
    dynamodb(deployment).put_item(
        TableName=deployment.ref("NoticeLedgerTable"),
        Item={
            "notice_id": {"S": notice_id},
            "status": {"S": "sent"},
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
    with pytest.raises(FeedbackNotRecorded) as caught:
        deployment.invoke("SesFeedbackFunction", event)

    # Then the record after the failed one was still processed, and the failure names its record
    assert caught.value.sns_message_ids == [event["Records"][0]["Sns"]["MessageId"]]
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
