"""emulator.deployment: parameters, intrinsics, and the template's functions run as Lambda runs them.

Handlers here are small test doubles, not headsup's: this is about the harness, not the functions.
"""

import copy
import json
import os
import re
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import (
    Deployment,
    LambdaContext,
    LambdaHandler,
    provision,
)
from emulator.template import REPO_ROOT, load_template
from sim.pipeline import LocalPipeline

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
STACK = "headsup-local"
DETECTOR = "BillIncreaseDetectorFunction"
DELIVERY = "NoticeDeliveryFunction"
API = "UnsubscribeApi"
FEEDBACK_TOPIC = "SesFeedbackTopic"


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """MINI_TEMPLATE's function, imported by its Handler path."""
    return {"batchItemFailures": []}


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
                "Handler": "tests.emulator.test_deployment.succeed",
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


# ---------------------------------------------------------------------------------- parameters and intrinsics


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
    [
        (None, "visit_on_the_way|visit_running_late|visit_eta_earlier", "visit_on_the_way"),
        ("a,b,c", "a|b|c", "a"),
    ],
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


def test_invoke_sets_the_environment_for_the_call_and_passes_a_lambda_context(deployment: Deployment) -> None:
    # Given a handler that records what it was given
    seen: dict[str, Any] = {}
    before = dict(os.environ)

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
    # ...and the process's environment is as it was before (handlers read their settings at cold start)
    assert dict(os.environ) == before


def test_invoke_puts_the_environment_back_after_a_handler_error_or_a_change_of_its_own(
    deployment: Deployment,
) -> None:
    # Given a handler that changes the environment and then fails
    before = dict(os.environ)

    def handler(event: dict[str, Any], context: LambdaContext) -> None:
        os.environ["SET_BY_THE_HANDLER"] = "1"
        os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
        raise RuntimeError("boom")

    # When the function is invoked
    with pytest.raises(RuntimeError, match="boom"):
        deployment.invoke(DELIVERY, {}, handler=handler)

    # Then the process's environment is exactly as it was
    assert dict(os.environ) == before


def test_the_pipeline_offers_both_sources_without_importing_their_handlers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given handlers that must not be imported merely to set the pipeline up (but the custom
    # resource's, which provisioning runs as CloudFormation does)
    imported = Deployment.handler

    def refuse(self: Deployment, function_logical_id: str) -> LambdaHandler:
        if function_logical_id == "SmsDeliveryStatusFunction":
            return imported(self, function_logical_id)
        raise AssertionError(f"{function_logical_id}'s handler was imported")

    monkeypatch.setattr(Deployment, "handler", refuse)

    with mock_aws():
        # When the pipeline is provisioned
        pipeline = LocalPipeline.provision()

        # Then it has the unsubscribe API and the SES feedback subscription
        assert (
            pipeline.unsubscribe_api.base_url
            == f"https://{pipeline.deployment.ref(API)}.execute-api.us-east-1.amazonaws.com"
        )
        assert pipeline.ses_feedback.topic_arn == pipeline.deployment.ref(FEEDBACK_TOPIC)
