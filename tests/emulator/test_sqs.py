"""emulator.sources.sqs: the SQS event source mapping, in Lambda's record shape, with the queue's redrive.

Handlers here are small test doubles, not headsup's: this is about the harness, not the functions.
"""

from typing import Any

import boto3

from emulator import Deployment, SqsSource, queue_messages

DELIVERY, NOTICES = "NoticeDeliveryFunction", "Notices"


def send_notice(deployment: Deployment, body: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=deployment.ref("NoticeQueue"),
        MessageBody=body,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "bill_increase"}},
    )


# ------------------------------------------------------------------------------------------- SQS


def test_sqs_event_has_the_lambda_record_shape(deployment: Deployment) -> None:
    # Given a notice on the queue and a handler that keeps its event
    send_notice(deployment, '{"notice_id": "n-1"}')
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"batchItemFailures": []}

    # When the queue is drained
    SqsSource(deployment, DELIVERY, NOTICES).drain(handler=handler)

    # Then the record is shaped as Lambda delivers it
    (record,) = events[0]["Records"]
    assert record["body"] == '{"notice_id": "n-1"}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == deployment.get_att("NoticeQueue", "Arn")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "bill_increase",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["md5OfBody"]
    assert record["receiptHandle"]
    assert record["messageId"]


def test_sqs_drain_deletes_successes_and_redrives_an_always_failing_message_to_the_dlq(
    deployment: Deployment,
) -> None:
    # Given a good and a bad notice, and a handler that always fails the bad one
    send_notice(deployment, "good")
    send_notice(deployment, "bad")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failed = [r for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    # When the queue is drained
    report = SqsSource(deployment, DELIVERY, NOTICES).drain(handler=handler)

    # Then the good notice is processed once and the bad one tried maxReceiveCount times
    max_receive_count = int(deployment.parameters["NoticeMaxReceiveCount"])
    assert report.processed == 1
    assert report.failures == max_receive_count
    assert report.queue_empty
    # ...and then dead-lettered by the queue's redrive policy
    assert [m["Body"] for m in queue_messages(deployment, "NoticeDeadLetterQueue")] == ["bad"]
    assert queue_messages(deployment, "NoticeQueue") == []


def test_sqs_handler_error_fails_the_whole_batch(deployment: Deployment) -> None:
    # Given two notices and a handler that raises
    send_notice(deployment, "one")
    send_notice(deployment, "two")

    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    # When one round is delivered
    report = SqsSource(deployment, DELIVERY, NOTICES).drain(max_rounds=1, handler=handler)

    # Then nothing is deleted: both stay on the queue for another attempt
    assert report.failures == 2
    assert report.processed == 0
    assert "RuntimeError: boom" in report.function_errors[0]
    assert sorted(m["Body"] for m in queue_messages(deployment, "NoticeQueue")) == ["one", "two"]
