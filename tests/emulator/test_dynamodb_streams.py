"""emulator.sources.dynamodb_streams: the DynamoDB event source mapping, in Lambda's record shape.

Handlers here are small test doubles, not headsup's: this is about the harness, not the functions.
"""

import json
from typing import Any

import boto3
import pytest

from emulator import Deployment, DynamoDBStreamSource, queue_messages
from emulator.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
DETECTOR, BILLS_STREAM = "BillIncreaseDetectorFunction", "BillsStream"


def event_properties(function_logical_id: str, event_name: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[function_logical_id]["Properties"]["Events"][event_name][
        "Properties"
    ]
    return properties


def put_bill(
    deployment: Deployment, customer_id: str, period: str = "2026-10", amount: str = "10.00"
) -> None:
    boto3.client("dynamodb").put_item(
        TableName=deployment.ref("BillsTable"),
        Item={"customer_id": {"S": customer_id}, "period": {"S": period}, "amount": {"N": amount}},
    )


def stream_records(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for event in events for record in event["Records"]]


# ------------------------------------------------------------------------------------------- DynamoDB stream


def test_stream_source_yields_lambda_shaped_records(deployment: Deployment) -> None:
    # Given a bill written to BillsTable
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    put_bill(deployment, "c-1", amount="42.50")

    # When the stream is polled
    (record,) = stream_records(source.poll())

    # Then the record is shaped as Lambda delivers it
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == deployment.get_att("BillsTable", "StreamArn")
    assert record["awsRegion"] == "us-east-1"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["Keys"] == {"customer_id": {"S": "c-1"}, "period": {"S": "2026-10"}}
    assert record["dynamodb"]["NewImage"]["amount"] == {"N": "42.50"}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    json.dumps(record)  # as Lambda's JSON event: no datetimes or bytes


def test_stream_source_applies_the_template_filter_criteria(deployment: Deployment) -> None:
    # Given the template lets only INSERT and MODIFY through
    assert event_properties(DETECTOR, BILLS_STREAM)["FilterCriteria"]["Filters"] == [
        {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}
    ]
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)

    # When a bill is inserted, modified and removed
    put_bill(deployment, "c-1", amount="10")
    put_bill(deployment, "c-1", amount="12")
    boto3.client("dynamodb").delete_item(
        TableName=deployment.ref("BillsTable"), Key={"customer_id": {"S": "c-1"}, "period": {"S": "2026-10"}}
    )

    # Then the REMOVE never reaches the function
    assert [r["eventName"] for r in stream_records(source.poll())] == ["INSERT", "MODIFY"]


def test_second_poll_returns_only_records_written_since(deployment: Deployment) -> None:
    # Given one bill already polled
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    put_bill(deployment, "c-1")
    source.poll()

    # When another is written and the stream polled again
    put_bill(deployment, "c-2")
    records = stream_records(source.poll())

    # Then only the new one is returned, while a replay returns both
    assert [r["dynamodb"]["Keys"]["customer_id"]["S"] for r in records] == ["c-2"]
    replayed = stream_records(source.replay_all())
    assert [r["dynamodb"]["Keys"]["customer_id"]["S"] for r in replayed] == ["c-1", "c-2"]
    assert source.poll() == []


def test_stream_batches_hold_at_most_the_template_batch_size(deployment: Deployment) -> None:
    # Given one record more than a batch holds
    batch_size = event_properties(DETECTOR, BILLS_STREAM)["BatchSize"]
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    for number in range(batch_size + 1):
        put_bill(deployment, f"c-{number}")

    # When the stream is polled / Then the records are split into full batches and the rest
    assert [len(event["Records"]) for event in source.poll()] == [batch_size, 1]


def test_stream_retries_a_failed_record_then_sends_its_coordinates_to_the_on_failure_queue(
    deployment: Deployment,
) -> None:
    # Given a handler that always reports the second bill as failed
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    put_bill(deployment, "c-ok")
    put_bill(deployment, "c-poison")
    batches: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append([r["dynamodb"]["Keys"]["customer_id"]["S"] for r in event["Records"]])
        failed = [r for r in event["Records"] if r["dynamodb"]["Keys"]["customer_id"]["S"] == "c-poison"]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}

    # When the stream is delivered with Lambda's retry semantics
    report = source.deliver(retry_failures=True, handler=handler)

    # Then the batch is retried from the failed record only, MaximumRetryAttempts times
    retries = event_properties(DETECTOR, BILLS_STREAM)["MaximumRetryAttempts"]
    assert batches == [["c-ok", "c-poison"]] + [["c-poison"]] * retries
    # ...and then the record's coordinates go to the on-failure destination
    (message,) = queue_messages(deployment, "DetectorFailureQueue")
    on_failure = json.loads(message["Body"])
    assert on_failure == report.discarded[0]
    assert on_failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = on_failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == deployment.get_att("BillsTable", "StreamArn")
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == report.batch_item_failures[0]


def test_stream_handler_error_is_bisected_down_to_the_poison_record(deployment: Deployment) -> None:
    # Given a handler that raises whenever its batch holds the poison bill (BisectBatchOnFunctionError is on)
    assert event_properties(DETECTOR, BILLS_STREAM)["BisectBatchOnFunctionError"] is True
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    put_bill(deployment, "c-ok")
    put_bill(deployment, "c-poison")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if any(r["dynamodb"]["Keys"]["customer_id"]["S"] == "c-poison" for r in event["Records"]):
            raise RuntimeError("poison")
        return {"batchItemFailures": []}

    # When the stream is delivered with Lambda's retry semantics
    report = source.deliver(retry_failures=True, handler=handler)

    # Then the good bill is processed and only the poison one is discarded, as a function error
    assert report.responses == [{"batchItemFailures": []}]
    (discarded,) = report.discarded
    assert discarded["DDBStreamBatchInfo"]["batchSize"] == 1
    assert discarded["responseContext"]["functionError"] == "Unhandled"
    assert "RuntimeError: poison" in report.function_errors[0]


def test_stream_delivery_without_retries_reports_failures_and_lets_errors_propagate(
    deployment: Deployment,
) -> None:
    # Given a bill and a handler reporting it failed
    source = DynamoDBStreamSource(deployment, DETECTOR, BILLS_STREAM)
    put_bill(deployment, "c-1")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

    # When delivered once / Then the failure is reported, not retried or sent anywhere
    report = source.deliver(handler=handler)
    assert report.invocations == 1
    assert len(report.batch_item_failures) == 1
    assert report.discarded == []

    # ...and a handler exception reaches the caller
    put_bill(deployment, "c-2")
    with pytest.raises(ZeroDivisionError):
        source.deliver(handler=lambda event, context: 1 / 0)
