"""Partial batch processing (Powertools) that says, for each failed record, which and why."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics


class ReportingBatchProcessor(BatchProcessor):
    """Every failed record gets one log line with its ids and a description safe for logs.

    Failures are reported even when every record failed: Lambda then retries (and, for streams,
    bisects) from the first failed record instead of treating the invocation as crashed.
    """

    def __init__(self, event_type: EventType) -> None:
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        logger.error(
            "Record failed; reported in batchItemFailures",
            extra={**_record_ids(record), "error": describe_error(error) if error else "unknown"},
        )
        metrics.add_metric(name="RecordsFailed", unit="Count", value=1)
        return super().failure_handler(record, exception)


def _record_ids(record: Any) -> dict[str, Any]:
    if isinstance(record, SQSRecord):
        return {"message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count}
    if isinstance(record, DynamoDBRecord):
        dynamodb = record.dynamodb
        return {
            "event_id": record.event_id,
            "sequence_number": dynamodb.sequence_number if dynamodb else None,
            "key": dynamodb.keys if dynamodb else None,
        }
    return {}
