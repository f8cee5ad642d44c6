"""VisitsTable stream -> visit notices, in each visit's own order. Bad records fail alone."""

from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.due_items import DynamoDueItems
from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.domain.visits.models import InvalidVisit
from headsup.handlers.settings import VisitSettings
from headsup.logic.visits import VisitDetector
from headsup.platform.batch import ReportingBatchProcessor
from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

processor = ReportingBatchProcessor(EventType.DynamoDBStreams)

SETTLED = frozenset({"arrived", "done", "cancelled"})
# Event ids of records that a later record in the same batch makes moot (see settled_later).
_settled_later: ContextVar[frozenset[str]] = ContextVar("settled_later", default=frozenset())


@once
def build_detector() -> VisitDetector:
    settings = VisitSettings.from_env()
    return VisitDetector(
        DynamoDueItems(settings.due_items_table_name, settings.due_index_shards),
        SqsNoticeQueue(settings.notice_queue_url),
        settings.policy,
    )


def settled_later(records: list[dict[str, Any]]) -> frozenset[str]:
    """Records followed, later in the batch, by the same visit arriving, finishing or being
    cancelled: an ETA slip and an arrival read in one batch must not tell the customer
    "running late" about a technician who is already at the door."""
    moot: set[str] = set()
    settled_from: dict[str, int] = {}
    for index, record in enumerate(records):
        image = record.get("dynamodb", {}).get("NewImage", {})
        if image.get("status", {}).get("S") in SETTLED:
            settled_from[image.get("visit_id", {}).get("S", "")] = index
    for index, record in enumerate(records):
        visit_id = record.get("dynamodb", {}).get("Keys", {}).get("visit_id", {}).get("S", "")
        if settled_from.get(visit_id, -1) > index:
            moot.add(record.get("eventID", ""))
    return frozenset(moot)


def handle_record(record: DynamoDBRecord) -> None:
    if record.dynamodb is None:
        raise InvalidVisit({}, ["stream record without dynamodb data"])
    keys = record.dynamodb.keys
    try:
        build_detector().on_visit_change(
            record.dynamodb.new_image,
            record.dynamodb.old_image or None,
            settled_later=record.event_id in _settled_later.get(),
        )
    except InvalidVisit as exc:
        logger.error(
            "Rejected visit record",
            extra={"key": keys, "problems": exc.problems, "event_id": record.event_id},
        )
        metrics.add_metric(name="InvalidRecords", unit="Count", value=1)
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records", [])
    metrics.add_metric(name="VisitChangesProcessed", unit="Count", value=len(records))
    token = _settled_later.set(settled_later(records))
    try:
        return process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    finally:
        _settled_later.reset(token)
