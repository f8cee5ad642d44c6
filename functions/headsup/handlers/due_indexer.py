"""CallbacksTable and TicketsTable streams -> DueItemsTable. Bad records fail alone."""

from typing import Any, cast

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.due_items import DynamoDueItems
from headsup.handlers.settings import IndexerSettings
from headsup.logic.due_index import ChangeKind, DueIndexer
from headsup.platform.batch import ReportingBatchProcessor
from headsup.platform.cold_start import once
from headsup.platform.errors import InvalidRecord
from headsup.platform.observability import logger, metrics, tracer

processor = ReportingBatchProcessor(EventType.DynamoDBStreams)


@once
def build_indexer() -> DueIndexer:
    settings = IndexerSettings.from_env()
    return DueIndexer(
        DynamoDueItems(settings.due_items_table_name, settings.due_index_shards),
        settings.callback_policy,
        settings.ticket_policy,
    )


def handle_record(record: DynamoDBRecord) -> None:
    if record.dynamodb is None or record.event_name is None:
        raise ValueError("stream record without dynamodb data")
    keys = record.dynamodb.keys
    try:
        build_indexer().on_change(cast(ChangeKind, record.event_name.name), keys, record.dynamodb.new_image)
    except InvalidRecord as exc:
        logger.error(
            "Rejected record", extra={"key": keys, "problems": exc.problems, "event_id": record.event_id}
        )
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One value per invocation: a metric per record would hit Powertools' 100-value auto-flush.
    metrics.add_metric(name="DueItemChangesProcessed", unit="Count", value=len(event.get("Records", [])))
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
