"""SMS receipts end to end on moto from template.yaml: the simulated phones (sim.mailboxes) report what
became of each SMS as SNS's delivery-status log lines, written to the log groups SNS writes to and
handed on by their subscriptions to SmsReceiptsFunction, which records them on the notice."""

import json
from typing import Any

import boto3
import pytest

from emulator import sent_sms
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline
from tests.stack import bill


def jonas_texted_that_his_bill_went_up(pipeline: LocalPipeline) -> dict[str, Any]:
    pipeline.put_bills([bill("cust-jonas", "2026-10", "100.00"), bill("cust-jonas", "2026-11", "150.00")])
    pipeline.run()
    [entry] = pipeline.ledger()
    assert (entry["status"], entry["channel"]) == ("sent", "sms")
    return entry


def lines_in(group: str) -> list[dict[str, Any]]:
    events = boto3.client("logs").filter_log_events(logGroupName=group)["events"]
    return [json.loads(event["message"]) for event in events]


@pytest.mark.parametrize(
    ("failed_permanently", "group", "status", "state"),
    [
        (0.0, "SmsDeliveredLogGroup", "SUCCESS", "delivered"),
        (1.0, "SmsFailedLogGroup", "FAILURE", "failed:permanent"),
    ],
)
def test_each_sms_is_reported_once_through_its_log_group_and_recorded_on_its_notice(
    pipeline: LocalPipeline, failed_permanently: float, group: str, status: str, state: str
) -> None:
    # Given an SMS SNS accepted
    entry = jonas_texted_that_his_bill_went_up(pipeline)
    [sms] = sent_sms()
    phones = Mailboxes(pipeline, seed=1, sms_failed=0.0, sms_failed_permanently=failed_permanently)

    # When the phones report, and report again later
    assert phones.report() == 1
    assert phones.report() == 0

    # Then SNS's line for it is in the group SNS writes such lines to
    [line] = lines_in(pipeline.deployment.ref(group))
    assert line["status"] == status
    assert line["notification"]["messageId"] == sms.message_id
    assert line["delivery"]["destination"] == sms.phone_number

    # ...and the receipts function recorded it on the notice
    recorded = next(e for e in pipeline.ledger() if e["notice_id"] == entry["notice_id"])
    assert recorded["delivery_state"] == state
