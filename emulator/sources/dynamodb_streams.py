"""Lambda's DynamoDB event source mapping: poll a table's stream, filter and batch its records as
Lambda does, invoke, and on failure retry, bisect and send the batch's coordinates to its destination."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from moto.events.models import EventPattern

from emulator.clients import client
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource, epoch_to_iso, function_error, queue_url

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# A stream mapping without MaximumRetryAttempts retries until the record expires (a day); locally that would
# never end, so an unbounded retry count is capped here.
_UNBOUNDED_RETRIES: Final = 10


def _jsonable_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda's JSON event has it: binary as base64 text, not bytes."""
    ((kind, data),) = value.items()
    if kind == "B":
        return {kind: base64.b64encode(data).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(item).decode() for item in data]}
    if kind == "M":
        return {kind: _jsonable_image(data)}
    if kind == "L":
        return {kind: [_jsonable_attribute(item) for item in data]}
    return {kind: data}


def _jsonable_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _jsonable_attribute(value) for name, value in image.items()}


def lambda_stream_record(
    record: RecordTypeDef | Mapping[str, Any], stream_arn: str, aws_region: str
) -> dict[str, Any]:
    """Turn a DynamoDB Streams GetRecords record into the record Lambda puts in a DynamoDB event."""
    stream: dict[str, Any] = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda's JSON has epoch seconds
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = _jsonable_image(stream[image])
    lambda_record = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": aws_region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # present on TTL deletions
        lambda_record["userIdentity"] = dict(record["userIdentity"])
    return lambda_record


@dataclass(frozen=True)
class StreamBatch:
    """Records from one shard, in order: Lambda never mixes shards in a batch."""

    shard_id: str
    records: list[dict[str, Any]]

    @property
    def event(self) -> dict[str, Any]:
        return {"Records": self.records}

    def from_index(self, index: int) -> StreamBatch:
        return StreamBatch(self.shard_id, self.records[index:])

    def halves(self) -> tuple[StreamBatch, StreamBatch]:
        middle = len(self.records) // 2
        return StreamBatch(self.shard_id, self.records[:middle]), StreamBatch(
            self.shard_id, self.records[middle:]
        )


@dataclass
class StreamDeliveryReport:
    invocations: int = 0
    responses: list[Any] = field(default_factory=list)
    # Every itemIdentifier (sequence number) the function reported failed, in order, retries included.
    batch_item_failures: list[str] = field(default_factory=list)
    # Tracebacks of handler exceptions (only caught when retrying, as Lambda would).
    function_errors: list[str] = field(default_factory=list)
    # The on-failure records sent to the destination after retries ran out.
    discarded: list[dict[str, Any]] = field(default_factory=list)


