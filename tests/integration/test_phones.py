"""SMS receipts end to end on moto from template.yaml: the simulated phones (sim.mailboxes) report what
became of each SMS as SNS's delivery-status log lines, written to the log groups SNS writes to and
handed on by their subscriptions to SmsReceiptsFunction, which records them on the notice."""

import io
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from emulator import sent_emails, sent_sms
from sim.mailboxes import SMS_DELIVERED, SMS_FAILED_TRANSIENTLY, Mailboxes, sms_status_log
from sim.pipeline import LocalPipeline
from tests.stack import BUSINESS_HOURS, JONAS, bill


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


# ------------------------------------------------------------------ the function, line by line


def status(sms: Any, response: str, *, delivered: bool, minutes: int = 0) -> str:
    at = BUSINESS_HOURS + timedelta(minutes=minutes)
    return json.dumps(sms_status_log(sms.message_id, sms.phone_number, response, at, delivered=delivered))


def test_replayed_and_late_lines_never_move_a_receipt_back(pipeline: LocalPipeline) -> None:
    # Given Jonas's SMS, reported delivered
    entry = jonas_texted_that_his_bill_went_up(pipeline)
    [sms] = sent_sms()
    first = pipeline.sms_delivered.deliver([status(sms, SMS_DELIVERED, delivered=True, minutes=1)])

    # When the same line comes again, and an earlier "unreachable" arrives after it
    replay = pipeline.sms_delivered.deliver([status(sms, SMS_DELIVERED, delivered=True, minutes=1)])
    late = pipeline.sms_failed.deliver([status(sms, SMS_FAILED_TRANSIENTLY[0], delivered=False)])

    # Then the state stays delivered, with every state seen kept
    assert (first, replay, late) == ({"moved": 1}, {"kept": 1}, {"kept": 1})
    [after] = pipeline.ledger()
    assert (after["notice_id"], after["delivery_state"]) == (entry["notice_id"], "delivered")


def test_a_bad_or_foreign_line_fails_alone_and_is_logged_without_the_number(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given Jonas's SMS, and a batch with a malformed line, a line for a message that is not ours,
    # and his SMS's line
    jonas_texted_that_his_bill_went_up(pipeline)
    [sms] = sent_sms()
    foreign = json.dumps(
        sms_status_log("not-ours", "+14155550142", SMS_DELIVERED, BUSINESS_HOURS, delivered=True)
    )
    malformed = json.dumps(
        {"notification": {"messageId": sms.message_id}, "delivery": {"destination": "+14155550143"}}
    )

    # When the subscription hands the batch to the function
    result = pipeline.sms_delivered.deliver([malformed, foreign, status(sms, SMS_DELIVERED, delivered=True)])

    # Then the good line is recorded, the others counted and dropped, and no phone number is logged
    assert result == {"malformed": 1, "unknown": 1, "moved": 1}
    [after] = pipeline.ledger()
    assert after["delivery_state"] == "delivered"
    logged = lambda_logs.getvalue()
    assert "Malformed SMS delivery status; dropped" in logged
    assert "Receipt for no notice in the ledger; dropped" in logged
    for number in ("+14155550142", "+14155550143", sms.phone_number):
        assert number not in logged


def test_an_sms_that_failed_for_good_goes_once_by_email(pipeline: LocalPipeline) -> None:
    # Given Jonas (SMS first, then email) with an address, whose SMS the carrier blocked
    pipeline.put_customers([{**JONAS, "email": "jonas.weber@example.com"}])
    entry = jonas_texted_that_his_bill_went_up(pipeline)
    [sms] = sent_sms()
    blocked = status(sms, "Phone carrier has blocked this message", delivered=False)

    # When the line is reported, twice, and the second attempt is delivered
    pipeline.sms_failed.deliver([blocked])
    pipeline.sms_failed.deliver([blocked])
    pipeline.deliver_notices()

    # Then the bill notice went once by email, and the SMS's item tells the whole story
    [email] = sent_emails()
    assert email.destinations == ["jonas.weber@example.com"]
    first = next(e for e in pipeline.ledger() if e["notice_id"] == entry["notice_id"])
    assert (first["delivery_state"], first["delivery_detail"]) == ("failed:permanent", "blocked")
    assert (first["fallback_status"], first["fallback_channel"]) == ("sent", "email")
