"""emulator.template and emulator: template.yaml provisioned into moto, Lambda's event sources emulated.

Handlers here are small test doubles, not headsup's: this is about the harness, not the functions.
"""

import copy
import json
import os
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator import (
    Deployment,
    DynamoDBStreamSource,
    LambdaContext,
    SqsSource,
    provision,
    queue_messages,
    sent_emails,
    sent_sms,
)
from emulator.template import REPO_ROOT, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STACK = "headsup-local"
DETECTOR, BILLS_STREAM = "BillIncreaseDetectorFunction", "BillsStream"
DELIVERY, NOTICES = "NoticeDeliveryFunction", "Notices"


def logical_ids(resource_type: str) -> list[str]:
    return [logical_id for logical_id, resource in RESOURCES.items() if resource["Type"] == resource_type]


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


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": []}


# ------------------------------------------------------------------------------------------- template


def test_template_yaml_loads_with_intrinsics_in_long_form() -> None:
    # Given template.yaml, whose NoticeQueue redrives with !GetAtt and !Ref
    # When it is loaded
    redrive = RESOURCES["NoticeQueue"]["Properties"]["RedrivePolicy"]

    # Then the short forms are CloudFormation's long forms
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["NoticeDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "NoticeMaxReceiveCount"},
    }


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("!Ref Name", {"Ref": "Name"}),
        ("!GetAtt Res.Attr", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!GetAtt Res.Nested.Attr", {"Fn::GetAtt": ["Res", "Nested.Attr"]}),
        ("!GetAtt [Res, Attr]", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!Sub 'arn:${AWS::Partition}:x'", {"Fn::Sub": "arn:${AWS::Partition}:x"}),
        ("!Sub ['${A}', {A: !Ref B}]", {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}),
        ("!Join [',', [a, b]]", {"Fn::Join": [",", ["a", "b"]]}),
        ("!If [IsProd, 1, !Ref AWS::NoValue]", {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}),
        ("!Not [!Equals [a, b]]", {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}),
        (
            "!And [!Condition A, !Or [!Condition B]]",
            {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}]}]},
        ),
        ("!Select [0, !Split [',', 'a,b']]", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}),
        ("!FindInMap [M, K, V]", {"Fn::FindInMap": ["M", "K", "V"]}),
        ("!ImportValue Shared", {"Fn::ImportValue": "Shared"}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!Base64 text", {"Fn::Base64": "text"}),
    ],
)
def test_every_short_form_tag_loads_as_its_long_form(tmp_path: Path, yaml_value: str, expected: Any) -> None:
    # Given a template using the short form
    path = tmp_path / "template.yaml"
    path.write_text(f"Value: {yaml_value}\n", encoding="utf-8")

    # When it is loaded / Then the value is the long form
    assert load_template(path) == {"Value": expected}


# ------------------------------------------------------------------------------------------- provisioning


def test_provision_creates_exactly_the_tables_the_template_declares_with_its_keys_and_streams(
    deployment: Deployment,
) -> None:
    # Given the deployed template
    dynamodb = boto3.client("dynamodb")

    # Then there is one table per AWS::DynamoDB::Table, named after the stack and logical id
    tables = logical_ids("AWS::DynamoDB::Table")
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(f"{STACK}-{t}" for t in tables)
    for logical_id in tables:
        declared = RESOURCES[logical_id]["Properties"]
        table = dynamodb.describe_table(TableName=deployment.ref(logical_id))["Table"]
        # ...with the template's keys, stream view type and time to live
        assert table["KeySchema"] == declared["KeySchema"]
        assert table.get("StreamSpecification", {}).get("StreamViewType") == declared.get(
            "StreamSpecification", {}
        ).get("StreamViewType")
        ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == declared.get("TimeToLiveSpecification", {}).get("AttributeName")


