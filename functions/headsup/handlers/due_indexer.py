"""CallbacksTable and TicketsTable streams -> DueItemsTable. Bad records fail alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.due_index import DueIndexer
    from headsup.platform.batch import StreamChange, StreamFunction


@once
def due_item_changes() -> StreamFunction:
    from headsup.platform.batch import StreamFunction
    from headsup.platform.errors import InvalidRecord

    return StreamFunction(
        counted_as="DueItemChangesProcessed",
        invalid=InvalidRecord,
        rejected="Rejected record",
        count_invalid=False,
    )


@once
def build_indexer() -> DueIndexer:
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.handlers.settings import IndexerSettings
    from headsup.logic.due_index import DueIndexer

    settings = IndexerSettings.from_env()
    return DueIndexer(
        DynamoDueItems(settings.due_items_table_name, settings.due_index_shards),
        settings.callback_policy,
        settings.ticket_policy,
    )


def on_change(change: StreamChange) -> None:
    build_indexer().on_change(change.change, change.keys, change.new_image, change.old_image)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from headsup.platform.batch import process_stream

    return process_stream(event, context, due_item_changes(), on_change)
