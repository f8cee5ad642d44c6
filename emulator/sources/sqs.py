"""Lambda's SQS event source mapping: receive batches, invoke, delete what succeeded and leave the rest
for the queue's redrive policy."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from emulator.clients import client
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource, function_error, queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Lambda's limit for one SQS receive.
SQS_MAX_BATCH: Final = 10
# Lambda copies only these system attributes of an SQS message into the event record.
_LAMBDA_SQS_ATTRIBUTES: Final = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def lambda_sqs_record(
    message: MessageTypeDef | Mapping[str, Any], queue_arn: str, aws_region: str
) -> dict[str, Any]:
    """Turn an SQS ReceiveMessage message into the record Lambda puts in an SQS event."""
    attributes: Mapping[Any, str] = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in _LAMBDA_SQS_ATTRIBUTES if name in attributes},
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": aws_region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


@dataclass
class DrainReport:
    invocations: int = 0
    processed: int = 0  # deliveries that succeeded, so their message was deleted
    failures: int = 0  # deliveries that failed, so their message was made visible again
    failed_message_ids: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    function_errors: list[str] = field(default_factory=list)  # tracebacks of handler exceptions
    queue_empty: bool = False


class SqsSource(EventSource):
    """Lambda's SQS event source mapping for one of a function's ``Type: SQS`` events."""

    event_type = "SQS"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        self.queue_arn: str = self.properties["Queue"]
        self.batch_size = min(int(self.properties.get("BatchSize", 10)), SQS_MAX_BATCH)
        self._sqs: SQSClient = client("sqs", deployment.region)
        self.queue_url = queue_url(self._sqs, self.queue_arn)
        # False: a failed message comes back at once, so one drain plays out all its retries.
        # True: it stays hidden for the queue's VisibilityTimeout, as in AWS; the caller moves
        # the clock on (e.g. LocalPipeline.run_schedule) before it is received again.
        self.honour_visibility_timeout = False

    def drain(self, max_rounds: int = 50, *, handler: LambdaHandler | None = None) -> DrainReport:
        """Receive, invoke and settle batches until the queue is empty (or ``max_rounds`` receives).

        A failed message is made visible at once, standing in for its visibility timeout running out;
        moto then applies the queue's redrive policy, moving it to the DLQ after maxReceiveCount receives.
        """
        report = DrainReport()
        for _ in range(max_rounds):
            messages = self._receive()
            if not messages:
                report.queue_empty = True
                break
            self._deliver(messages, report, handler)
        return report

    def _receive(self) -> list[MessageTypeDef]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def _deliver(
        self, messages: list[MessageTypeDef], report: DrainReport, handler: LambdaHandler | None
    ) -> None:
        event = {"Records": [lambda_sqs_record(m, self.queue_arn, self.deployment.region) for m in messages]}
        failed = self._invoke_batch(event, report, handler)
        for message in messages:
            if message["MessageId"] in failed:
                if not self.honour_visibility_timeout:
                    self._sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                report.failures += 1
                report.failed_message_ids.append(message["MessageId"])
            else:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                report.processed += 1

    def _invoke_batch(
        self, event: dict[str, Any], report: DrainReport, handler: LambdaHandler | None
    ) -> set[str]:
        """Invoke with the event; return the ids of the messages that failed."""
        message_ids = {record["messageId"] for record in event["Records"]}
        report.invocations += 1
        try:
            response = self.invoke(event, handler)
        except Exception:  # noqa: BLE001 - the Lambda runtime turns any handler exception into a function error
            report.function_errors.append(function_error())
            return message_ids
        report.responses.append(response)
        failed = set(self.reported_failures(response))
        # Lambda treats an itemIdentifier that is not in the batch as the whole batch failing.
        return failed if failed <= message_ids else message_ids