def test_provision_creates_exactly_the_queues_the_template_declares(deployment: Deployment) -> None:
    # Given the deployed template
    sqs = boto3.client("sqs")

    # Then there is one queue per AWS::SQS::Queue, reachable through !Ref
    queues = logical_ids("AWS::SQS::Queue")
    assert sorted(sqs.list_queues()["QueueUrls"]) == sorted(deployment.ref(q) for q in queues)
    for logical_id in queues:
        assert deployment.get_att(logical_id, "QueueName") == f"{STACK}-{logical_id}"
        attributes = sqs.get_queue_attributes(QueueUrl=deployment.ref(logical_id), AttributeNames=["All"])
        declared = RESOURCES[logical_id]["Properties"]
        assert attributes["Attributes"]["MessageRetentionPeriod"] == str(declared["MessageRetentionPeriod"])


def test_notice_queue_redrive_policy_names_the_dead_letter_queue_arn(deployment: Deployment) -> None:
    # Given the deployed template
    # When NoticeQueue's redrive policy is read back from SQS
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=deployment.ref("NoticeQueue"), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])

    # Then !GetAtt and !Ref were resolved to the DLQ's ARN and the parameter's value
    assert redrive["deadLetterTargetArn"] == deployment.get_att("NoticeDeadLetterQueue", "Arn")
    assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-NoticeDeadLetterQueue")
    assert redrive["maxReceiveCount"] == int(deployment.parameters["NoticeMaxReceiveCount"])


def test_parameter_overrides_replace_defaults() -> None:
    with mock_aws():
        # When the stack is provisioned with an override
        deployment = provision(parameter_overrides={"NoticeMaxReceiveCount": "2"})

        # Then it is used wherever the parameter is referenced
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=deployment.ref("NoticeQueue"), AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 2
        assert deployment.function_env(DELIVERY)["NOTICE_MAX_RECEIVE_COUNT"] == "2"


@pytest.mark.parametrize(
    "overrides",
    [{"NoSuchParameter": "x"}, {"LogLevel": "CHATTY"}, {"NoticeMaxReceiveCount": "0"}],
    ids=["unknown name", "not an allowed value", "below MinValue"],
)
def test_bad_parameter_overrides_are_rejected(overrides: dict[str, str]) -> None:
    with mock_aws(), pytest.raises(ValueError, match="arameter"):
        provision(parameter_overrides=overrides)


def test_resolve_handles_sub_with_pseudo_parameters_and_resource_attributes(deployment: Deployment) -> None:
    # Given a Sub naming a parameter, pseudo parameters and a resource attribute
    value = {
        "Fn::Sub": "${AWS::Partition}:${AWS::Region}:${AWS::AccountId}:${SenderIdentity}:${NoticeQueue.Arn}"
    }

    # When it is resolved / Then each is replaced
    assert deployment.resolve(value) == (
        f"aws:us-east-1:123456789012:{deployment.parameters['SenderIdentity']}:"
        f"{deployment.get_att('NoticeQueue', 'Arn')}"
    )


# A template exercising what template.yaml does not use yet: conditions, mappings, topics, FIFO queues.
MINI_TEMPLATE: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}},
    "Mappings": {"Sizes": {"dev": {"Memory": 128}, "prod": {"Memory": 1024}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "DevOrProd": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::And": [{"Condition": "IsDev"}]}]},
    },
    "Resources": {
        "Alerts": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": {"Fn::Join": ["-", ["alerts", {"Ref": "Env"}]]}},
        },
        "ProdOnlyQueue": {"Type": "AWS::SQS::Queue", "Condition": "IsProd", "Properties": {}},
        "Ordered": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"FifoQueue": True, "ContentBasedDeduplication": True},
        },
        "Fn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": "tests.emulator.test_local_aws.succeed",
                "MemorySize": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]},
                "Environment": {
                    "Variables": {
                        "TOPIC": {"Ref": "Alerts"},
                        "MODE": {"Fn::If": ["IsProd", "strict", {"Ref": "AWS::NoValue"}]},
                        "FIRST_AZ": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
                        "SECOND": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
                        "ENCODED": {"Fn::Base64": "hi"},
                        "DEV": {"Fn::If": ["IsDev", "yes", "no"]},
                        "ANY": {"Fn::If": ["DevOrProd", "yes", "no"]},
                    }
                },
            },
        },
    },
}


