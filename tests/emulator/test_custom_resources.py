"""emulator.custom_resources: a custom resource is created by its function, which CloudFormation sends the
Create request and which answers by a PUT to the request's ResponseURL.

The provider here is a test double named by the tiny template's Handler (this module's `provider`); what
it answers is steered by the resource's `Answer` property. The template's own custom resource
(SmsDeliveryStatus) is provisioned with headsup's handler by the `deployment` fixture.
"""

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import Deployment, provision
from emulator import custom_resources as custom
from emulator.custom_resources import CustomResourceFailed

PROVIDER, THING = "Provider", "Thing"
# Each Create request the provider was sent, with the log groups that existed when it ran.
requests: list[dict[str, Any]] = []


def provider(event: dict[str, Any], context: Any) -> None:
    """A custom resource's function: answers as its `Answer` property says."""
    groups = boto3.client("logs").describe_log_groups()["logGroups"]
    requests.append({**event, "groups seen": [group["logGroupName"] for group in groups]})
    answer = event["ResourceProperties"].get("Answer", "SUCCESS")
    if answer == "raise":
        raise RuntimeError("the provider broke")
    if answer == "silent":
        return
    response = {
        "Status": answer,
        "Reason": "the widget quota is used up" if answer == "FAILED" else "",
        "PhysicalResourceId": "thing-1",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Greeting": "hello", "Count": 3},
    }
    if answer == "stranger":
        response |= {"Status": "SUCCESS", "RequestId": "another request"}
    put = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(response).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=5):
        pass


def template(answer: str = "SUCCESS", service_token: Any = None) -> dict[str, Any]:
    return {
        "Resources": {
            PROVIDER: {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": f"{__name__}.provider", "Runtime": "python3.13"},
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "made-first"}},
            THING: {
                "Type": "Custom::Widget",
                "DependsOn": "Logs",
                "Properties": {
                    "ServiceToken": service_token or {"Fn::GetAtt": [PROVIDER, "Arn"]},
                    "Answer": answer,
                    "Size": 5,
                    "Enabled": True,
                    "Tags": [{"Key": "team", "Value": "support"}],
                },
            },
            # Made after the widget, from what its function answered.
            "Inbox": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": {"Ref": THING},
                    "Tags": [{"Key": "greeting", "Value": {"Fn::GetAtt": [THING, "Greeting"]}}],
                },
            },
        }
    }


@pytest.fixture
def aws() -> Iterator[None]:
    requests.clear()
    with mock_aws():
        yield


@pytest.mark.usefixtures("aws")
def test_the_function_gets_cloudformations_create_request_and_its_answer_is_the_resource() -> None:
    # When a template with a custom resource is provisioned
    deployment = provision(template(), stack_name="mini")

    # Then its function got the Create request, in CloudFormation's shape, after what it DependsOn
    (request,) = requests
    assert request.pop("groups seen") == ["made-first"]
    assert set(request) == {
        "RequestType",
        "ServiceToken",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "ResourceType",
        "ResourceProperties",
    }
    arn = deployment.function_arn(PROVIDER)
    assert (request["RequestType"], request["ServiceToken"]) == ("Create", arn)
    assert request["StackId"] == deployment.ref("AWS::StackId")
    assert (request["LogicalResourceId"], request["ResourceType"]) == (THING, "Custom::Widget")
    assert request["ResponseURL"].startswith("http://127.0.0.1:")
    # ...every scalar property as a string, as CloudFormation hands them on
    assert request["ResourceProperties"] == {
        "ServiceToken": arn,
        "Answer": "SUCCESS",
        "Size": "5",
        "Enabled": "true",
        "Tags": [{"Key": "team", "Value": "support"}],
    }

    # ...and Ref is the PhysicalResourceId it answered, Fn::GetAtt its Data
    assert deployment.ref(THING) == "thing-1"
    assert (deployment.get_att(THING, "Greeting"), deployment.get_att(THING, "Count")) == ("hello", "3")
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="thing-1")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"greeting": "hello"}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("FAILED", r"Received response status \[FAILED\].*the widget quota is used up"),
        ("stranger", "the response's RequestId is not the request's"),
        ("raise", "Provider raised on the Create request"),
    ],
)
def test_a_resource_its_function_fails_fails_provisioning(answer: str, message: str) -> None:
    with pytest.raises(CustomResourceFailed, match=message):
        provision(template(answer), stack_name="mini")


@pytest.mark.usefixtures("aws")
def test_a_function_that_never_answers_fails_provisioning_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(custom, "RESPONSE_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(CustomResourceFailed, match=r"no response at the ResponseURL within 0\.2 s"):
        provision(template("silent"), stack_name="mini")
    assert len(requests) == 1


@pytest.mark.usefixtures("aws")
def test_a_service_token_that_is_not_a_function_of_the_template_is_refused() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:someone-elses-provider"
    with pytest.raises(CustomResourceFailed, match="not the ARN of a function of this template"):
        provision(template(service_token=topic), stack_name="mini")
    assert requests == []


@pytest.mark.usefixtures("aws")
def test_a_role_is_created_with_its_trust_policy_and_inline_policies() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
    }
    roles = {
        "Resources": {
            "Writer": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": trust,
                    "Policies": [{"PolicyName": "Write", "PolicyDocument": policy}],
                },
            }
        }
    }

    deployment = provision(roles, stack_name="mini")

    iam = boto3.client("iam")
    role = iam.get_role(RoleName="mini-Writer")["Role"]
    assert deployment.ref("Writer") == "mini-Writer"
    assert deployment.get_att("Writer", "Arn") == role["Arn"] == "arn:aws:iam::123456789012:role/mini-Writer"
    assert deployment.get_att("Writer", "RoleId") == role["RoleId"]
    assert role["AssumeRolePolicyDocument"] == trust
    assert iam.get_role_policy(RoleName="mini-Writer", PolicyName="Write")["PolicyDocument"] == policy


def test_the_templates_custom_resource_turns_on_sms_delivery_status_logging(deployment: Deployment) -> None:
    # Given template.yaml provisioned (SmsDeliveryStatus created by headsup's own function)
    role = deployment.get_att("SmsDeliveryStatusRole", "Arn")

    # Then SNS's SMS attributes name the role, sampling every delivered SMS
    attributes = boto3.client("sns").get_sms_attributes()["attributes"]
    assert attributes["DeliveryStatusIAMRole"] == role
    assert attributes["DeliveryStatusSuccessSamplingRate"] == "100"
    # ...and the groups SNS writes to exist, under the names SNS uses
    groups = {g["logGroupName"] for g in boto3.client("logs").describe_log_groups()["logGroups"]}
    prefix = f"sns/us-east-1/{deployment.account_id}/DirectPublishToPhoneNumber"
    assert {prefix, f"{prefix}/Failure"} <= groups
