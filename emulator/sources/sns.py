"""SNS's part for a function's ``Type: SNS`` events: publish to the topic through moto, then invoke the
function with the Lambda SNS event for the message, unless the subscription's filter policy rejects it."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moto.sns.models import sns_backends
from moto.sns.utils import FilterPolicyMatcher

from emulator.cfn import cfn_string
from emulator.clients import client
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource, epoch_to_iso

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def _sns_attribute(value: Any) -> dict[str, Any]:
    """A Publish MessageAttributes value from a plain Python value (or one already in boto3's shape)."""
    if isinstance(value, Mapping) and "DataType" in value:
        return dict(value)
    if isinstance(value, bytes):
        return {"DataType": "Binary", "BinaryValue": value}
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        return {"DataType": "String", "StringValue": cfn_string(value)}
    if isinstance(value, list):
        return {"DataType": "String.Array", "StringValue": json.dumps(value)}
    return {"DataType": "Number", "StringValue": str(value)}


class SnsSource(EventSource):
    """SNS's part for one of a function's ``Type: SNS`` events: publish to the topic, then invoke.

    The message is published through moto (so it is in ``topic_messages``), then the function is invoked with
    the Lambda SNS event for it, unless the event's FilterPolicy rejects it. moto is not given a Lambda
    subscription: it would invoke moto's own Lambda service, where the function does not exist.
    """

    event_type = "SNS"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        if self.properties.get("SqsSubscription"):
            raise NotImplementedError(f"{function_logical_id}.{event_name}: SqsSubscription is not emulated")
        self.topic_arn: str = str(self.properties["Topic"])
        topic_region = self.topic_arn.split(":")[3]
        self.region = str(self.properties.get("Region") or topic_region)
        policy = self.properties.get("FilterPolicy")
        scope = self.properties.get("FilterPolicyScope")
        self._filter = (
            None if not policy else FilterPolicyMatcher(policy, None if scope is None else str(scope))
        )
        self.subscription_arn = (
            f"{self.topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, self.topic_arn + event_name)}"
        )
        self._sns: SNSClient = client("sns", topic_region)

    def publish(
        self, message: str, subject: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> str:
        """Publish to the topic through moto and return the message id (nothing is invoked)."""
        request: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": message}
        if subject is not None:
            request["Subject"] = subject
        if attributes:
            request["MessageAttributes"] = {name: _sns_attribute(v) for name, v in attributes.items()}
        return self._sns.publish(**request)["MessageId"]

    def _published(self, message_id: str) -> tuple[str, str | None, dict[str, dict[str, str]]]:
        account_id, topic_region = self.topic_arn.split(":")[4], self.topic_arn.split(":")[3]
        topic = sns_backends[account_id][topic_region].get_topic(self.topic_arn)
        for notification in reversed(topic.sent_notifications):
            # moto's internal record (see topic_messages): attributes are already as SNS delivers them.
            published_id, message, subject, attributes, _ = notification
            if published_id == message_id:
                return message, subject, dict(attributes or {})
        raise LookupError(f"moto has no message {message_id} on {self.topic_arn}")

    def event(
        self, message_id: str, message: str, subject: str | None, attributes: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        """The Lambda SNS event for one published message."""
        endpoint = f"https://sns.{self.region}.amazonaws.com"
        signature = base64.b64encode(secrets.token_bytes(256)).decode()
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": self.subscription_arn,
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": message_id,
                        "TopicArn": self.topic_arn,
                        "Subject": subject,
                        "Message": message,
                        "Timestamp": epoch_to_iso(time.time()),
                        "SignatureVersion": "1",
                        # Not a real signature: nothing locally holds SNS's signing key.
                        "Signature": signature,
                        "SigningCertUrl": f"{endpoint}/SimpleNotificationService-"
                        f"{uuid.uuid5(uuid.NAMESPACE_URL, endpoint).hex}.pem",
                        "UnsubscribeUrl": f"{endpoint}/?Action=Unsubscribe"
                        f"&SubscriptionArn={self.subscription_arn}",
                        "MessageAttributes": attributes,
                    },
                }
            ]
        }

    def deliver(
        self,
        message: str,
        subject: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        *,
        handler: LambdaHandler | None = None,
    ) -> Any:
        """Publish ``message`` to the topic and invoke the function with it; return the function's response.

        ``attributes`` values are plain (str -> String, int/float -> Number, list -> String.Array, bytes ->
        Binary) or boto3's ``{"DataType": ..., "StringValue"|"BinaryValue": ...}``. Returns None without
        invoking when the FilterPolicy rejects the message. A handler exception propagates (SNS's
        asynchronous invoke would retry it twice and then drop it).
        """
        message_id = self.publish(message, subject, attributes)
        published, published_subject, published_attributes = self._published(message_id)
        if self._filter is not None and not self._filter.matches(published_attributes, published):
            return None
        event = self.event(message_id, published, published_subject, published_attributes)
        return self.invoke(event, handler)
