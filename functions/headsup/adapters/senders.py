"""Email through SES and SMS through SNS, behind small interfaces.

Provider answers are sorted by what they say about the message, because each calls for
different handling:
- a permanent rejection (`PermanentSendError`) is recorded and never retried: retrying a
  rejected address only hurts sender reputation;
- throttling ("Maximum sending rate exceeded") means the message was *not* accepted: it is a
  wait, not a failure (`SendThrottled`), and delivery puts the notice back on the queue with a
  growing delay, not a sleep here (domain/pacing.py); SES's "Daily message quota exceeded" is
  `SendQuotaExceeded`, which delivery turns into a hold;
- no answer at all (a read timeout or a dropped connection after the request went out) means
  the provider may or may not have accepted it (`UnconfirmedSend`): it is never sent again;
- any other error is transient and retried through the queue.

The SDK's own retries are off for the sending calls: botocore would also retry a read timeout,
which can send the same message twice.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_email_policy
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from headsup.domain.messages import RenderedEmail, RenderedSms

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


class SendThrottled(RuntimeError):
    """The provider refused the message for its sending rate: it was not accepted."""


class SendQuotaExceeded(SendThrottled):
    """SES refused the message for the account's 24-hour quota: it was not accepted."""


class UnconfirmedSend(RuntimeError):
    """The request went out but no answer came back: the message may have been accepted."""


# One attempt per call: a retried read timeout could be a second copy of an accepted message.
# Headers written on one line (RFC 5322 allows 998 characters). When Python's email package folds
# a header at 78 before an encoded word, the folding space survives unfolding: "por qué" arrives
# as "por  qué" in the customer's inbox. Bodies are unaffected (their encoding keeps lines short).
UNFOLDED_HEADERS = default_email_policy.clone(max_line_length=998)
SEND_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10)

_THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "Throttled", "ThrottledException"}
)


def call_provider(
    send: Callable[[], Mapping[str, object]], permanent: frozenset[str]
) -> Mapping[str, object]:
    """Call the provider once, and say what its answer means for the message."""
    try:
        return send()
    except (ReadTimeoutError, ConnectionClosedError) as exc:
        raise UnconfirmedSend(type(exc).__name__) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in permanent:
            raise PermanentSendError(code) from exc
        if code in _THROTTLING:
            if "daily" in str(error.get("Message", "")).lower():
                raise SendQuotaExceeded(code) from exc
            raise SendThrottled(code) from exc
        raise


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
        self._client = client or boto3.client("sns", config=SEND_CLIENT_CONFIG)

    def publish(self, subject: str, body: str, *, notice_id: str, kind: str) -> str:
        response = call_provider(
            lambda: self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject,
                Message=body,
                # Lets subscribers filter (e.g. only SLA warnings to the on-call pager).
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": kind},
                    "notice_id": {"DataType": "String", "StringValue": notice_id},
                },
            ),
            _SNS_PERMANENT,
        )
        return str(response["MessageId"])


@dataclass(frozen=True)
class EmailIdentity:
    """Who the business's emails come from, and where replies go."""

    address: str
    name: str
    reply_to: str | None = None


@dataclass(frozen=True)
class TrackedConfigurationSet:
    """The configuration set with open and click tracking, for the kinds of the topics a business
    chose to track (EngagementTrackingTopics); no name: nothing is tracked."""

    name: str = ""
    kinds: frozenset[str] = frozenset()


class SesEmailSender:
    def __init__(
        self,
        identity: EmailIdentity,
        configuration_set: str | None = None,
        client: "SESV2Client | None" = None,
        tracked: TrackedConfigurationSet = TrackedConfigurationSet(),
    ) -> None:
        self._identity = identity
        self._configuration_set = configuration_set
        self._tracked = tracked
        self._client = client or boto3.client("sesv2", config=SEND_CLIENT_CONFIG)

    def build_mime(
        self, to: str, email: RenderedEmail, *, notice_id: str, unsubscribe_url: str | None = None
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = Address(display_name=self._identity.name, addr_spec=self._identity.address)
        message["To"] = to
        message["Subject"] = email.subject
        if self._identity.reply_to:
            # Replies reach people who can help, not the sending address.
            message["Reply-To"] = self._identity.reply_to
        message["Message-ID"] = make_msgid(domain=self._identity.address.rpartition("@")[2] or None)
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
            "FromEmailAddress": self._identity.address,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": mime.as_bytes(policy=UNFOLDED_HEADERS)}},
            "EmailTags": [
                {"Name": "notice_id", "Value": notice_id},
                {"Name": "kind", "Value": kind},
            ],
        }
        if self._tracked.name and kind in self._tracked.kinds:
            request["ConfigurationSetName"] = self._tracked.name
        elif self._configuration_set:
            # SES reports what became of each email sent through this set to SesFeedbackFunction.
            request["ConfigurationSetName"] = self._configuration_set
        response = call_provider(lambda: self._client.send_email(**request), _SES_PERMANENT)
        return str(response["MessageId"])


class SnsSmsSender:
    def __init__(
        self,
        sender_id: str | None = None,
        client: "SNSClient | None" = None,
        lookup_client: "SNSClient | None" = None,
        origination_number: str | None = None,
    ) -> None:
        self._sender_id = sender_id
        # With two-way SMS, texts must come from the number that receives the answers.
        self._origination_number = origination_number
        self._client = client or boto3.client("sns", config=SEND_CLIENT_CONFIG)
        # The opt-out lookup changes nothing, so it keeps the SDK's retries.
        self._lookup_client = lookup_client or client or boto3.client("sns")

    def send_sms(
        self, to: str, sms: RenderedSms, *, notice_id: str, kind: str, origination: str | None = None
    ) -> str:
        """`origination`: the number to send from (a reply goes from the number the customer
        texted), else the sender's own, else whichever SNS picks."""
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            # Transactional: delivered with priority, and not subject to marketing filtering.
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        number = origination or self._origination_number
        if number:
            attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": number}
        response = call_provider(
            lambda: self._client.publish(PhoneNumber=to, Message=sms.text, MessageAttributes=attributes),
            _SNS_PERMANENT,
        )
        return str(response["MessageId"])

    def is_opted_out(self, phone: str) -> bool:
        response = self._lookup_client.check_if_phone_number_is_opted_out(phoneNumber=phone)
        return bool(response["isOptedOut"])
