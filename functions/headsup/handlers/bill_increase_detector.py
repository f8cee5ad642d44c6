"""BillsTable stream -> bill-increase notice requests. Bad records fail alone (partial batch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.handlers.settings import DetectorSettings
    from headsup.logic.bill_increase import BillIncreaseDetector
    from headsup.platform.batch import StreamChange, StreamFunction


@once
def settings() -> DetectorSettings:
    from headsup.handlers.settings import DetectorSettings

    return DetectorSettings.from_env()


@once
def bill_changes() -> StreamFunction:
    from headsup.domain.bills.models import InvalidBill
    from headsup.platform.batch import StreamFunction

    return StreamFunction(
        counted_as="BillChangesProcessed", invalid=InvalidBill, rejected="Rejected bill record"
    )


@once
def build_queue() -> SqsNoticeQueue:
    from headsup.adapters.notice_queue import SqsNoticeQueue

    return SqsNoticeQueue(settings().notice_queue_url)


@once
def build_detector() -> BillIncreaseDetector:
    from headsup.adapters.bills import DynamoBillsRepository
    from headsup.domain.bills.rules import Thresholds
    from headsup.logic.bill_increase import BillIncreaseDetector

    config = settings()
    return BillIncreaseDetector(
        bills=DynamoBillsRepository(config.bills_table_name),
        # The batch's requests are sent together once every record is read (process_stream).
        queue=build_queue().outbox,
        thresholds=Thresholds(percent=config.increase_percent, minimum=config.increase_minimum),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from headsup.platform.batch import process_stream, read_changes

    detector = build_detector()
    detector.prefetch_baselines(read_changes(event))

    def on_change(change: StreamChange) -> None:
        detector.on_bill_change(change.change, change.new_image, change.old_image)

    return process_stream(event, context, bill_changes(), on_change, output=build_queue().outbox)