class DynamoDBStreamSource(EventSource):
    """Lambda's DynamoDB event source mapping for one of a function's ``Type: DynamoDB`` events."""

    event_type = "DynamoDB"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        self.stream_arn: str = self.properties["Stream"]
        self.batch_size = int(self.properties.get("BatchSize", 100))
        filters = self.properties.get("FilterCriteria", {}).get("Filters", [])
        self._patterns = [EventPattern.load(item["Pattern"]) for item in filters]
        self._client: DynamoDBStreamsClient = client("dynamodbstreams", deployment.region)
        starting_position = str(self.properties.get("StartingPosition", "TRIM_HORIZON"))
        # Taken now: a LATEST mapping sees only what is written after it is created.
        self._iterators: dict[str, str | None] = {
            shard_id: self._shard_iterator(shard_id, starting_position) for shard_id in self._shard_ids()
        }

    def _shard_ids(self) -> list[str]:
        shard_ids: list[str] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._client.describe_stream(**request)["StreamDescription"]
            shard_ids += [shard["ShardId"] for shard in description.get("Shards", [])]
            if "LastEvaluatedShardId" not in description:
                return shard_ids
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    def _shard_iterator(self, shard_id: str, iterator_type: str) -> str:
        response = self._client.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard_id,
            ShardIteratorType=iterator_type,  # type: ignore[arg-type]
        )
        return response["ShardIterator"]

    def _read(self, iterator: str | None) -> tuple[list[RecordTypeDef], str | None]:
        """Every record from ``iterator`` on, and the iterator to continue from (None once a shard closes)."""
        records: list[RecordTypeDef] = []
        while iterator is not None:
            response = self._client.get_records(ShardIterator=iterator, Limit=1000)
            records += response["Records"]
            iterator = response.get("NextShardIterator")
            if not response["Records"]:
                break
        return records, iterator

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self._patterns or any(
            pattern.matches_event(cast(Any, record)) for pattern in self._patterns
        )

    def _batches(self, shard_id: str, records: list[RecordTypeDef]) -> list[StreamBatch]:
        converted = [
            lambda_stream_record(record, self.stream_arn, self.deployment.region) for record in records
        ]
        kept = [record for record in converted if self._matches(record)]
        size = self.batch_size
        return [StreamBatch(shard_id, kept[start : start + size]) for start in range(0, len(kept), size)]

    def poll_batches(self) -> list[StreamBatch]:
        """Records written since the last poll, filtered and batched as Lambda would invoke with them."""
        for shard_id in self._shard_ids():
            # A shard that appears later (DynamoDB splits and rotates shards) is read from its start.
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._shard_iterator(shard_id, "TRIM_HORIZON")
        batches = []
        for shard_id, iterator in self._iterators.items():
            records, self._iterators[shard_id] = self._read(iterator)
            batches += self._batches(shard_id, records)
        return batches

    def poll(self) -> list[dict[str, Any]]:
        """Lambda events (``{"Records": [...]}``, at most BatchSize each) of records new since last poll."""
        return [batch.event for batch in self.poll_batches()]

    def replay_all(self) -> list[dict[str, Any]]:
        """Every record still in the stream, from TRIM_HORIZON, as events; the polling position is kept."""
        events = []
        for shard_id in self._shard_ids():
            records, _ = self._read(self._shard_iterator(shard_id, "TRIM_HORIZON"))
            events += [batch.event for batch in self._batches(shard_id, records)]
        return events

    def deliver(
        self, *, retry_failures: bool = False, handler: LambdaHandler | None = None
    ) -> StreamDeliveryReport:
        """Poll and invoke the function once per batch.

        Without ``retry_failures`` failures are only reported and handler exceptions propagate. With it,
        Lambda's error handling is emulated: a handler exception fails the whole batch (bisected first if
        BisectBatchOnFunctionError), a batch is retried from its first failed record up to
        MaximumRetryAttempts times, and then its coordinates go to DestinationConfig.OnFailure.
        """
        report = StreamDeliveryReport()
        for batch in self.poll_batches():
            if retry_failures:
                self._process(batch, report, handler, retries_left=self._max_retries(), invoke_count=1)
            else:
                self._invoke_once(batch, report, handler, catch_errors=False)
        return report

    def _max_retries(self) -> int:
        retries = int(self.properties.get("MaximumRetryAttempts", -1))
        return _UNBOUNDED_RETRIES if retries < 0 else retries

    def _invoke_once(
        self,
        batch: StreamBatch,
        report: StreamDeliveryReport,
        handler: LambdaHandler | None,
        *,
        catch_errors: bool,
    ) -> tuple[int | None, bool]:
        """Invoke with the batch; return (index of its first failed record or None, whether it raised)."""
        report.invocations += 1
        try:
            response = self.invoke(batch.event, handler)
        # The Lambda runtime turns any handler exception into a function error.
        except Exception:
            if not catch_errors:
                raise
            report.function_errors.append(function_error())
            return 0, True
        report.responses.append(response)
        failed = self.reported_failures(response)
        report.batch_item_failures += failed
        if not failed:
            return None, False
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch.records]
        if not set(failed) <= set(sequence_numbers):
            return 0, False  # Lambda treats an unknown itemIdentifier as the whole batch failing
        return min(sequence_numbers.index(identifier) for identifier in failed), False

    def _process(
        self,
        batch: StreamBatch,
        report: StreamDeliveryReport,
        handler: LambdaHandler | None,
        *,
        retries_left: int,
        invoke_count: int,
    ) -> None:
        failed_from, raised = self._invoke_once(batch, report, handler, catch_errors=True)
        if failed_from is None:
            return
        if raised and self.properties.get("BisectBatchOnFunctionError") and len(batch.records) > 1:
            # Splitting does not use up a retry: each half starts with the same allowance.
            for half in batch.halves():
                self._process(half, report, handler, retries_left=retries_left, invoke_count=invoke_count + 1)
            return
        remaining = batch.from_index(failed_from)
        if retries_left <= 0:
            self._discard(remaining, report, raised=raised, invoke_count=invoke_count)
            return
        self._process(
            remaining, report, handler, retries_left=retries_left - 1, invoke_count=invoke_count + 1
        )

    def _discard(
        self, batch: StreamBatch, report: StreamDeliveryReport, *, raised: bool, invoke_count: int
    ) -> None:
        first, last = batch.records[0]["dynamodb"], batch.records[-1]["dynamodb"]
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if raised:
            response_context["functionError"] = "Unhandled"
        on_failure = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.deployment.function_arn(self.function_logical_id),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": epoch_to_iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": batch.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": epoch_to_iso(first["ApproximateCreationDateTime"]),
                "approximateArrivalOfLastRecord": epoch_to_iso(last["ApproximateCreationDateTime"]),
                "batchSize": len(batch.records),
                "streamArn": self.stream_arn,
            },
        }
        report.discarded.append(on_failure)
        destination = self.properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            self._send_to_destination(destination, json.dumps(on_failure))

    # ------------------------------------------------------------------------------------------- SQS

    def _send_to_destination(self, destination_arn: str, body: str) -> None:
        """Send an on-failure record to an SQS queue or SNS topic, Lambda's destination types for streams."""
        service = destination_arn.split(":")[2]
        if service == "sqs":
            sqs: SQSClient = client("sqs", self.deployment.region)
            sqs.send_message(QueueUrl=queue_url(sqs, destination_arn), MessageBody=body)
        elif service == "sns":
            sns: SNSClient = client("sns", self.deployment.region)
            sns.publish(TopicArn=destination_arn, Message=body)
        else:
            raise ValueError(f"On-failure destination {destination_arn} is not an SQS queue or SNS topic")
