"""EventBridge schedule -> one sweep of DueItemsTable at the event's own time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.adapters.receipt_ledger import DynamoUnresolvedNotices
    from headsup.handlers.settings import SweepSettings
    from headsup.logic.sweep import Sweep


@once
def settings() -> SweepSettings:
    from headsup.handlers.settings import SweepSettings

    return SweepSettings.from_env()


@once
def build_sweep() -> Sweep:
    from functools import partial
    from zoneinfo import ZoneInfo

    import boto3
    from botocore.config import Config

    from headsup.adapters.customers import DynamoCustomerDirectory
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.adapters.notice_queue import NoticeOutbox, SqsNoticeQueue
    from headsup.adapters.source_items import DynamoSourceItems
    from headsup.logic.sweep import MAX_WORKERS, Sweep

    config = settings()
    # One client per service, shared by the shards' workers (boto3 clients are thread-safe), with a
    # connection for each: beyond its pool (10 by default) a client opens and drops one per call.
    pool = Config(max_pool_connections=MAX_WORKERS)
    dynamodb, sqs = boto3.client("dynamodb", config=pool), boto3.client("sqs", config=pool)
    queue = SqsNoticeQueue(config.notice_queue_url, sqs)
    return Sweep(
        due_items=DynamoDueItems(
            config.due_items_table_name, config.due_index_shards, config.due_index_name, dynamodb
        ),
        sources={
            "callback": DynamoSourceItems(config.callbacks_table_name, "callback_id", dynamodb),
            "ticket": DynamoSourceItems(config.tickets_table_name, "ticket_id", dynamodb),
            "visit": DynamoSourceItems(config.visits_table_name, "visit_id", dynamodb),
        },
        customers=DynamoCustomerDirectory(
            config.customers_table_name,
            default_locale=config.default_locale,
            default_timezone=config.default_timezone,
            client=dynamodb,
        ),
        outboxes=partial(NoticeOutbox, queue),  # one per shard's worker, sent ten at a time
        callback_policy=config.callback_policy,
        ticket_policy=config.ticket_policy,
        default_zone=ZoneInfo(config.default_timezone),
    )


@once
def build_unresolved() -> DynamoUnresolvedNotices:
    from headsup.adapters.receipt_ledger import DynamoUnresolvedNotices

    return DynamoUnresolvedNotices(settings().ledger_table_name)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

    from headsup.logic.receipts import count_unresolved

    # The event's time, not the clock: a replayed or retried sweep decides exactly the same.
    now = datetime.fromisoformat(EventBridgeEvent(event).time)
    report = build_sweep().run(
        now, time_left=lambda: timedelta(milliseconds=context.get_remaining_time_in_millis())
    )
    unresolved = count_unresolved(build_unresolved(), now)
    return {**report.summary(), "stopped_early": report.stopped_early, "unresolved_unconfirmed": unresolved}
