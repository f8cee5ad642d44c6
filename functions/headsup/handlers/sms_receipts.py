"""SNS's SMS delivery-status logs (a CloudWatch Logs subscription) -> each SMS notice's delivery
state; a notice whose SMS failed for good goes once more by email (logic/receipts.py).

The log lines hold the destination phone number. Nothing of a line is logged but its log event
id and SNS's message id. Each line is handled on its own:

* a line that is not SNS's delivery status is logged with its log event id and the fields at
  fault, counted, and dropped: the same bytes would fail the same way on every retry;
* a line that could not be recorded (DynamoDB throttled, an unexpected error) is logged, and
  once every line has been tried the invocation raises. CloudWatch Logs invokes the function
  asynchronously, so Lambda retries it twice and then parks it in DetectorFailureQueue
  (EventInvokeConfig). Retrying re-handles the lines that had succeeded, which changes nothing:
  a receipt never moves a state backwards and the second attempt is queued under one id.
"""

import base64
import binascii
import gzip
import json
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.adapters.receipt_ledger import DynamoFeedbackLedger
from headsup.domain.sms_receipts import MalformedSmsStatus, parse_sms_status
from headsup.handlers.settings import SmsReceiptsSettings
from headsup.logic.receipts import ReceiptRecorder
from headsup.platform.cold_start import once_from
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics, tracer


class SmsReceiptsNotRecorded(RuntimeError):
    """Some lines could not be recorded; raised so that Lambda retries the invocation."""

    def __init__(self, log_event_ids: list[str]) -> None:
        self.log_event_ids = log_event_ids
        super().__init__(f"SMS receipts not recorded for log event(s) {', '.join(log_event_ids)}")


class UnreadableLogsEvent(ValueError):
    """The invocation's event is not a CloudWatch Logs subscription payload."""


@once_from(SmsReceiptsSettings)
def build_recorder(settings: SmsReceiptsSettings) -> ReceiptRecorder:
    return ReceiptRecorder(
        ledger=DynamoFeedbackLedger(settings.ledger_table_name),
        queue=SqsNoticeQueue(settings.notice_queue_url),
    )


def log_events(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The log events in a subscription payload (base64 of gzip of JSON); none for the
    CONTROL_MESSAGE CloudWatch Logs sends to check that the destination is reachable."""
    try:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"], validate=True)))
    except (KeyError, TypeError, ValueError, binascii.Error, OSError, EOFError) as exc:
        raise UnreadableLogsEvent(f"awslogs.data: {type(exc).__name__}") from exc
    if data.get("messageType") != "DATA_MESSAGE":
        return []
    return [entry for entry in data.get("logEvents", []) if isinstance(entry, dict)]


@logger.inject_lambda_context(log_event=False)  # the event holds phone numbers
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    recorder = build_recorder()
    results: Counter[str] = Counter()
    failed: list[str] = []
    for entry in log_events(event):
        ids = {"log_event_id": entry.get("id")}
        try:
            results[recorder.record_sms(parse_sms_status(str(entry.get("message", "")))).value] += 1
        except MalformedSmsStatus as exc:
            logger.error("Malformed SMS delivery status; dropped", extra={**ids, "problems": exc.problems})
            metrics.add_metric(name="MalformedSmsStatus", unit="Count", value=1)
            results["malformed"] += 1
        # Any other error must not stop the lines after this one; re-raised once all were tried.
        except Exception as exc:  # noqa: BLE001
            logger.error(
                "SMS receipt not recorded; the invocation will be retried",
                extra={**ids, "error": describe_error(exc)},
            )
            metrics.add_metric(name="FeedbackErrors", unit="Count", value=1)
            failed.append(str(entry.get("id")))
    if failed:
        raise SmsReceiptsNotRecorded(failed) from None
    return dict(results)
