"""What the providers accepted, read back from moto: the emails SES and the SMS messages SNS took for
sending, the messages published to the template's topics, and those waiting in its queues."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import Parser
from email.policy import default as default_email_policy
from email.utils import getaddresses
from typing import TYPE_CHECKING

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import Message as MotoSimpleEmail
from moto.ses.models import RawMessage as MotoRawEmail
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from emulator.cfn import region
from emulator.clients import client
from emulator.deployment import Deployment
from emulator.sources.sqs import SQS_MAX_BATCH

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    destinations: list[str]  # bare addresses, each once
    subject: str | None
    text: str | None
    html: str | None
    raw: str | None = None  # the MIME document of a raw send
    message: EmailMessage | None = None  # ``raw`` parsed


@dataclass(frozen=True)
class SentSms:
    message_id: str
    phone_number: str
    message: str


def _unique_addresses(destinations: list[str]) -> list[str]:
    # moto adds a raw send's To/Cc/Bcc header addresses to those given to the API: each appears twice.
    return list(dict.fromkeys(address for _, address in getaddresses(destinations) if address))


def _body_part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


def _from_raw(sent: MotoRawEmail) -> SentEmail:
    parsed = Parser(_class=EmailMessage, policy=default_email_policy).parsestr(sent.raw_data)
    return SentEmail(
        message_id=sent.id,
        source=sent.source,
        destinations=_unique_addresses(list(sent.destinations)),
        subject=None if parsed["Subject"] is None else str(parsed["Subject"]),
        text=_body_part(parsed, "plain"),
        html=_body_part(parsed, "html"),
        raw=sent.raw_data,
        message=parsed,
    )


def _from_simple(sent: MotoSimpleEmail) -> SentEmail:
    # moto keeps one body of a simple send: the HTML one if there is one.
    is_html = sent.body.lstrip().startswith("<")
    addresses = [
        address
        for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
        for address in sent.destinations.get(kind, [])
    ]
    return SentEmail(
        message_id=sent.id,
        source=sent.source,
        destinations=_unique_addresses(addresses),
        subject=sent.subject,
        text=None if is_html else sent.body,
        html=sent.body if is_html else None,
    )


def sent_emails(aws_region: str | None = None, since: int = 0) -> list[SentEmail]:
    """Emails moto accepted for sending (SES v1 and v2 share moto's SES backend), oldest first;
    with `since`, only those after the first `since` (each is parsed, so a watcher asks for the new)."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][aws_region or region()]
    emails = []
    for sent in backend.sent_messages[since:]:
        if isinstance(sent, MotoRawEmail):
            emails.append(_from_raw(sent))
        elif isinstance(sent, MotoSimpleEmail):
            emails.append(_from_simple(sent))
    return emails


def sent_sms(aws_region: str | None = None) -> list[SentSms]:
    """SMS messages moto accepted for sending (SNS Publish to a PhoneNumber), oldest first."""
    backend = sns_backends[DEFAULT_ACCOUNT_ID][aws_region or region()]
    return [SentSms(message_id, phone, text) for message_id, (phone, text) in backend.sms_messages.items()]


@dataclass(frozen=True)
class PublishedMessage:
    message_id: str
    subject: str | None
    message: str
    # As SNS hands them to subscribers: name -> {"Type": DataType, "Value": the value, binary as base64}.
    attributes: dict[str, dict[str, str]]
    group_id: str | None = None


def topic_messages(deployment: Deployment, topic_logical_id: str) -> list[PublishedMessage]:
    """Messages moto accepted for one of the template's topics (Publish and PublishBatch), oldest first.

    moto keeps every publish in its topic's ``sent_notifications`` whether or not anything subscribes.
    """
    backend = sns_backends[deployment.account_id][deployment.region]
    topic = backend.get_topic(deployment.ref(topic_logical_id))
    messages = []
    for notification in topic.sent_notifications:
        # An internal moto structure ("the exact format may differ per versions"); unpacking it whole
        # fails loudly if a moto upgrade changes it.
        message_id, message, subject, attributes, group_id = notification
        messages.append(PublishedMessage(message_id, subject, message, dict(attributes or {}), group_id))
    return messages


def queue_messages(deployment: Deployment, queue_logical_id: str) -> list[MessageTypeDef]:
    """The messages now in a queue (boto3's shape), left in it.

    Looking counts as a receive: on a queue with a redrive policy it brings messages closer to its DLQ.
    """
    sqs: SQSClient = client("sqs", deployment.region)
    url = deployment.ref(queue_logical_id)
    messages: list[MessageTypeDef] = []
    while True:
        # Held invisible until all are seen, so no message is returned twice.
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=SQS_MAX_BATCH,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        messages += received
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages
