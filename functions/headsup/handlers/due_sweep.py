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
    from zoneinfo import ZoneInfo

    from headsup.adapters.customers import DynamoCustomerDirectory
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.source_items import DynamoSourceItems
    from headsup.logic.sweep import Sweep

    config = settings()
    return Sweep(
        due_items=DynamoDueItems(config.due_items_table_name, config.due_index_shards, config.due_index_name),
        sources={
            "callback": DynamoSourceItems(config.callbacks_table_name, "callback_id"),
            "ticket": DynamoSourceItems(config.tickets_table_name, "ticket_id"),
            "visit": DynamoSourceItems(config.visits_table_name, "visit_id"),
        },
        customers=DynamoCustomerDirectory(
            config.customers_table_name,
            default_locale=config.default_locale,
            default_timezone=config.default_timezone,
        ),
        queue=SqsNoticeQueue(config.notice_queue_url).outbox,  # sent ten at a time
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
