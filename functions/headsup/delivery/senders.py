"""Email through SES and SMS through SNS, behind small interfaces.

Provider errors are sorted into two kinds, because they call for opposite handling:
a permanent rejection is recorded and never retried (retrying a rejected address only hurts
sender reputation); anything else is transient and retried through the queue.
"""

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.exceptions import ClientError

from headsup.delivery.rendering import RenderedEmail, RenderedSms

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef


class PermanentSendError(RuntimeError):
    """The provider refused this message for good (bad address, rejected content)."""

    def __init__(self, code: str) -> None:
        # Only the provider's error code: its message can quote the recipient's address.
        self.code = code
        super().__init__(code)


# SES v2 SendEmail errors that will not go away on retry.
_SES_PERMANENT = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException"}
)
_SNS_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut"})


class EmailSender(Protocol):
    def send_email(
        self, to: str, email: RenderedEmail, *, notice_id: str, kind: str, unsubscribe_url: str | None = None
    ) -> str: ...


class SmsSender(Protocol):
    def send_sms(self, to: str, sms: RenderedSms, *, notice_id: str, kind: str) -> str: ...

    def is_opted_out(self, phone: str) -> bool: ...


class TeamPublisher(Protocol):
    def publish(self, subject: str, body: str, *, notice_id: str, kind: str) -> str: ...


class SnsTeamPublisher:
    """Escalations and warnings for the team, on EscalationTopic."""

    def __init__(self, topic_arn: str, client: "SNSClient | None" = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, subject: str, body: str, *, notice_id: str, kind: str) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Subject=subject,
            Message=body,
            # Lets subscribers filter (e.g. only SLA warnings to the on-call pager).
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": kind},
                "notice_id": {"DataType": "String", "StringValue": notice_id},
            },
        )
        return response["MessageId"]


class SesEmailSender:
    def __init__(
        self,
        sender: str,
        sender_name: str,
        reply_to: str | None = None,
        configuration_set: str | None = None,
        client: "SESV2Client | None" = None,
    ) -> None:
        self._sender = sender
        self._sender_name = sender_name
        self._reply_to = reply_to
        self._configuration_set = configuration_set
        self._client = client or boto3.client("sesv2")

    def build_mime(
        self, to: str, email: RenderedEmail, *, notice_id: str, unsubscribe_url: str | None = None
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = Address(display_name=self._sender_name, addr_spec=self._sender)
        message["To"] = to
        message["Subject"] = email.subject
        if self._reply_to:
            # Replies reach people who can help, not the sending address.
            message["Reply-To"] = self._reply_to
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        # Lets bounces and complaints be traced back to the notice that caused them.
        message["X-Headsup-Notice-Id"] = notice_id
        if unsubscribe_url:
            # RFC 8058 one-click unsubscribe, required by Gmail and Yahoo for bulk senders.
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def send_email(
        self, to: str, email: RenderedEmail, *, notice_id: str, kind: str, unsubscribe_url: str | None = None
    ) -> str:
        # Raw, not Simple: the message is exactly what the customer receives, List-Unsubscribe
        # headers included.
        mime = self.build_mime(to, email, notice_id=notice_id, unsubscribe_url=unsubscribe_url)
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": mime.as_bytes()}},
            "EmailTags": [
                {"Name": "notice_id", "Value": notice_id},
                {"Name": "kind", "Value": kind},
            ],
        }
        if self._configuration_set:
            # SES reports bounces and complaints for this set to SesFeedbackFunction.
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except ClientError as exc:
            _raise_if_permanent(exc, _SES_PERMANENT)
            raise
        return response["MessageId"]


class SnsSmsSender:
    def __init__(self, sender_id: str | None = None, client: "SNSClient | None" = None) -> None:
        self._sender_id = sender_id
        self._client = client or boto3.client("sns")

    def send_sms(self, to: str, sms: RenderedSms, *, notice_id: str, kind: str) -> str:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            # Transactional: delivered with priority, and not subject to marketing filtering.
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            response = self._client.publish(PhoneNumber=to, Message=sms.text, MessageAttributes=attributes)
        except ClientError as exc:
            _raise_if_permanent(exc, _SNS_PERMANENT)
            raise
        return response["MessageId"]

    def is_opted_out(self, phone: str) -> bool:
        response = self._client.check_if_phone_number_is_opted_out(phoneNumber=phone)
        return bool(response["isOptedOut"])


def _raise_if_permanent(exc: ClientError, permanent: frozenset[str]) -> None:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    if code in permanent:
        raise PermanentSendError(code) from exc
