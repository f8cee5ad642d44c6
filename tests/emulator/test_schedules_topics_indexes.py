"""emulator: EventBridge schedules, what is published to the template's topics, and its GSIs in moto.

Handlers here are small test doubles, not headsup's: the sweep handler is not what is under test.
"""

import copy
import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from emulator import (
    Deployment,
    LambdaHandler,
    ScheduleSource,
    provision,
    sent_sms,
    topic_messages,
)
from emulator.template import load_template

TEMPLATE = load_template()
STACK = "headsup-local"
SWEEP_FUNCTION, SWEEP = "DueSweepFunction", "Sweep"
ESCALATIONS = "EscalationTopic"
DUE_ITEMS, DUE_INDEX = "DueItemsTable", "DueIndex"
AT = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


def sweep_event_properties(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][SWEEP_FUNCTION]["Properties"]["Events"][SWEEP][
        "Properties"
    ]
    return properties


def recorder(events: list[Any]) -> LambdaHandler:
    """A handler that keeps each event it is given and answers with the tick it saw."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        events.append(event)
        return {"swept_at": event.get("time")}

    return handler


def provision_with_sweep(**properties: Any) -> Deployment:
    """template.yaml provisioned with extra properties on the Sweep event (inside an active mock)."""
    template = copy.deepcopy(TEMPLATE)
    sweep_event_properties(template).update(properties)
    return provision(template)


# ------------------------------------------------------------------------------------------- schedules


def test_the_sweep_schedule_comes_from_the_template_parameter(deployment: Deployment) -> None:
    # Given template.yaml, whose Sweep event is scheduled by the SweepSchedule parameter
    assert sweep_event_properties(TEMPLATE)["Schedule"] == {"Ref": "SweepSchedule"}

    # When its schedule source is read / Then it has the parameter's default, and fires every 5 minutes
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    assert source.schedule == TEMPLATE["Parameters"]["SweepSchedule"]["Default"] == "rate(5 minutes)"
    assert source.interval() == timedelta(minutes=5)
    assert source.enabled


def test_scheduled_event_is_eventbridges_shape_with_the_tick_in_utc_whole_seconds(
    deployment: Deployment,
) -> None:
    # Given the sweep's schedule and a tick given in another zone, with sub-second precision
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    at = datetime(2026, 11, 24, 4, 5, 0, 987_654, tzinfo=ZoneInfo("America/New_York"))

    # When the event for that tick is built
    event = source.event(at)

    # Then it is the Scheduled Event EventBridge sends, the time in UTC with a Z and whole seconds
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": deployment.account_id,
        "time": "2026-11-24T09:05:00Z",
        "region": "us-east-1",
        "resources": [
            f"arn:aws:events:us-east-1:{deployment.account_id}:rule/{STACK}-{SWEEP_FUNCTION}-{SWEEP}"
        ],
        "detail": {},
    }
    assert uuid.UUID(event["id"])
    # ...and each event has its own id
    assert source.event(at)["id"] != event["id"]


def test_fire_invokes_the_function_with_its_environment_and_returns_the_response(
    deployment: Deployment,
) -> None:
    # Given a stand-in for the sweep handler that records its event and its environment
    events: list[Any] = []
    seen_env: dict[str, str] = {}
    record = recorder(events)

    def handler(event: Any, context: Any) -> Any:
        seen_env.update(os.environ)
        return record(event, context)

    # When the schedule fires
    response = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).fire(AT, handler=handler)

    # Then the handler got the scheduled event, with the function's environment set, and its answer
    # is returned
    assert response == {"swept_at": "2026-11-24T09:05:00Z"}
    assert [event["detail-type"] for event in events] == ["Scheduled Event"]
    assert seen_env["DUE_ITEMS_TABLE_NAME"] == deployment.ref(DUE_ITEMS)
    assert seen_env["DUE_INDEX_NAME"] == DUE_INDEX


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_interval_follows_an_overridden_sweep_schedule(expression: str, interval: timedelta) -> None:
    with mock_aws():
        # Given the stack deployed with another schedule
        deployment = provision(parameter_overrides={"SweepSchedule": expression})

        # When the interval is read / Then it is the expression's
        assert ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).interval() == interval


def test_a_cron_schedule_is_not_emulated() -> None:
    with mock_aws():
        # Given the sweep scheduled by a cron expression
        deployment = provision(parameter_overrides={"SweepSchedule": "cron(0/5 * * * ? *)"})
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)

        # When its interval is asked for / Then it says cron is not emulated, rather than guessing
        with pytest.raises(NotImplementedError, match=r"cron expressions are not emulated"):
            source.interval()
        # ...while a single fire needs no interval and still works
        assert source.fire(AT, handler=recorder([])) == {"swept_at": "2026-11-24T09:05:00Z"}


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)", "every 5 minutes", "rate(5m)"],
)
def test_a_rate_eventbridge_would_reject_is_rejected(expression: str) -> None:
    with mock_aws():
        # Given the sweep scheduled by an expression EventBridge refuses
        deployment = provision(parameter_overrides={"SweepSchedule": expression})

        # When its interval is read / Then it is refused, as the deploy would be
        with pytest.raises(ValueError, match=re.escape(expression)):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).interval()


@pytest.mark.parametrize(
    ("end", "expected_minutes"),
    [
        (datetime(2026, 11, 24, 9, 15, tzinfo=UTC), [0, 5, 10, 15]),
        (datetime(2026, 11, 24, 9, 14, 59, tzinfo=UTC), [0, 5, 10]),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), [0]),
        (datetime(2026, 11, 24, 8, 59, tzinfo=UTC), []),
    ],
    ids=["end on a tick", "end between ticks", "end is start", "end before start"],
)
def test_run_between_fires_at_each_tick_from_start_to_end_inclusive(
    deployment: Deployment, end: datetime, expected_minutes: list[int]
) -> None:
    # Given the 5-minute sweep and a callback recording what happens between sweeps
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    calls: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append(f"fire {event['time']}")

    def between_ticks(tick: datetime) -> None:
        calls.append(f"between {tick:%H:%M}")

    # When the schedule runs from start to end
    ticks = source.run_between(start, end, between_ticks=between_ticks, handler=handler)

    # Then it fired at every tick in the range, and the callback ran after each fire, before the next
    assert ticks == [start + timedelta(minutes=minute) for minute in expected_minutes]
    assert calls == [
        call
        for minute in expected_minutes
        for call in (f"fire 2026-11-24T09:{minute:02}:00Z", f"between 09:{minute:02}")
    ]


def test_run_between_steps_in_elapsed_time_across_a_daylight_saving_change() -> None:
    with mock_aws():
        # Given an hourly sweep run over the night New York leaves daylight saving (01:00-02:00 happens twice)
        deployment = provision(parameter_overrides={"SweepSchedule": "rate(1 hour)"})
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
        new_york = ZoneInfo("America/New_York")
        start = datetime(2026, 11, 1, 0, 0, tzinfo=new_york)
        end = datetime(2026, 11, 1, 3, 0, tzinfo=new_york)
        events: list[Any] = []

        # When it runs
        ticks = source.run_between(start, end, handler=recorder(events))

        # Then it fires every elapsed hour, five times over those four wall-clock hours
        assert [event["time"] for event in events] == [
            "2026-11-01T04:00:00Z",
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z",
            "2026-11-01T08:00:00Z",
        ]
        assert all(tick.tzinfo is UTC for tick in ticks)


def test_a_naive_time_is_refused(deployment: Deployment) -> None:
    # Given a time without a zone / When an event is built for it / Then it is refused, not guessed
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    with pytest.raises(ValueError, match="naive"):
        source.event(datetime(2026, 11, 24, 9, 5))
    with pytest.raises(ValueError, match="naive"):
        source.run_between(datetime(2026, 11, 24, 9, 5), AT)


def test_the_templates_input_replaces_the_scheduled_event() -> None:
    with mock_aws():
        # Given the Sweep event with a constant Input
        deployment = provision_with_sweep(Input='{"shards": "all"}')
        events: list[Any] = []

        # When it fires
        ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).fire(AT, handler=recorder(events))

        # Then the function gets that JSON instead of the scheduled event
        assert events == [{"shards": "all"}]


def test_an_input_that_eventbridge_would_not_send_is_refused() -> None:
    with mock_aws():
        # Given Input written as a YAML mapping rather than the JSON string CloudFormation requires
        deployment = provision_with_sweep(Input={"shards": "all"})

        # When an event is built / Then it is refused rather than passed on as something it is not
        with pytest.raises(ValueError, match="Input must be a JSON string"):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).event(AT)


def test_an_input_transformer_is_not_emulated() -> None:
    with mock_aws():
        # Given the Sweep event with an InputTransformer
        transformer = {"InputPathsMap": {"t": "$.time"}, "InputTemplate": '{"at": <t>}'}
        deployment = provision_with_sweep(InputTransformer=transformer)

        # When its source is made / Then it says so, rather than sending the untransformed event
        with pytest.raises(NotImplementedError, match="InputTransformer"):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)


def test_a_named_rule_keeps_its_name_in_the_events_resources() -> None:
    with mock_aws():
        # Given the Sweep event's rule given a name
        deployment = provision_with_sweep(Name="headsup-sweep")

        # When an event is built / Then its resource is that rule
        (rule_arn,) = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).event(AT)["resources"]
        assert rule_arn == f"arn:aws:events:us-east-1:{deployment.account_id}:rule/headsup-sweep"


@pytest.mark.parametrize(
    "disabled",
    [{"Enabled": False}, {"Enabled": "false"}, {"State": "DISABLED"}],
    ids=["Enabled false", "Enabled 'false'", "State DISABLED"],
)
def test_a_disabled_schedule_says_so_and_can_still_be_fired(disabled: dict[str, Any]) -> None:
    with mock_aws():
        # Given the Sweep event disabled in the template
        deployment = provision_with_sweep(**disabled)
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
        events: list[Any] = []

        # When it is read / Then it is not enabled, yet a test can still fire it by hand
        assert not source.enabled
        source.fire(AT, handler=recorder(events))
        assert len(events) == 1


def test_an_enabled_state_is_enabled() -> None:
    with mock_aws():
        # Given the Sweep event's State set to one of EventBridge's enabled states
        deployment = provision_with_sweep(State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

        # When it is read / Then it is enabled
        assert ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).enabled


def test_a_schedule_source_needs_a_schedule_event(deployment: Deployment) -> None:
    # Given the delivery function, whose Notices event is an SQS one
    # When a schedule source is made for it / Then it is refused, naming the actual type
    with pytest.raises(ValueError, match="is a SQS event, not Schedule"):
        ScheduleSource(deployment, "NoticeDeliveryFunction", "Notices")


# ------------------------------------------------------------------------------------------- topics


def test_escalation_topic_is_created_with_its_kms_key_and_display_name(deployment: Deployment) -> None:
    # Given the template's escalation topic, encrypted with the AWS-managed SNS key
    declared = TEMPLATE["Resources"][ESCALATIONS]["Properties"]
    assert declared["KmsMasterKeyId"] == "alias/aws/sns"

    # When its attributes are read back from SNS
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=deployment.ref(ESCALATIONS))["Attributes"]

    # Then they are the template's, and !Ref gives the topic's ARN
    assert attributes["KmsMasterKeyId"] == declared["KmsMasterKeyId"]
    assert attributes["DisplayName"] == declared["DisplayName"]
    assert (
        deployment.ref(ESCALATIONS) == f"arn:aws:sns:us-east-1:{deployment.account_id}:{STACK}-{ESCALATIONS}"
    )
    assert "FifoTopic" not in attributes


def test_topic_messages_keep_subject_message_and_attributes_without_any_subscriber(
    deployment: Deployment,
) -> None:
    # Given the escalation topic, which nothing subscribes to locally
    sns = boto3.client("sns")
    topic_arn = deployment.ref(ESCALATIONS)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []

    # When an escalation with a subject and attributes is published
    message_id = sns.publish(
        TopicArn=topic_arn,
        Subject="Callback overdue: c-1",
        Message='{"callback_id": "c-1"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "callback_overdue"},
            "minutes_late": {"DataType": "Number", "StringValue": "17"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )["MessageId"]

    # Then it is read back whole, attributes in the shape SNS hands to subscribers
    (published,) = topic_messages(deployment, ESCALATIONS)
    assert published.message_id == message_id
    assert published.subject == "Callback overdue: c-1"
    assert json.loads(published.message) == {"callback_id": "c-1"}
    assert published.attributes == {
        "kind": {"Type": "String", "Value": "callback_overdue"},
        "minutes_late": {"Type": "Number", "Value": "17"},
        "blob": {"Type": "Binary", "Value": "AAE="},
    }
    assert published.group_id is None


def test_topic_messages_are_in_order_whether_subscribed_or_batched_and_only_the_topics_own(
    deployment: Deployment,
) -> None:
    # Given the escalation topic with a queue subscribed, and another topic and an SMS besides
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = deployment.ref(ESCALATIONS)
    queue_url = sqs.create_queue(QueueName="team-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
    other_topic = sns.create_topic(Name="elsewhere")["TopicArn"]

    # When messages are published singly and in a batch, elsewhere, and by SMS
    sns.publish(TopicArn=topic_arn, Subject="first", Message="1")
    sns.publish(TopicArn=other_topic, Subject="not ours", Message="x")
    sns.publish(PhoneNumber="+15555550100", Message="an SMS")
    sns.publish_batch(
        TopicArn=topic_arn,
        PublishBatchRequestEntries=[
            {"Id": "a", "Subject": "second", "Message": "2"},
            {"Id": "b", "Message": "3"},
        ],
    )

    # Then the topic's messages are exactly its own, oldest first, subjects kept (or None)
    assert [(m.subject, m.message) for m in topic_messages(deployment, ESCALATIONS)] == [
        ("first", "1"),
        ("second", "2"),
        (None, "3"),
    ]
    assert [s.message for s in sent_sms()] == ["an SMS"]
    # ...and the subscriber got them too, the subject in SNS's envelope
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]).get("Subject") for m in received] == ["first", "second", None]


MINI_TOPICS: dict[str, Any] = {
    "Resources": {
        "Inbox": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Plain": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "FifoTopic": False,
                "ContentBasedDeduplication": False,
                "KmsMasterKeyId": "alias/aws/sns",
                "Tags": [{"Key": "team", "Value": "support"}],
                "Subscription": [{"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Inbox", "Arn"]}}],
            },
        },
        "Ordered": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"FifoTopic": True, "ContentBasedDeduplication": True},
        },
    }
}


def test_topic_properties_are_provisioned_as_cloudformation_would() -> None:
    with mock_aws():
        # When topics with false FIFO flags, tags, a subscription and a true FIFO flag are provisioned
        deployment = provision(MINI_TOPICS, stack_name="mini")
        sns = boto3.client("sns")

        # Then "FifoTopic: false" is a standard topic (a publish needs no group id) that keeps its tags
        plain = deployment.ref("Plain")
        assert "FifoTopic" not in sns.get_topic_attributes(TopicArn=plain)["Attributes"]
        assert sns.list_tags_for_resource(ResourceArn=plain)["Tags"] == [{"Key": "team", "Value": "support"}]
        sns.publish(TopicArn=plain, Subject="hello", Message="m")
        # ...its subscription delivers to the queue
        (delivered,) = boto3.client("sqs").receive_message(QueueUrl=deployment.ref("Inbox"))["Messages"]
        assert json.loads(delivered["Body"])["Subject"] == "hello"
        # ...and "FifoTopic: true" is a FIFO topic with the suffix, its group id kept with each message
        ordered = deployment.ref("Ordered")
        assert ordered.endswith(":mini-Ordered.fifo")
        sns.publish(TopicArn=ordered, Message="m", MessageGroupId="g-1")
        assert [m.group_id for m in topic_messages(deployment, "Ordered")] == ["g-1"]


# ------------------------------------------------------------------------------------------- indexes


def put_due_item(deployment: Deployment, key: str, **due: str) -> None:
    item = {"item_key": {"S": key}} | {name: {"S": value} for name, value in due.items()}
    boto3.client("dynamodb").put_item(TableName=deployment.ref(DUE_ITEMS), Item=item)


def due_keys(deployment: Deployment, shard: str, now: str) -> list[str]:
    response = boto3.client("dynamodb").query(
        TableName=deployment.ref(DUE_ITEMS),
        IndexName=DUE_INDEX,
        KeyConditionExpression="due_shard = :shard AND due_at <= :now",
        ExpressionAttributeValues={":shard": {"S": shard}, ":now": {"S": now}},
    )
    return [item["item_key"]["S"] for item in response["Items"]]


def test_due_items_table_has_the_due_index_as_declared(deployment: Deployment) -> None:
    # Given the template's DueIndex
    declared = TEMPLATE["Resources"][DUE_ITEMS]["Properties"]
    (declared_index,) = declared["GlobalSecondaryIndexes"]

    # When the table is described
    table = boto3.client("dynamodb").describe_table(TableName=deployment.ref(DUE_ITEMS))["Table"]

    # Then it is keyed on item_key alone, on demand, with the index keyed and projected as declared
    assert table["KeySchema"] == declared["KeySchema"] == [{"AttributeName": "item_key", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == declared_index["IndexName"] == DUE_INDEX
    assert index["KeySchema"] == declared_index["KeySchema"]
    assert index["Projection"] == {"ProjectionType": "ALL"}


def test_due_index_query_returns_only_what_is_due_and_leaves_out_items_without_a_due_time(
    deployment: Deployment,
) -> None:
    # Given items due before and after now in one shard, one due in another shard,
    # and items with no due time (or only half of the index key)
    put_due_item(deployment, "callback#due", due_shard="3", due_at="2026-11-24T09:00:00Z", kind="callback")
    put_due_item(deployment, "ticket#exactly-now", due_shard="3", due_at="2026-11-24T09:05:00Z")
    put_due_item(deployment, "ticket#later", due_shard="3", due_at="2026-11-24T10:00:00Z")
    put_due_item(deployment, "ticket#other-shard", due_shard="4", due_at="2026-11-24T08:00:00Z")
    put_due_item(deployment, "ticket#not-due")
    put_due_item(deployment, "ticket#shard-only", due_shard="3")

    # When the shard is queried for due_at <= now
    due = due_keys(deployment, "3", "2026-11-24T09:05:00Z")

    # Then only what is due in that shard comes back, oldest first, whole (projection ALL)
    assert due == ["callback#due", "ticket#exactly-now"]
    # ...and the index holds only items with both due_shard and due_at: it is sparse
    dynamodb = boto3.client("dynamodb")
    indexed = dynamodb.scan(TableName=deployment.ref(DUE_ITEMS), IndexName=DUE_INDEX)["Items"]
    assert sorted(item["item_key"]["S"] for item in indexed) == [
        "callback#due",
        "ticket#exactly-now",
        "ticket#later",
        "ticket#other-shard",
    ]
    assert next(i for i in indexed if i["item_key"]["S"] == "callback#due")["kind"] == {"S": "callback"}


def test_removing_the_due_time_takes_an_item_out_of_the_due_index(deployment: Deployment) -> None:
    # Given an item that is due
    put_due_item(deployment, "callback#c-1", due_shard="0", due_at="2026-11-24T09:00:00Z")
    assert due_keys(deployment, "0", "2026-11-24T09:05:00Z") == ["callback#c-1"]

    # When its due time is removed (nothing more is due for it)
    boto3.client("dynamodb").update_item(
        TableName=deployment.ref(DUE_ITEMS),
        Key={"item_key": {"S": "callback#c-1"}},
        UpdateExpression="REMOVE due_shard, due_at",
    )

    # Then no sweep finds it
    assert due_keys(deployment, "0", "2026-11-24T09:05:00Z") == []


def mini_table(billing_mode: str, index_extras: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BillingMode": billing_mode,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "gk", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByGk",
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                **index_extras,
            }
        ],
    }
    if billing_mode == "PROVISIONED":
        properties["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    return {"Resources": {"Things": {"Type": "AWS::DynamoDB::Table", "Properties": properties}}}


THROUGHPUT = {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}


@pytest.mark.parametrize(
    ("billing_mode", "index_extras", "message"),
    [
        ("PAY_PER_REQUEST", THROUGHPUT, "should not be specified for index: ByGk"),
        ("PROVISIONED", {}, "ProvisionedThroughput is not specified for index: ByGk"),
    ],
    ids=["on-demand index with throughput", "provisioned index without"],
)
def test_index_throughput_that_dynamodb_would_reject_is_refused(
    billing_mode: str, index_extras: dict[str, Any], message: str
) -> None:
    # Given a GSI whose throughput does not match its table's billing mode (moto itself would accept it)
    # When provisioned / Then it is refused with DynamoDB's reason
    with mock_aws(), pytest.raises(ValueError, match=message):
        provision(mini_table(billing_mode, index_extras), stack_name="mini")


@pytest.mark.parametrize(
    ("billing_mode", "index_extras"),
    [("PAY_PER_REQUEST", {}), ("PROVISIONED", THROUGHPUT)],
    ids=["on demand", "provisioned"],
)
def test_a_cloudformation_only_index_property_is_left_out_of_create_table(
    billing_mode: str, index_extras: dict[str, Any]
) -> None:
    with mock_aws():
        # Given a GSI with ContributorInsightsSpecification, which CreateTable does not take
        extras = index_extras | {"ContributorInsightsSpecification": {"Enabled": True}}

        # When provisioned / Then the table and its index are created
        deployment = provision(mini_table(billing_mode, extras), stack_name="mini")
        table = boto3.client("dynamodb").describe_table(TableName=deployment.ref("Things"))["Table"]
        assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["ByGk"]
