"""A notice that never arrived goes once more by the customer's other channel, on moto from
template.yaml: SES reports the bounce through SesFeedbackTopic, SesFeedbackFunction queues the
second attempt on NoticeQueue, and NoticeDeliveryFunction judges it like any other notice."""

import json
from datetime import UTC, datetime
from typing import Any

import time_machine

from emulator import sent_emails, sent_sms
from sim.mailboxes import Mailboxes, ses_event
from sim.pipeline import LocalPipeline
from tests.stack import ANA, bill

ANA_WITH_PHONE = {**ANA, "phone": "+14155550123", "channels": ["email", "sms"]}


def bill_emailed_then_bounced(pipeline: LocalPipeline, customer: dict[str, Any]) -> dict[str, Any]:
    """Ana's bill went up; the email went, and her mail server says the address does not exist."""
    pipeline.put_customers([customer])
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()
    [first] = pipeline.ledger()
    assert (first["status"], first["channel"]) == ("sent", "email")
    Mailboxes(pipeline, seed=1, delayed=0.0, bounced=1.0).report()
    return first


def by_id(pipeline: LocalPipeline) -> dict[str, dict[str, Any]]:
    return {entry["notice_id"]: entry for entry in pipeline.ledger()}


def test_a_bounced_bill_notice_goes_once_by_sms(pipeline: LocalPipeline) -> None:
    # Given a bill notice whose email bounced for good, for a customer who also takes SMS
    first = bill_emailed_then_bounced(pipeline, ANA_WITH_PHONE)

    # When the second attempt queued by the bounce is delivered, and SES reports the bounce again
    pipeline.deliver_notices()
    pipeline.ses_feedback.deliver(json.dumps(ses_event("Bounce", sent_emails()[0], datetime.now(UTC))))
    pipeline.deliver_notices()

    # Then the same notice went by SMS, once, recorded on the first attempt's item too
    [sms] = sent_sms()
    assert sms.phone_number == "+14155550123"
    assert "150" in sms.message
    entries = by_id(pipeline)
    original = entries[first["notice_id"]]
    assert original["delivery_state"] == "bounced:permanent"
    assert (original["fallback_status"], original["fallback_channel"]) == ("sent", "sms")
    second = entries[original["fallback_notice_id"]]
    assert (second["status"], second["channel"], second["fallback_of"]) == ("sent", "sms", first["notice_id"])
    assert len(entries) == 2
    # and what the customer was told is the SMS, not the email that never arrived
    assert "told_key" not in original
    assert second["told_key"] == second["story_key"]


def test_no_second_attempt_without_another_channel(pipeline: LocalPipeline) -> None:
    # Given Ana with only an email address
    first = bill_emailed_then_bounced(pipeline, ANA)

    pipeline.deliver_notices()

    # Then nothing more is sent, and her notice's item says why
    assert sent_sms() == []
    original = by_id(pipeline)[first["notice_id"]]
    assert original["fallback_status"] == "skipped"
    assert original["fallback_detail"].startswith("no_channel")


def test_no_second_attempt_by_sms_to_a_number_opted_out(pipeline: LocalPipeline) -> None:
    # Given Ana's phone opted out of SMS with the carriers (moto: numbers ending in 99)
    first = bill_emailed_then_bounced(pipeline, {**ANA_WITH_PHONE, "phone": "+14155550199"})

    pipeline.deliver_notices()

    assert sent_sms() == []
    original = by_id(pipeline)[first["notice_id"]]
    assert original["fallback_status"] == "skipped"
    assert "sms: number opted out" in original["fallback_detail"]


def test_a_second_attempt_by_sms_in_quiet_hours_is_held_until_morning(pipeline: LocalPipeline) -> None:
    # Given the bounce reported at 21:30 on Ana's clock (emails may go then; SMS may not)
    with time_machine.travel(datetime(2026, 11, 25, 5, 30, tzinfo=UTC), tick=True):
        first = bill_emailed_then_bounced(pipeline, ANA_WITH_PHONE)
        pipeline.deliver_notices()

    # Then the SMS waits for 08:00 on her clock
    assert sent_sms() == []
    original = by_id(pipeline)[first["notice_id"]]
    second = by_id(pipeline)[original["fallback_notice_id"]]
    assert (second["status"], second["reason"]) == ("held", "quiet_hours")
    assert second["hold_until"] == "2026-11-25T16:00:00+00:00"
    assert original["fallback_status"] == "held"


def test_a_team_notice_never_falls_back(pipeline: LocalPipeline) -> None:
    # Given a report of a permanent failure naming a notice the team was sent (no request kept)
    pipeline.put_customers([ANA_WITH_PHONE])
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()
    [entry] = pipeline.ledger()
    email = sent_emails()[0]
    event = ses_event("Bounce", email, datetime.now(UTC))
    # (a customer notice, as far as SES knows, but the ledger item has nothing to resend)
    pipeline.put_items(
        "NoticeLedgerTable",
        [{"notice_id": "f" * 32, "customer_id": "team", "status": "sent", "channel": "escalation_topic"}],
    )
    event["mail"]["tags"] = {"notice_id": ["f" * 32]}
    pipeline.ses_feedback.deliver(json.dumps(event))
    pipeline.deliver_notices()

    assert sent_sms() == []
    assert "fallback_notice_id" not in by_id(pipeline)["f" * 32]
    assert "fallback_notice_id" not in by_id(pipeline)[entry["notice_id"]]
