"""Receipts end to end on moto from template.yaml: the simulated mail servers (sim.mailboxes) report
what became of each email in SES's event-publishing shape, through SesFeedbackTopic, and
SesFeedbackFunction records it on the notice's ledger item."""

import io
import json
from datetime import datetime, timedelta
from typing import Any

import boto3

from emulator import sent_emails
from emulator.faults import FaultPlan, injected
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline
from tests.stack import BUSINESS_HOURS, bill


def ana_told_her_bill_went_up(pipeline: LocalPipeline) -> dict[str, Any]:
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()
    [entry] = pipeline.ledger()
    assert (entry["status"], entry["channel"]) == ("sent", "email")
    return entry


def test_a_delivered_email_is_recorded_as_delivered_after_its_delay(pipeline: LocalPipeline) -> None:
    # Given an email sent, whose mailbox is full for a while (every email delayed first, here)
    ana_told_her_bill_went_up(pipeline)
    mailboxes = Mailboxes(pipeline, seed=1, delayed=1.0, bounced=0.0)

    # When the mail servers report, and report again later
    assert mailboxes.report() == 1
    assert mailboxes.report() == 0  # each email is reported on once

    # Then the notice was sent, and SES says it landed
    [entry] = pipeline.ledger()
    assert entry["status"] == "sent"
    assert entry["delivery_state"] == "delivered"
    assert entry["delivery_seen"] == {"delayed", "delivered"}


def test_a_bounced_email_is_recorded_and_the_address_is_not_mailed_again(pipeline: LocalPipeline) -> None:
    entry = ana_told_her_bill_went_up(pipeline)

    Mailboxes(pipeline, seed=1, delayed=0.0, bounced=1.0).report()

    [after] = pipeline.ledger()
    assert after["delivery_state"] == "bounced:permanent"
    preferences = boto3.client("dynamodb").get_item(
        TableName=pipeline.deployment.ref("PreferencesTable"), Key={"customer_id": {"S": "cust-ana"}}
    )["Item"]
    assert preferences["suppressed_email"] == {"S": sent_emails()[0].destinations[0]}
    assert after["notice_id"] == entry["notice_id"]


# ------------------------------------------------------------------ unconfirmed, settled or counted


def unconfirmed_bill_email(pipeline: LocalPipeline) -> dict[str, Any]:
    """Ana's bill notice, accepted by SES but with no answer back to delivery: `unconfirmed`."""
    with injected(FaultPlan(seed=3)) as faults:
        faults.no_answer_after("sesv2", "SendEmail", times=1)
        pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
        pipeline.run()
    [entry] = pipeline.ledger()
    assert entry["status"] == "unconfirmed"
    assert len(sent_emails()) == 1  # SES has it, whatever delivery heard
    return entry


def test_an_unconfirmed_email_settled_by_its_receipt_is_not_counted_by_the_alarm(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given an unconfirmed notice, waiting for its receipt (an hour for email, by default)
    entry = unconfirmed_bill_email(pipeline)
    due = datetime.fromisoformat(entry["receipt_due_at"]) - datetime.fromisoformat(entry["completed_at"])
    assert due == timedelta(hours=1)

    # When SES reports it delivered, and the sweep runs after the window
    Mailboxes(pipeline, seed=1, delayed=0.0, bounced=0.0).report()
    swept = pipeline.sweep_at(BUSINESS_HOURS + timedelta(hours=2))

    # Then the receipt settled it and the alarm's metric counts nothing
    [after] = pipeline.ledger()
    assert (after["status"], after["resolved_by_receipt"]) == ("unconfirmed", "delivered")
    assert "unresolved" not in after
    assert swept["unresolved_unconfirmed"] == 0
    assert "unresolved after its receipt window" not in lambda_logs.getvalue()


def test_an_unconfirmed_email_with_no_receipt_is_counted_once_after_its_window(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given an unconfirmed notice that no receipt ever settles
    entry = unconfirmed_bill_email(pipeline)

    # When the sweep runs inside the window, after it, and again
    inside = pipeline.sweep_at(BUSINESS_HOURS + timedelta(minutes=30))
    after = pipeline.sweep_at(BUSINESS_HOURS + timedelta(hours=2))
    again = pipeline.sweep_at(BUSINESS_HOURS + timedelta(hours=3))

    # Then it is counted once, when its window is over, by its id
    assert (
        inside["unresolved_unconfirmed"],
        after["unresolved_unconfirmed"],
        again["unresolved_unconfirmed"],
    ) == (
        0,
        1,
        0,
    )
    warnings = [
        json.loads(line)
        for line in lambda_logs.getvalue().splitlines()
        if "unresolved after its receipt window" in line
    ]
    assert [w["notice_id"] for w in warnings] == [entry["notice_id"]]
