"""VisitsTable stream -> visit notices, in each visit's own order. Bad records fail alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.visits import VisitDetector
    from headsup.platform.batch import StreamChange, StreamFunction

SETTLED = frozenset({"arrived", "done", "cancelled"})


@once
def visit_changes() -> StreamFunction:
    from headsup.domain.visits.models import InvalidVisit
    from headsup.platform.batch import StreamFunction

    return StreamFunction(
        counted_as="VisitChangesProcessed", invalid=InvalidVisit, rejected="Rejected visit record"
    )


@once
def build_detector() -> VisitDetector:
    from headsup.adapters.due_items import DynamoDueItems
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.handlers.settings import VisitSettings
    from headsup.logic.visits import VisitDetector

    settings = VisitSettings.from_env()
    return VisitDetector(
        DynamoDueItems(settings.due_items_table_name, settings.due_index_shards),
        # The batch's requests are sent together once every record is read (process_stream).
        SqsNoticeQueue(settings.notice_queue_url).outbox,
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
    from headsup.platform.batch import process_stream, read_changes

    moot = settled_later(event.get("Records", []))
    detector = build_detector()
    detector.prefetch(read_changes(event))

    def on_change(change: StreamChange) -> None:
        detector.on_visit_change(
            change.new_image,
            change.old_image,
            settled_later=change.event_id in moot,
            sequence=change.sequence,
        )

    # The detector is the batch's output: its notices, then each visit's state once they are queued.
    return process_stream(event, context, visit_changes(), on_change, output=detector)
