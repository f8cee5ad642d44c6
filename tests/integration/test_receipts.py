"""Receipts end to end on moto from template.yaml: the simulated mail servers (sim.mailboxes) report
what became of each email in SES's event-publishing shape, through SesFeedbackTopic, and
SesFeedbackFunction records it on the notice's ledger item."""

from typing import Any

import boto3

from emulator import sent_emails
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline
from tests.stack import bill


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
