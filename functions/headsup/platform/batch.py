"""Partial batch processing (Powertools) that says, for each failed record, which and why, and the
glue every DynamoDB-stream function shares: count the batch, read each record, reject the ones
that break the data contract, and fail the records whose output could not be written at the end."""

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast, get_args

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from headsup.platform.errors import InvalidRecord, describe_error
from headsup.platform.observability import logger, metrics

ChangeKind = Literal["INSERT", "MODIFY", "REMOVE"]
_CHANGE_KINDS: frozenset[str] = frozenset(get_args(ChangeKind))


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


def process_batch(
    event: dict[str, Any], context: LambdaContext, record_handler: Callable[..., None], event_type: EventType
) -> PartialItemFailureResponse:
    """Each record through `record_handler`; the ones that raise are reported in batchItemFailures."""
    # A processor per invocation: locally every function runs in one process, and a processor
    # holds the state of the batch it is working on.
    processor = ReportingBatchProcessor(event_type)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@dataclass(frozen=True)
class StreamChange:
    """One DynamoDB stream record, read: what happened to which item."""

    event_id: str | None
    change: ChangeKind
    keys: dict[str, Any]
    new_image: dict[str, Any]
    old_image: dict[str, Any] | None  # None when the record has none (an INSERT)
    sequence: str | None = None  # the record's SequenceNumber: grows with each change of an item


@dataclass(frozen=True)
class StreamFunction:
    """How a stream function counts its records and reports the ones that break the contract."""

    counted_as: str  # the metric counting each invocation's records
    invalid: type[InvalidRecord]  # the contract breach its records raise
    rejected: str  # the log message naming a record that breaks the contract
    # Adds InvalidRecords for each such record; the due indexer has never added it.
    count_invalid: bool = True


class BatchOutput(Protocol):
    """What a stream function's records leave to be written once for the whole batch (the notice
    requests they call for, sent together), each part on behalf of the record it came from."""

    def on_behalf_of(self, source: str) -> AbstractContextManager[None]: ...

    def flush(self) -> Collection[str]:
        """Write what the records left; return the sources it could not be written for."""
        ...

    def discard(self) -> None:
        """Forget what an invocation that ended before its flush (a timeout) left: Lambda retries
        that whole batch."""
        ...


def process_stream(
    event: dict[str, Any],
    context: LambdaContext,
    function: StreamFunction,
    on_change: Callable[[StreamChange], None],
    output: BatchOutput | None = None,
) -> PartialItemFailureResponse:
    """Each record of a DynamoDB stream batch through `on_change`; a record that breaks the data
    contract is logged with its key and what is wrong, and fails alone.

    With `output`, each record is handled on behalf of its sequence number, and once every record
    was handled the output is flushed: a record whose output could not be written fails alone,
    as if it had raised. Lambda retries the shard from the first failed record, so the records
    after it are handled again too: their output must be safe to write twice."""
    # One value per invocation: a metric per record would hit Powertools' 100-value auto-flush.
    metrics.add_metric(name=function.counted_as, unit="Count", value=len(event.get("Records", [])))
    if output is not None:
        output.discard()

    def handle(record: DynamoDBRecord) -> None:  # Powertools passes it by this name
        keys = record.dynamodb.keys if record.dynamodb else {}
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
        on_behalf = output.on_behalf_of(sequence or "") if output is not None else nullcontext()
        try:
            with on_behalf:
                on_change(_read(record, function.invalid))
        except function.invalid as exc:
            # Re-raised, so the batch reports the record failed and it ends in
            # DetectorFailureQueue once its retries are exhausted.
            logger.error(
                function.rejected,
                extra={"key": keys or exc.key, "problems": exc.problems, "event_id": record.event_id},
            )
            if function.count_invalid:
                metrics.add_metric(name="InvalidRecords", unit="Count", value=1)
            raise

    response = process_batch(event, context, handle, EventType.DynamoDBStreams)
    if output is None:
        return response
    return _fail_unwritten(event, response, output.flush())


