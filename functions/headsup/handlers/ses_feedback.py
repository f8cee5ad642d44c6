"""SesFeedbackTopic (SNS) -> each notice's delivery state (delivered, delayed, bounced, complained,
rejected); suppress bounced and complaining addresses; a notice that never arrived goes once
more by the customer's other channel (logic/receipts.py).

Each record is handled on its own, so one bad record never stops the others:

* a record that is not a readable SES notification is logged with its SNS MessageId and the
  fields at fault, counted, and dropped. It is not retried: the same bytes would fail the same
  way on every attempt.
* a record that could not be recorded (DynamoDB throttled or unavailable, an unexpected error)
  is logged, and once every record has been tried the invocation raises. SNS invokes Lambda
  asynchronously, and an asynchronous invocation that raises is retried by Lambda (twice, with
  back-off); returning normally would acknowledge the event and lose that bounce or complaint,
  so the address would keep being mailed. Retrying also re-handles the records that had
  succeeded, which is harmless: every write is idempotent (the same values, from SES's own
  timestamps, land again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.feedback import FeedbackRecorder
    from headsup.logic.receipts import ReceiptRecorder
    from headsup.platform.batch import AsyncRecords


@dataclass(frozen=True)
class Recorders:
    receipts: ReceiptRecorder  # what became of the email
    feedback: FeedbackRecorder  # whether the address may be mailed again


@once
def build_recorder() -> Recorders:
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.preferences import DynamoPreferenceStore
    from headsup.adapters.receipt_ledger import DynamoFeedbackLedger
    from headsup.handlers.settings import FeedbackSettings
    from headsup.logic.feedback import FeedbackRecorder
    from headsup.logic.receipts import ReceiptRecorder

    settings = FeedbackSettings.from_env()
    ledger = DynamoFeedbackLedger(settings.ledger_table_name)
    return Recorders(
        receipts=ReceiptRecorder(ledger=ledger, queue=SqsNoticeQueue(settings.notice_queue_url)),
        feedback=FeedbackRecorder(
            ledger=ledger, preferences=DynamoPreferenceStore(settings.preferences_table_name)
        ),
    )


def handle_record(record: dict[str, Any], recorder: Recorders) -> str:
    """One SNS record: the result (`suppressed`, `recorded`, `unattributed`, `ignored`)."""
    from headsup.domain.ses_feedback import MalformedFeedback, parse

    sns = record.get("Sns")
    message = sns.get("Message") if isinstance(sns, dict) else None
    if not isinstance(message, str):
        raise MalformedFeedback(["Sns.Message: Field required"])
    receipt, feedback = parse(message)
    if receipt is None and feedback is None:
        logger.info("SNS message reports nothing headsup records; ignored", extra=_ids(record))
        metrics.add_metric(name="FeedbackIgnored", unit="Count", value=1)
        return "ignored"
    result = recorder.receipts.record_email(receipt).value if receipt is not None else "ignored"
    # A bounce or complaint also decides whether the address may be mailed again.
    if feedback is not None:
        return recorder.feedback.record(feedback, now=datetime.now(UTC)).value
    return result


@once
def records() -> AsyncRecords:
    from headsup.domain.ses_feedback import MalformedFeedback
    from headsup.platform.batch import AsyncRecords

    return AsyncRecords(
        what="SES notification",
        id_of=lambda record: _ids(record),
        malformed=(MalformedFeedback,),
        malformed_metric="MalformedFeedback",
    )


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds email addresses.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    from headsup.platform.batch import handle_each

    recorder = build_recorder()
    return handle_each(event.get("Records", []), lambda record: handle_record(record, recorder), records())


def _ids(record: dict[str, Any]) -> dict[str, Any]:
    sns = record.get("Sns")
    return {"sns_message_id": sns.get("MessageId") if isinstance(sns, dict) else None}
