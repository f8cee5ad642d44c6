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

from __future__ import annotations

import base64
import binascii
import gzip
import json
from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.receipts import ReceiptRecorder
    from headsup.platform.batch import AsyncRecords


class UnreadableLogsEvent(ValueError):
    """The invocation's event is not a CloudWatch Logs subscription payload."""


@once
def build_recorder() -> ReceiptRecorder:
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.receipt_ledger import DynamoFeedbackLedger
    from headsup.handlers.settings import SmsReceiptsSettings
    from headsup.logic.receipts import ReceiptRecorder

    settings = SmsReceiptsSettings.from_env()
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


@once
def records() -> AsyncRecords:
    from headsup.domain.sms_receipts import MalformedSmsStatus
    from headsup.platform.batch import AsyncRecords

    return AsyncRecords(
        what="SMS delivery status",
        id_of=lambda entry: {"log_event_id": entry.get("id")},
        malformed=(MalformedSmsStatus,),
        malformed_metric="MalformedSmsStatus",
    )


@logger.inject_lambda_context(log_event=False)  # the event holds phone numbers
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    from headsup.domain.sms_receipts import parse_sms_status
    from headsup.platform.batch import handle_each

    recorder = build_recorder()
    return handle_each(
        log_events(event),
        lambda entry: recorder.record_sms(parse_sms_status(str(entry.get("message", "")))).value,
        records(),
    )