def _fail_unwritten(
    event: dict[str, Any], response: PartialItemFailureResponse, unwritten: Collection[str]
) -> PartialItemFailureResponse:
    """`response` with the records whose output was not written added to batchItemFailures."""
    if not unwritten:
        return response
    records = {
        record.dynamodb.sequence_number: record
        for record in map(DynamoDBRecord, event.get("Records", []))
        if record.dynamodb and record.dynamodb.sequence_number
    }
    if not set(unwritten) <= set(records):
        # Output that no record answers for: only failing the whole batch keeps it from being lost.
        raise RuntimeError(f"batch output not written for {len(unwritten)} unknown records")
    failures = list(response["batchItemFailures"])
    reported = {failure["itemIdentifier"] for failure in failures}
    for sequence in sorted(set(unwritten) - reported, key=lambda s: (len(s), s)):  # numeric order
        logger.error(
            "Record failed; reported in batchItemFailures",
            extra={**_record_ids(records[sequence]), "error": "its output could not be written"},
        )
        metrics.add_metric(name="RecordsFailed", unit="Count", value=1)
        failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}


def read_changes(event: dict[str, Any]) -> list[StreamChange]:
    """The batch's records that read as changes, for what must be known of the batch before its
    records are handled one by one."""
    changes = []
    for raw in event.get("Records", []):
        try:
            changes.append(_read(DynamoDBRecord(raw), InvalidRecord))
        except Exception:  # noqa: BLE001, S112 - a record that cannot be read fails alone when handled
            continue
    return changes


def _read(record: DynamoDBRecord, invalid: type[InvalidRecord]) -> StreamChange:
    change = record.event_name.name if record.event_name else "UNKNOWN"
    if record.dynamodb is None or change not in _CHANGE_KINDS:
        keys = record.dynamodb.keys if record.dynamodb else {}
        raise invalid(keys, [f"unexpected stream record (event {change})"])
    data = record.dynamodb
    return StreamChange(
        event_id=record.event_id,
        change=cast(ChangeKind, change),
        keys=data.keys,
        new_image=data.new_image,
        old_image=data.old_image or None,
        sequence=data.sequence_number,
    )


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


class NotAllRecorded(RuntimeError):
    """Some records of an asynchronous invocation could not be handled; raised once every record
    was tried, so that Lambda retries the invocation (twice, then its on-failure destination)."""

    def __init__(self, what: str, ids: list[str]) -> None:
        self.ids = ids
        super().__init__(f"{what} not recorded for {', '.join(ids)}")


@dataclass(frozen=True)
class AsyncRecords:
    """How one asynchronous function (SNS, CloudWatch Logs) handles its records one by one."""

    what: str  # "SES feedback", "SMS receipt": for the log lines
    id_of: Callable[[Any], dict[str, Any]]  # the record's ids, safe for logs
    malformed: tuple[type[Exception], ...]  # exceptions with `problems`: the same bytes fail again
    malformed_metric: str


def handle_each(records: list[Any], handle: Callable[[Any], str], how: AsyncRecords) -> dict[str, int]:
    """Handle every record on its own and count the results. A malformed record is logged with its
    ids and the fields at fault, counted and dropped (a retry would fail the same way); any other
    error is logged and, once all records were tried, raised as NotAllRecorded. A retry re-handles
    the records that had succeeded, so every handler's writes must be idempotent."""
    results: dict[str, int] = {}
    failed: list[str] = []
    for record in records:
        ids = how.id_of(record)
        try:
            result = handle(record)
        except how.malformed as exc:
            logger.error(
                f"Malformed {how.what}; dropped", extra={**ids, "problems": getattr(exc, "problems", [])}
            )
            metrics.add_metric(name=how.malformed_metric, unit="Count", value=1)
            result = "malformed"
        # Any other error must not stop the records after this one.
        except Exception as exc:  # noqa: BLE001
            logger.error(
                f"{how.what} not recorded; the invocation will be retried",
                extra={**ids, "error": describe_error(exc)},
            )
            metrics.add_metric(name="FeedbackErrors", unit="Count", value=1)
            failed.append(str(next(iter(ids.values()), None)))
            continue
        results[result] = results.get(result, 0) + 1
    if failed:
        # Not chained: each cause is logged above in a form safe for logs, while a raw AWS error
        # message can quote the request (an address), and Lambda prints what escapes the handler.
        raise NotAllRecorded(how.what, failed) from None
    return results
