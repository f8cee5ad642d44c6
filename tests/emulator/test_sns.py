"""emulator.sources.sns: the SES feedback topic's subscription, delivered in Lambda's SNS event shape.

Handlers here are small test doubles, not headsup's: the feedback handler is not what is under test, only
what SNS would hand it.
"""

import base64
import copy
import json
import re
from typing import Any

import pytest
from moto import mock_aws

from emulator import (
    Deployment,
    LambdaHandler,
    SnsSource,
    provision,
    topic_messages,
)
from emulator.template import load_template

TEMPLATE = load_template()
UNSUBSCRIBE, FEEDBACK_FUNCTION, FEEDBACK = "UnsubscribeFunction", "SesFeedbackFunction", "Feedback"
FEEDBACK_TOPIC = "SesFeedbackTopic"


def recorder(events: list[dict[str, Any]], response: Any = None) -> LambdaHandler:
    """A handler that keeps each event it is given and answers with ``response``."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return response

    return handler


# ------------------------------------------------------------------------------------------- SNS


def test_sns_delivery_publishes_to_the_topic_and_invokes_with_lambdas_sns_event(
    deployment: Deployment,
) -> None:
    # Given the feedback function's SNS event on the feedback topic
    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    topic = deployment.ref(FEEDBACK_TOPIC)
    assert source.topic_arn == topic
    events: list[dict[str, Any]] = []
    notification = json.dumps({"notificationType": "Bounce", "mail": {"messageId": "m-1"}})

    # When SES's notification is delivered
    response = source.deliver(notification, handler=recorder(events, "handled"))

    # Then the message is really on the topic, and the function got Lambda's SNS event for it
    assert response == "handled"
    (published,) = topic_messages(deployment, FEEDBACK_TOPIC)
    (event,) = events
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(f"{topic}:")
    sns = record["Sns"]
    assert set(sns) == {
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    }
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published.message_id
    assert sns["TopicArn"] == topic
    assert sns["Message"] == notification
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sns["Timestamp"])
    assert sns["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert sns["UnsubscribeUrl"].endswith(f"SubscriptionArn={record['EventSubscriptionArn']}")


def test_sns_subject_and_attributes_arrive_as_sns_hands_them_to_lambda(deployment: Deployment) -> None:
    # Given a message with a subject and attributes of each type
    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    events: list[dict[str, Any]] = []

    # When it is delivered
    source.deliver(
        "body",
        subject="Bounce",
        attributes={
            "kind": "bounce",
            "count": 2,
            "raw": b"\x00\xff",
            "tags": ["a", "b"],
            "explicit": {"DataType": "String", "StringValue": "as boto3 takes it"},
        },
        handler=recorder(events),
    )

    # Then the function sees them as {"Type", "Value"}, binary base64-encoded
    sns = events[0]["Records"][0]["Sns"]
    assert sns["Subject"] == "Bounce"
    assert sns["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "bounce"},
        "count": {"Type": "Number", "Value": "2"},
        "raw": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xff").decode()},
        "tags": {"Type": "String.Array", "Value": '["a", "b"]'},
        "explicit": {"Type": "String", "Value": "as boto3 takes it"},
    }


def test_an_sns_handler_exception_propagates_after_the_message_is_published(deployment: Deployment) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
    with pytest.raises(RuntimeError, match="boom"):
        source.deliver("m", handler=handler)
    assert [m.message for m in topic_messages(deployment, FEEDBACK_TOPIC)] == ["m"]


def test_an_sns_filter_policy_keeps_the_function_from_messages_it_rejects() -> None:
    # Given the feedback event with a filter policy on a message attribute
    template = copy.deepcopy(TEMPLATE)
    template["Resources"][FEEDBACK_FUNCTION]["Properties"]["Events"][FEEDBACK]["Properties"][
        "FilterPolicy"
    ] = {"kind": ["bounce"]}
    with mock_aws():
        deployment = provision(template)
        source = SnsSource(deployment, FEEDBACK_FUNCTION, FEEDBACK)
        events: list[dict[str, Any]] = []

        # When one message matches and one does not
        source.deliver("kept", attributes={"kind": "bounce"}, handler=recorder(events, "ran"))
        skipped = source.deliver("dropped", attributes={"kind": "delivery"}, handler=recorder(events, "ran"))

        # Then only the matching one invokes the function, though both were published
        assert skipped is None
        assert [e["Records"][0]["Sns"]["Message"] for e in events] == ["kept"]
        assert [m.message for m in topic_messages(deployment, FEEDBACK_TOPIC)] == ["kept", "dropped"]


def test_an_sns_source_needs_an_sns_event(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="not SNS"):
        SnsSource(deployment, UNSUBSCRIBE, "Confirm")
