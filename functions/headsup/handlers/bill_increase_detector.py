"""BillsTable stream -> bill-increase notice requests. Bad records fail alone (partial batch)."""

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.bills import DynamoBillsRepository
from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.domain.bills.models import InvalidBill
from headsup.domain.bills.rules import Thresholds
from headsup.handlers.settings import DetectorSettings
from headsup.logic.bill_increase import BillIncreaseDetector
from headsup.platform.batch import StreamChange, StreamFunction, process_stream, read_changes
from headsup.platform.cold_start import once_from
from headsup.platform.observability import logger, metrics, tracer

BILL_CHANGES = StreamFunction(
    counted_as="BillChangesProcessed", invalid=InvalidBill, rejected="Rejected bill record"
)


@once_from(DetectorSettings)
def build_detector(settings: DetectorSettings) -> BillIncreaseDetector:
    return BillIncreaseDetector(
        bills=DynamoBillsRepository(settings.bills_table_name),
        queue=SqsNoticeQueue(settings.notice_queue_url),
        thresholds=Thresholds(percent=settings.increase_percent, minimum=settings.increase_minimum),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    detector = build_detector()
    detector.prefetch_baselines(read_changes(event))

    def on_change(change: StreamChange) -> None:
        detector.on_bill_change(change.change, change.new_image, change.old_image)

    return process_stream(event, context, BILL_CHANGES, on_change)
