"""VisitsTable stream -> visit notices, in each visit's own order. Bad records fail alone."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.due_items import DynamoDueItems
from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.domain.visits.models import InvalidVisit
from headsup.handlers.settings import VisitSettings
from headsup.logic.visits import VisitDetector
from headsup.platform.batch import StreamChange, StreamFunction, process_stream
from headsup.platform.cold_start import once_from
from headsup.platform.observability import logger, metrics, tracer

VISIT_CHANGES = StreamFunction(
    counted_as="VisitChangesProcessed", invalid=InvalidVisit, rejected="Rejected visit record"
)
SETTLED = frozenset({"arrived", "done", "cancelled"})


@once_from(VisitSettings)
def build_detector(settings: VisitSettings) -> VisitDetector:
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


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    moot = settled_later(event.get("Records", []))

    def on_change(change: StreamChange) -> None:
        build_detector().on_visit_change(
            change.new_image,
            change.old_image,
            settled_later=change.event_id in moot,
            sequence=change.sequence,
        )

    return process_stream(event, context, VISIT_CHANGES, on_change)
