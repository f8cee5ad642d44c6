"""InboundSmsTopic (SNS; AWS End User Messaging two-way SMS) -> a customer's answer to the notice
they were sent, HELP, STOP, or a message for the team (logic/inbound_sms.py).

Each record is handled on its own (platform.batch.handle_each): a record that is not a readable
inbound SMS is logged with its SNS MessageId and the fields at fault (never the number or the
words), counted and dropped; one that could not be handled (DynamoDB or SNS throttled...) makes
the invocation fail once every record was tried, so Lambda retries it (twice, then
DetectorFailureQueue). A retry handles again only the messages not recorded as handled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.inbound_sms import InboundSmsService
    from headsup.platform.batch import AsyncRecords


@once
def build_service() -> InboundSmsService:
    from headsup.adapters.answers import DynamoAnswerEffects, DynamoAnswerLedger
    from headsup.adapters.inbound_sms import DynamoInboundLog, DynamoRecentNotices, DynamoSenders
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.preferences import DynamoPreferenceStore
    from headsup.adapters.senders import SnsSmsSender
    from headsup.handlers.settings import InboundSmsSettings
    from headsup.logic.answers import AnswerService, BusinessHours
    from headsup.logic.inbound_sms import InboundSmsService
    from headsup.rendering.sms_replies import SmsReplies

    settings = InboundSmsSettings.from_env()
    queue = SqsNoticeQueue(settings.notice_queue_url)
    return InboundSmsService(
        senders=DynamoSenders(settings.customers_table_name),
        notices=DynamoRecentNotices(settings.ledger_table_name),
        preferences=DynamoPreferenceStore(settings.preferences_table_name),
        log=DynamoInboundLog(settings.due_items_table_name),
        # The links' path, without their key: an SMS carries no link to verify.
        answers=AnswerService(
            ledger=DynamoAnswerLedger(settings.ledger_table_name),
            effects=DynamoAnswerEffects(settings.answer_tables),
            queue=queue,
            hours=BusinessHours(settings.quiet_hours_start, settings.quiet_hours_end),
            enabled_kinds=settings.enabled_answer_kinds,
            business_name=settings.business_name,
        ),
        queue=queue,
        replies=SnsSmsSender(),
        words=SmsReplies(settings.business_name),
        window=settings.answer_window,
        default_locale=settings.default_locale,
        default_timezone=settings.default_timezone,
    )


@once
def records() -> AsyncRecords:
    from headsup.domain.inbound_sms import MalformedInboundSms
    from headsup.platform.batch import AsyncRecords

    return AsyncRecords(
        what="inbound SMS",
        id_of=lambda record: _ids(record),
        malformed=(MalformedInboundSms,),
        malformed_metric="MalformedInboundSms",
    )


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds phone numbers and
# what customers wrote.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    from headsup.domain.inbound_sms import read_record
    from headsup.platform.batch import handle_each

    service = build_service()
    return handle_each(
        event.get("Records", []), lambda record: service.handle(read_record(record)), records()
    )


def _ids(record: dict[str, Any]) -> dict[str, Any]:
    sns = record.get("Sns")
    return {"sns_message_id": sns.get("MessageId") if isinstance(sns, dict) else None}