def test_generic_resources_and_intrinsics_resolve_for_the_default_parameters() -> None:
    with mock_aws():
        # When a template with conditions, mappings, a topic and a FIFO queue is provisioned
        deployment = provision(MINI_TEMPLATE, stack_name="mini")

        # Then a conditional resource whose condition is false is skipped, and a FIFO queue gets its suffix
        assert boto3.client("sqs").list_queues()["QueueUrls"] == [deployment.ref("Ordered")]
        assert deployment.get_att("Ordered", "QueueName") == "mini-Ordered.fifo"
        topic = boto3.client("sns").get_topic_attributes(TopicArn=deployment.ref("Alerts"))["Attributes"]
        assert topic["DisplayName"] == "alerts-dev"
        # ...and every intrinsic in the function's environment is resolved
        env = deployment.function_env("Fn")
        assert env["TOPIC"] == deployment.get_att("Alerts", "TopicArn")
        assert "MODE" not in env  # AWS::NoValue drops the variable
        assert (env["FIRST_AZ"], env["SECOND"], env["ENCODED"]) == ("us-east-1a", "b", "aGk=")
        assert (env["DEV"], env["ANY"]) == ("yes", "yes")
        # ...and the template's Handler is imported and invoked with a context from its settings
        assert deployment.lambda_context("Fn").memory_limit_in_mb == 128
        assert deployment.invoke("Fn", {}) == {"batchItemFailures": []}


def test_conditions_follow_parameter_overrides() -> None:
    with mock_aws():
        # When the condition's parameter is overridden
        deployment = provision(MINI_TEMPLATE, {"Env": "prod"}, stack_name="mini")

        # Then the conditional resource exists and Fn::If / FindInMap take the other branch
        assert deployment.get_att("ProdOnlyQueue", "QueueName") == "mini-ProdOnlyQueue"
        env = deployment.function_env("Fn")
        assert (env["MODE"], env["DEV"], env["ANY"]) == ("strict", "no", "yes")
        assert deployment.lambda_context("Fn").memory_limit_in_mb == 1024


@pytest.mark.parametrize(
    ("override", "joined", "first"),
    [(None, "visit_on_the_way|visit_running_late", "visit_on_the_way"), ("a,b,c", "a|b|c", "a")],
)
def test_a_comma_delimited_list_parameter_is_a_list_to_the_intrinsics(
    override: str | None, joined: str, first: str
) -> None:
    # Given template.yaml's CommaDelimitedList parameter, joined and selected from
    template = copy.deepcopy(TEMPLATE)
    variables = template["Resources"][DELIVERY]["Properties"]["Environment"]["Variables"]
    variables["JOINED"] = {"Fn::Join": ["|", {"Ref": "QuietHoursBypassKinds"}]}
    variables["FIRST"] = {"Fn::Select": [0, {"Ref": "QuietHoursBypassKinds"}]}
    overrides = {} if override is None else {"QuietHoursBypassKinds": override}
    with mock_aws():
        env = provision(template, overrides).function_env(DELIVERY)

    # Then Ref gives its items, as CloudFormation's does, and a plain Ref is them joined with commas
    assert (env["JOINED"], env["FIRST"]) == (joined, first)
    assert env["QUIET_HOURS_BYPASS_KINDS"] == joined.replace("|", ",")


# ------------------------------------------------------------------------------------------- functions


def test_function_env_resolves_refs_to_physical_names(deployment: Deployment) -> None:
    # Given the delivery function's declared environment
    declared = RESOURCES[DELIVERY]["Properties"]["Environment"]["Variables"]

    # When its environment is computed
    env = deployment.function_env(DELIVERY)

    # Then every !Ref is the referenced resource's id (a table's name, a queue's URL, a topic's or a
    # secret's ARN), named after the stack, or the parameter's value
    refs = {
        name: value["Ref"] for name, value in declared.items() if isinstance(value, dict) and "Ref" in value
    }
    for name, ref in refs.items():
        if ref in RESOURCES:
            assert env[name] == deployment.ref(ref)
            # A secret's ARN ends with a random suffix after its name, as Secrets Manager's do.
            assert re.search(rf"{STACK}-{ref}(-[A-Za-z0-9]{{6}})?$", env[name])
        else:
            assert env[name] == deployment.parameters[ref]
    # ...and Globals come along, with the local-only overrides on top
    assert env["POWERTOOLS_LOG_LEVEL"] == deployment.parameters["LogLevel"]
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_function_env_maps_opt_to_the_layer_folder(deployment: Deployment) -> None:
    # Given the delivery function reads its templates from /opt, where Lambda extracts its layer
    assert RESOURCES[DELIVERY]["Properties"]["Environment"]["Variables"]["TEMPLATES_DIR"] == "/opt"
    layer = RESOURCES[DELIVERY]["Properties"]["Layers"][0]["Ref"]

    # When its environment is computed / Then /opt is the layer's local folder
    expected = (REPO_ROOT / RESOURCES[layer]["Properties"]["ContentUri"]).resolve()
    assert deployment.function_env(DELIVERY)["TEMPLATES_DIR"] == str(expected)
    # ...while a function without that layer keeps its environment as declared
    assert all(not v.startswith(str(expected)) for v in deployment.function_env(DETECTOR).values())


