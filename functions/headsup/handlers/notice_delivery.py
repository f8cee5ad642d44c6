"""NoticeQueue -> one recorded outcome per notice. Failed messages are retried, then dead-lettered."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers):
# the rendering (Jinja2, Babel) and phonenumbers come with the delivery.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.senders import SesEmailSender
    from headsup.domain.notices import NoticeRequest
    from headsup.handlers.settings import DeliverySettings
    from headsup.logic.delivery import NoticeDelivery
    from headsup.logic.pacing import SendPacer
    from headsup.rendering.renderer import NoticeRenderer

# A claim must outlive the invocation that holds it, with room for clock skew.
_LEASE_MARGIN = timedelta(seconds=10)


@once
def settings() -> DeliverySettings:
    from headsup.handlers.settings import DeliverySettings

    return DeliverySettings.from_env()


def build_renderer(config: DeliverySettings) -> NoticeRenderer:
    from zoneinfo import ZoneInfo

    from babel import Locale

    from headsup.rendering.renderer import NoticeRenderer

    return NoticeRenderer(
        config.templates_dir,
        business_name=config.business_name,
        support_reply_to=config.support_reply_to,
        team_locale=Locale.parse(config.default_locale, sep="-"),
        team_zone=ZoneInfo(config.default_timezone),
        two_way_sms_kinds=config.sms_answer_kinds,
    )


def build_email(config: DeliverySettings) -> SesEmailSender:
    from headsup.adapters.senders import EmailIdentity, SesEmailSender, TrackedConfigurationSet
    from headsup.domain.kinds import KINDS

    return SesEmailSender(
        EmailIdentity(config.sender_email, name=config.business_name, reply_to=config.support_reply_to),
        configuration_set=config.ses_configuration_set,
        tracked=TrackedConfigurationSet(
            config.ses_tracked_configuration_set,
            kinds=frozenset(kind for kind, spec in KINDS.items() if spec.topic in config.tracked_topics),
        ),
    )


@once
def build_queue() -> SqsNoticeQueue:
    """Where a notice waiting for the sending rate goes back to (NoticeQueue itself)."""
    from headsup.adapters.notice_queue import SqsNoticeQueue

    return SqsNoticeQueue(settings().notice_queue_url)


def build_pacer(config: DeliverySettings) -> SendPacer:
    """Emails go at the account's own pace, shared by every concurrent delivery. A short wait for
    a place sleeps (`time.sleep` looked up at each call: the local stack's virtual clock replaces it)."""
    from headsup.adapters.pace import DynamoPaceBucket, SesAccountQuota
    from headsup.logic.pacing import SendPacer

    return SendPacer(
        SesAccountQuota(),
        DynamoPaceBucket(config.sending_pace_table_name),
        sleep=lambda seconds: time.sleep(seconds),
    )


@once
def build_delivery() -> NoticeDelivery:
    from zoneinfo import ZoneInfo

    from headsup.adapters.customers import DynamoCustomerDirectory
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.adapters.dynamodb import BatchReads
    from headsup.adapters.held_notices import DueItemsHeldNotices
    from headsup.adapters.ledger import DynamoLedger
    from headsup.adapters.preferences import DynamoPreferenceStore
    from headsup.adapters.secrets import read_signing_key
    from headsup.adapters.senders import SnsSmsSender, SnsTeamPublisher
    from headsup.adapters.sent_log import DynamoSentLogs
    from headsup.adapters.source_items import DynamoSourceReader
    from headsup.logic.delivery import NoticeDelivery
    from headsup.rendering.links import AnswerLinks, UnsubscribeLinks

    config = settings()
    # A batch's customers, preferences and the items its waiting notices state facts about:
    # prefetched together, in one BatchGetItem.
    batch_reads = BatchReads()
    signing_key = read_signing_key(config.unsubscribe_key_secret_arn)
    # The customer's preferences item is read once and serves both their choices and their sent
    # log (the daily cap), which each claim of a notice for them writes in the same transaction.
    preferences = DynamoPreferenceStore(config.preferences_table_name, reads=batch_reads)
    return NoticeDelivery(
        customers=DynamoCustomerDirectory(
            config.customers_table_name,
            default_locale=config.default_locale,
            default_timezone=config.default_timezone,
            reads=batch_reads,
        ),
        ledger=DynamoLedger(
            config.ledger_table_name,
            retention=config.ledger_retention,
            receipt_windows=config.receipt_windows,
            sent_logs=DynamoSentLogs(
                config.preferences_table_name, preferences, keep=config.delivery_policy.max_per_day
            ),
        ),
        renderer=build_renderer(config),
        email=build_email(config),
        sms=SnsSmsSender(origination_number=config.sms_origination_number or None),
        team=SnsTeamPublisher(config.escalation_topic_arn),
        preferences=preferences,
        policy=config.delivery_policy,
        holds=DueItemsHeldNotices(DynamoDueItems(config.due_items_table_name, config.due_index_shards)),
        unsubscribe_links=UnsubscribeLinks(config.unsubscribe_base_url, key=signing_key),
        answer_links=AnswerLinks(
            config.unsubscribe_base_url,
            key=signing_key,
            kinds=config.answer_kinds_enabled,
            valid_for=timedelta(days=config.answer_link_days),
        ),
        sources=DynamoSourceReader(config.source_tables, reads=batch_reads),
        recheck=config.recheck_policy,
        team_zone=ZoneInfo(config.default_timezone),
        pacer=build_pacer(config),
    )


class MalformedNoticeMessage(ValueError):
    """An SQS message that is not a valid notice request (it will end in the dead-letter queue)."""


def handle_record(
    record: SQSRecord, lambda_context: LambdaContext, request: NoticeRequest | None = None
) -> None:
    """Deliver one message's notice; `request` is its body already read (by readable_requests)."""
    from pydantic import ValidationError

    from headsup.adapters.notice_queue import waits_of
    from headsup.domain.notices import NoticeRequest
    from headsup.logic.delivery import Attempt
    from headsup.logic.pacing import RateWait

    try:
        request = request or NoticeRequest.model_validate_json(record.body)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "body" for e in exc.errors()})
        logger.error("Malformed notice message", extra={"message_id": record.message_id, "fields": fields})
        raise MalformedNoticeMessage(f"message {record.message_id} invalid at {', '.join(fields)}") from exc
    attempt = Attempt(
        number=int(record.attributes.approximate_receive_count),
        max_attempts=settings().max_receive_count,
        lease_until=datetime.now(UTC)
        + timedelta(milliseconds=lambda_context.get_remaining_time_in_millis())
        + _LEASE_MARGIN,
        waits=waits_of(record.raw_event.get("messageAttributes") or {}),
    )
    try:
        build_delivery().deliver(request, attempt)
    except RateWait as wait:
        # Back to the queue as a new message, hidden until its turn: the original is acknowledged,
        # so a wait never counts towards NoticeMaxReceiveCount. If this fails, the record fails.
        build_queue().put_later(request, wait.delay, wait.waits)
        logger.info(
            "Notice waits for the sending rate",
            extra={
                "notice_id": request.notice_id,
                "kind": request.kind,
                "reason": wait.reason,
                "delay_s": round(wait.delay.total_seconds()),
                "waits": wait.waits.count,
            },
        )


def readable_requests(event: dict[str, Any]) -> dict[str, tuple[NoticeRequest, int]]:
    """The batch's notice requests with their receive counts, by SQS message id, read once for
    the batch (prefetching, then delivery) and leniently: a malformed body fails later, alone."""
    from pydantic import ValidationError

    from headsup.domain.notices import NoticeRequest

    readable = {}
    for record in event.get("Records", []):
        try:
            request = NoticeRequest.model_validate_json(record.get("body", ""))
            receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
        except (ValidationError, TypeError, ValueError):
            continue
        readable[str(record.get("messageId"))] = (request, receive_count)
    return readable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.batch import EventType

    from headsup.platform.batch import process_batch

    read = readable_requests(event)
    delivery = build_delivery()
    delivery.prefetch(read.values())

    def handle(record: SQSRecord, lambda_context: LambdaContext) -> None:
        request, _ = read.get(record.message_id, (None, 0))
        handle_record(record, lambda_context, request)

    try:
        return process_batch(event, context, handle, EventType.SQS)
    finally:
        delivery.finish_batch()  # places in the pace not used; counts, before log_metrics flushes them
