"""CallbacksTable and TicketsTable streams -> DueItemsTable. Bad records fail alone."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.due_items import DynamoDueItems
from headsup.handlers.settings import IndexerSettings
from headsup.logic.due_index import DueIndexer
from headsup.platform.batch import StreamChange, StreamFunction, process_stream
from headsup.platform.cold_start import once_from
from headsup.platform.errors import InvalidRecord
from headsup.platform.observability import logger, metrics, tracer

DUE_ITEM_CHANGES = StreamFunction(
    counted_as="DueItemChangesProcessed",
    invalid=InvalidRecord,
    rejected="Rejected record",
    count_invalid=False,
)


@once_from(IndexerSettings)
def build_indexer(settings: IndexerSettings) -> DueIndexer:
    return DueIndexer(
        DynamoDueItems(settings.due_items_table_name, settings.due_index_shards),
        settings.callback_policy,
        settings.ticket_policy,
    )


def on_change(change: StreamChange) -> None:
    build_indexer().on_change(change.change, change.keys, change.new_image)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_stream(event, context, DUE_ITEM_CHANGES, on_change)
