"""emulator.sources.cloudwatch_logs: the SMS receipts function's subscriptions to SNS's delivery-status log
groups, delivered in Lambda's CloudWatch Logs event shape.

Handlers here are test doubles, not headsup's: what is under test is what CloudWatch Logs would hand
the function, not what it does with it.
"""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import CloudWatchLogsSource, Deployment, LambdaHandler, decode_subscription_event, provision
from emulator.template import load_template

TEMPLATE = load_template()
RECEIPTS, DELIVERED, FAILED = "SmsReceiptsFunction", "Delivered", "Failed"
LINES = [
    json.dumps({"notification": {"messageId": "m-1"}, "status": "SUCCESS"}),
    json.dumps({"notification": {"messageId": "m-2"}, "status": "SUCCESS"}),
]


def recorder(events: list[dict[str, Any]], response: Any = None) -> LambdaHandler:
    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return response

    return handler


def test_delivered_lines_are_written_to_the_group_and_handed_on_as_the_subscription_event(
    deployment: Deployment,
) -> None:
    # Given the receipts function's subscription to the delivered-SMS log group
    source = CloudWatchLogsSource(deployment, RECEIPTS, DELIVERED)
    group = deployment.ref("SmsDeliveredLogGroup")
    assert source.log_group == group == f"sns/us-east-1/{deployment.account_id}/DirectPublishToPhoneNumber"
    events: list[dict[str, Any]] = []
    stamp = int(datetime.now(UTC).timestamp() * 1000)

    # When two log lines are delivered
    response = source.deliver(LINES, timestamp_ms=stamp, handler=recorder(events, "handled"))

    # Then the function got one event, {"awslogs": {"data": ...}}, that decodes to what was written
    assert response == "handled"
    (event,) = events
    assert list(event) == ["awslogs"]
    assert list(event["awslogs"]) == ["data"]
    data = decode_subscription_event(event)
    assert {key: value for key, value in data.items() if key not in ("logStream", "logEvents")} == {
        "messageType": "DATA_MESSAGE",
        "owner": deployment.account_id,
        "logGroup": group,
        "subscriptionFilters": [f"headsup-local-{RECEIPTS}{DELIVERED}"],
    }
    assert [(e["timestamp"], e["message"]) for e in data["logEvents"]] == [(stamp, line) for line in LINES]
    ids = [e["id"] for e in data["logEvents"]]
    assert len(set(ids)) == 2
    assert all(len(i) == 56 and i.isdigit() for i in ids)

    # ...and the lines really are in the group, in the stream the event names
    logs = boto3.client("logs")
    written = logs.filter_log_events(logGroupName=group, logStreamNames=[data["logStream"]])["events"]
    assert [e["message"] for e in written] == LINES


def test_failed_lines_go_to_the_failure_group(deployment: Deployment) -> None:
    source = CloudWatchLogsSource(deployment, RECEIPTS, FAILED)
    events: list[dict[str, Any]] = []

    source.deliver(LINES[:1], handler=recorder(events))

    data = decode_subscription_event(events[0])
    assert data["logGroup"] == deployment.ref("SmsFailedLogGroup")
    assert data["logGroup"].endswith("/DirectPublishToPhoneNumber/Failure")
    assert data["subscriptionFilters"] == [f"headsup-local-{RECEIPTS}{FAILED}"]
    assert [e["message"] for e in data["logEvents"]] == LINES[:1]


def test_a_handler_exception_propagates_after_the_lines_are_written(deployment: Deployment) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    source = CloudWatchLogsSource(deployment, RECEIPTS, DELIVERED)
    with pytest.raises(RuntimeError, match="boom"):
        source.deliver(LINES, handler=handler)
    written = boto3.client("logs").filter_log_events(logGroupName=source.log_group)["events"]
    assert [e["message"] for e in written] == LINES


def test_lines_the_group_would_reject_are_not_delivered(deployment: Deployment) -> None:
    # CloudWatch Logs takes events up to 14 days old and 2 hours ahead
    source = CloudWatchLogsSource(deployment, RECEIPTS, DELIVERED)
    events: list[dict[str, Any]] = []
    too_old = int((datetime.now(UTC) - timedelta(days=15)).timestamp() * 1000)

    with pytest.raises(ValueError, match="rejected"):
        source.deliver(LINES, timestamp_ms=too_old, handler=recorder(events))
    with pytest.raises(ValueError, match="1 to 10000 events"):
        source.deliver([], handler=recorder(events))
    assert events == []


def test_a_filter_pattern_other_than_every_event_is_refused() -> None:
    template = copy.deepcopy(TEMPLATE)
    event = template["Resources"][RECEIPTS]["Properties"]["Events"][DELIVERED]
    event["Properties"]["FilterPattern"] = '{ $.status = "SUCCESS" }'
    with mock_aws():
        deployment = provision(template)
        with pytest.raises(NotImplementedError, match="FilterPattern"):
            CloudWatchLogsSource(deployment, RECEIPTS, DELIVERED)


def test_an_event_of_another_type_is_refused(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="is a SQS event, not CloudWatchLogs"):
        CloudWatchLogsSource(deployment, "NoticeDeliveryFunction", "Notices")
