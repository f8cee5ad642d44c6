"""EventBridge schedule -> one sweep of DueItemsTable at the event's own time."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.customers import DynamoCustomerDirectory
from headsup.adapters.due_items import DynamoDueItems
from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.adapters.receipt_ledger import DynamoUnresolvedNotices
from headsup.adapters.source_items import DynamoSourceItems
from headsup.handlers.settings import SweepSettings
from headsup.logic.receipts import count_unresolved
from headsup.logic.sweep import Sweep
from headsup.platform.cold_start import once_from
from headsup.platform.observability import logger, metrics, tracer


@once_from(SweepSettings)
def build_sweep(settings: SweepSettings) -> Sweep:
    return Sweep(
        due_items=DynamoDueItems(
            settings.due_items_table_name, settings.due_index_shards, settings.due_index_name
        ),
        sources={
            "callback": DynamoSourceItems(settings.callbacks_table_name, "callback_id"),
            "ticket": DynamoSourceItems(settings.tickets_table_name, "ticket_id"),
            "visit": DynamoSourceItems(settings.visits_table_name, "visit_id"),
        },
        customers=DynamoCustomerDirectory(
            settings.customers_table_name,
            default_locale=settings.default_locale,
            default_timezone=settings.default_timezone,
        ),
        queue=SqsNoticeQueue(settings.notice_queue_url),
        callback_policy=settings.callback_policy,
        ticket_policy=settings.ticket_policy,
        default_zone=ZoneInfo(settings.default_timezone),
    )


@once_from(SweepSettings)
def build_unresolved(settings: SweepSettings) -> DynamoUnresolvedNotices:
    return DynamoUnresolvedNotices(settings.ledger_table_name)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    # The event's time, not the clock: a replayed or retried sweep decides exactly the same.
    now = datetime.fromisoformat(event.time)
    report = build_sweep().run(
        now, time_left=lambda: timedelta(milliseconds=context.get_remaining_time_in_millis())
    )
    unresolved = count_unresolved(build_unresolved(), now)
    return {**report.summary(), "stopped_early": report.stopped_early, "unresolved_unconfirmed": unresolved}
