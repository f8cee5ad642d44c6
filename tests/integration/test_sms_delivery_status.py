"""The custom resource that turns SNS's SMS delivery-status logging on, driven as CloudFormation
drives it (its request, a real response URL on 127.0.0.1), on moto from template.yaml."""

import json
from typing import Any

import boto3

from emulator import Deployment
from emulator.custom_resources import _ResponseServer, create_request

FUNCTION = "SmsDeliveryStatusFunction"


def cloudformation_sends(
    deployment: Deployment, request_type: str, *, without: str | None = None
) -> dict[str, Any]:
    """Invoke the function with CloudFormation's request; return the response it PUT."""
    server = _ResponseServer()
    request = create_request(
        deployment,
        "SmsDeliveryStatus",
        {
            "ServiceToken": deployment.get_att(FUNCTION, "Arn"),
            "DeliveryStatusIAMRole": deployment.get_att("SmsDeliveryStatusRole", "Arn"),
            "DeliveryStatusSuccessSamplingRate": "100",
        },
        response_url=server.url("response"),
    )
    request["RequestType"] = request_type
    if without is not None:
        del request["ResourceProperties"][without]
    if request_type != "Create":
        request["PhysicalResourceId"] = "sms-delivery-status"
    deployment.invoke(FUNCTION, request)
    body = server.wait(5)
    assert body is not None, "the function never answered CloudFormation"
    response: dict[str, Any] = json.loads(body)
    return response


def sms_role() -> str | None:
    return boto3.client("sns").get_sms_attributes()["attributes"].get("DeliveryStatusIAMRole") or None


def test_deleting_the_stack_turns_off_the_logging_it_turned_on(deployment: Deployment) -> None:
    assert sms_role() == deployment.get_att("SmsDeliveryStatusRole", "Arn")  # set when provisioned

    response = cloudformation_sends(deployment, "Delete")

    assert response["Status"] == "SUCCESS"
    assert sms_role() is None


def test_deleting_the_stack_leaves_another_stacks_setting_alone(deployment: Deployment) -> None:
    # Given another stack took the account's setting over since
    other = "arn:aws:iam::123456789012:role/another-stack-sms-logs"
    boto3.client("sns").set_sms_attributes(attributes={"DeliveryStatusIAMRole": other})

    response = cloudformation_sends(deployment, "Delete")

    assert response["Status"] == "SUCCESS"
    assert sms_role() == other


def test_a_request_it_cannot_apply_is_reported_failed_with_the_reason(deployment: Deployment) -> None:
    response = cloudformation_sends(deployment, "Update", without="DeliveryStatusIAMRole")

    assert response["Status"] == "FAILED"
    assert response["Reason"]
    assert (response["RequestId"], response["LogicalResourceId"]) != ("", "")
