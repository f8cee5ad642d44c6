"""BillsTable stream -> bill-increase notice requests. Bad records fail alone (partial batch)."""

from typing import Any, cast

from aws_lambda_powertools.utilities.batch import (
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.adapters.bills import DynamoBillsRepository
from headsup.adapters.notice_queue import SqsNoticeQueue
from headsup.domain.bills.models import InvalidBill
from headsup.domain.bills.rules import Thresholds
from headsup.handlers.settings import DetectorSettings
from headsup.logic.bill_increase import BillIncreaseDetector, ChangeKind
from headsup.platform.batch import ReportingBatchProcessor
from headsup.platform.cold_start import once
from headsup.platform.observability import logger, metrics, tracer

processor = ReportingBatchProcessor(EventType.DynamoDBStreams)


@once
def build_detector() -> BillIncreaseDetector:
    settings = DetectorSettings.from_env()
    return BillIncreaseDetector(
        bills=DynamoBillsRepository(settings.bills_table_name),
        queue=SqsNoticeQueue(settings.notice_queue_url),
        thresholds=Thresholds(percent=settings.increase_percent, minimum=settings.increase_minimum),
    )


def handle_record(record: DynamoDBRecord) -> None:
    detector = build_detector()
    change = record.event_name.name if record.event_name else "UNKNOWN"
    keys = record.dynamodb.keys if record.dynamodb else {}
    try:
        if change not in ("INSERT", "MODIFY", "REMOVE") or record.dynamodb is None:
            raise InvalidBill(keys, [f"unexpected stream record (event {change})"])
        detector.on_bill_change(
            cast(ChangeKind, change), record.dynamodb.new_image, record.dynamodb.old_image or None
        )
    except InvalidBill as exc:
        # Logged here with the key and the contract breach; re-raised so the batch reports this
        # record as failed and it ends in DetectorFailureQueue once retries are exhausted.
        logger.error(
            "Rejected bill record",
            extra={"key": keys or exc.key, "problems": exc.problems, "event_id": record.event_id},
        )
        metrics.add_metric(name="InvalidRecords", unit="Count", value=1)
        raise


def new_bills_of(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(customer_id, period) of the batch's bills that compare with an earlier bill: new ones,
    and changed ones without an old image. Read leniently: a malformed record fails on its own."""
    bills = []
    for record in event.get("Records", []):
        change = record.get("dynamodb") or {}
        if record.get("eventName") == "REMOVE" or change.get("OldImage"):
            continue
        image = change.get("NewImage") or {}
        customer, period = image.get("customer_id", {}).get("S"), image.get("period", {}).get("S")
        if isinstance(customer, str) and isinstance(period, str):
            bills.append((customer, period))
    return bills


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One value per invocation: a metric per record would hit Powertools' 100-value auto-flush.
    metrics.add_metric(name="BillChangesProcessed", unit="Count", value=len(event.get("Records", [])))
    build_detector().prefetch_baselines(new_bills_of(event))
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