def test_invoke_sets_the_environment_and_passes_a_lambda_context(deployment: Deployment) -> None:
    # Given a handler that records what it was given
    seen: dict[str, Any] = {}

    def handler(event: dict[str, Any], context: LambdaContext) -> str:
        seen.update(event=event, context=context, table=os.environ["CUSTOMERS_TABLE_NAME"])
        return "done"

    # When the function is invoked
    result = deployment.invoke(DELIVERY, {"Records": []}, handler=handler)

    # Then the handler ran with the function's environment and a context built from the template
    assert result == "done"
    assert seen["table"] == deployment.ref("CustomersTable")
    context = seen["context"]
    assert context.function_name == f"{STACK}-{DELIVERY}"
    assert context.memory_limit_in_mb == TEMPLATE["Globals"]["Function"]["MemorySize"]
    assert context.invoked_function_arn.endswith(f":function:{STACK}-{DELIVERY}")
    assert 0 < context.get_remaining_time_in_millis() <= TEMPLATE["Globals"]["Function"]["Timeout"] * 1000
    assert context.aws_request_id
    # ...and the environment stays set afterwards, as in a warm Lambda
    assert os.environ["NOTICE_LEDGER_TABLE_NAME"] == deployment.ref("NoticeLedgerTable")


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


# ------------------------------------------------------------------------------------------- SQS


def send_notice(deployment: Deployment, body: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=deployment.ref("NoticeQueue"),
        MessageBody=body,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "bill_increase"}},
    )


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


# ------------------------------------------------------------------------------------------- outbox


def test_sender_identity_is_verified_and_sent_emails_are_parsed(deployment: Deployment) -> None:
    # Given a multipart email from the template's sender address
    sender = deployment.parameters["SenderEmail"]
    mime = EmailMessage()
    mime["Subject"], mime["From"], mime["To"] = "Your bill went up", sender, "Ana <ana@example.net>"
    mime.set_content("Plain text")
    mime.add_alternative("<p>HTML</p>", subtype="html")
    sesv2 = boto3.client("sesv2")

    # When it is sent through SES v2
    sesv2.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["ana@example.net"]},
        Content={"Raw": {"Data": mime.as_bytes()}},
    )

    # Then it is in the outbox, parsed
    (sent,) = sent_emails()
    assert sent.source == sender
    assert sent.destinations == ["ana@example.net"]
    assert sent.subject == "Your bill went up"
    assert (sent.text or "").strip() == "Plain text"
    assert (sent.html or "").strip() == "<p>HTML</p>"
    assert sent.message is not None
    assert sent.message["To"] == "Ana <ana@example.net>"
    # ...while an address outside the verified identity is refused, as by SES
    with pytest.raises(ClientError, match="MessageRejected"):
        sesv2.send_email(
            FromEmailAddress="someone@unverified.test",
            Destination={"ToAddresses": ["ana@example.net"]},
            Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
        )


def test_sent_sms_lists_published_text_messages(deployment: Deployment) -> None:
    # When an SMS is published to a phone number
    boto3.client("sns").publish(PhoneNumber="+15555550100", Message="Your bill went up")

    # Then it is in the SMS outbox
    assert [(s.phone_number, s.message) for s in sent_sms()] == [("+15555550100", "Your bill went up")]
