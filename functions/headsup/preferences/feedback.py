"""SES bounces and complaints: stop emailing an address that cannot, or does not want to, receive.

SES publishes an event for every bounce and complaint on mail sent through SesConfigurationSet
to SesFeedbackTopic. For each one:

* a permanent bounce or a complaint suppresses the address for email in PreferencesTable, for the
  customer the notice was sent to (taken from the notice's ledger item: the event names the
  notice, not the customer), so delivery stops emailing it and falls back to another channel;
* every bounce and complaint is recorded on that ledger item (`feedback`, `feedback_at`), next to
  the outcome delivery recorded. The item's `status` is left alone: the notice *was* sent, and a
  notice has one recorded outcome;
* a transient or undetermined bounce (mailbox full, message too large, greylisting...) is only
  recorded: the address may well work tomorrow.

Email addresses are personal data: they are written to PreferencesTable and never logged.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from headsup.preferences.store import PreferenceStore
from headsup.shared.errors import contract_problems
from headsup.shared.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The header and the SES message tag delivery puts on every email (see delivery/senders.py).
NOTICE_ID_TAG: Final = "notice_id"
NOTICE_ID_HEADER: Final = "x-headsup-notice-id"
_NOTICE_ID: Final = re.compile(r"^[0-9a-f]{32}$")
# What SES publishes, as plain text, to a topic when an event destination is created on it.
_TOPIC_VALIDATION: Final = "Successfully validated SNS topic for Amazon SES"


class FeedbackType(StrEnum):
    BOUNCE = "Bounce"
    COMPLAINT = "Complaint"


class MalformedFeedback(ValueError):
    """An SNS message that is not a readable SES bounce or complaint. `problems` name the fields
    at fault, never their values (which may be email addresses)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class SesFeedback:
    type: FeedbackType
    ses_message_id: str
    notice_id: str | None  # None when the email carried no (valid) headsup notice id
    recipients: tuple[str, ...]  # bare addresses; personal data, never logged
    bounce_type: str | None = None  # Permanent | Transient | Undetermined
    occurred_at: datetime | None = None

    @property
    def outcome(self) -> str:
        """How the feedback is recorded: `bounce:Permanent`, `bounce:Transient`... or `complaint`."""
        if self.type is FeedbackType.COMPLAINT:
            return "complaint"
        return f"bounce:{self.bounce_type}"

    @property
    def suppresses(self) -> bool:
        """Only a complaint or a permanent bounce stops email to the address."""
        return self.type is FeedbackType.COMPLAINT or self.bounce_type == "Permanent"


# ------------------------------------------------------------------------------------------- parsing
# The SES notification, as event publishing (`eventType`) and as classic identity feedback
# notifications (`notificationType`) write it; only the fields used here are read.


class _SesModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)


class _Recipient(_SesModel):
    email_address: str


class _Header(_SesModel):
    name: str
    value: str


class _Mail(_SesModel):
    message_id: str
    destination: list[str] = Field(default_factory=list)
    headers: list[_Header] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)  # event publishing only


class _Bounce(_SesModel):
    bounce_type: str
    bounced_recipients: list[_Recipient] = Field(min_length=1)
    timestamp: AwareDatetime | None = None


class _Complaint(_SesModel):
    complained_recipients: list[_Recipient] = Field(default_factory=list)
    timestamp: AwareDatetime | None = None


class _Notification(_SesModel):
    event_type: str | None = None
    notification_type: str | None = None
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None


def parse_notification(message: str) -> SesFeedback | None:
    """The bounce or complaint in an SNS message from SES; None for anything else SES publishes
    there (its topic-validation text, other event types), which needs no action.

    Raises MalformedFeedback when the message cannot be read as SES's notification.
    """
    if message.startswith(_TOPIC_VALIDATION):
        return None
    try:
        notification = _Notification.model_validate_json(message)
    except ValidationError as exc:
        raise MalformedFeedback(contract_problems(exc)) from exc
    kind = notification.event_type or notification.notification_type
    if kind not in (FeedbackType.BOUNCE, FeedbackType.COMPLAINT):
        return None
    mail = notification.mail
    if kind == FeedbackType.BOUNCE:
        if notification.bounce is None:
            raise MalformedFeedback(["bounce: Field required"])
        return SesFeedback(
            type=FeedbackType.BOUNCE,
            ses_message_id=mail.message_id,
            notice_id=_notice_id(mail),
            recipients=_addresses(r.email_address for r in notification.bounce.bounced_recipients),
            bounce_type=notification.bounce.bounce_type,
            occurred_at=notification.bounce.timestamp,
        )
    if notification.complaint is None:
        raise MalformedFeedback(["complaint: Field required"])
    # A complaint always names the recipient in practice; if a provider's report did not, the
    # message was sent to exactly one address of ours.
    named = notification.complaint.complained_recipients
    recipients = _addresses(r.email_address for r in named) if named else _addresses(mail.destination)
    if not recipients:
        raise MalformedFeedback(["complaint.complainedRecipients: no recipient address"])
    return SesFeedback(
        type=FeedbackType.COMPLAINT,
        ses_message_id=mail.message_id,
        notice_id=_notice_id(mail),
        recipients=recipients,
        occurred_at=notification.complaint.timestamp,
    )


def _notice_id(mail: _Mail) -> str | None:
    # The tag first: SES may truncate the headers it echoes (headersTruncated), never the tags.
    candidates = [*mail.tags.get(NOTICE_ID_TAG, [])[:1]]
    candidates += [h.value.strip() for h in mail.headers if h.name.strip().lower() == NOTICE_ID_HEADER]
    return next((c for c in candidates if _NOTICE_ID.fullmatch(c)), None)


def _addresses(raw: Any) -> tuple[str, ...]:
    """Bare addresses, each once (`Ana <ana@example.com>` -> `ana@example.com`)."""
    found = (parseaddr(str(value))[1].strip() for value in raw)
    return tuple(dict.fromkeys(address for address in found if "@" in address))


# ------------------------------------------------------------------------------------------- ledger


class FeedbackLedger(Protocol):
    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        """Record the feedback on the notice's ledger item and return the notice's customer id;
        None when the ledger has no such notice (nothing is written then)."""
        ...


class DynamoFeedbackLedger:
    """The one write this function makes to NoticeLedgerTable.

    One conditional UpdateItem both records the feedback and returns the item's customer id:
    the function may only UpdateItem the ledger (template.yaml), and the condition keeps it from
    creating an item for a notice the ledger does not hold (expired, or never ours).
    """

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"notice_id": {"S": notice_id}},
                # `status` is not touched: the notice was sent; the feedback sits beside that
                # outcome. Every kind seen is kept too, so a late transient bounce does not hide
                # an earlier complaint. The same event twice (SNS at-least-once, a retried
                # invocation) writes the same values.
                UpdateExpression="SET feedback = :feedback, feedback_at = :at ADD feedback_seen :seen",
                ConditionExpression="attribute_exists(notice_id)",
                ExpressionAttributeValues={
                    ":feedback": {"S": feedback},
                    ":at": {"S": at.isoformat()},
                    ":seen": {"SS": [feedback]},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        customer_id = response.get("Attributes", {}).get("customer_id", {}).get("S")
        return customer_id or None


# ------------------------------------------------------------------------------------------- logic


class FeedbackResult(StrEnum):
    SUPPRESSED = "suppressed"  # address suppressed and the notice marked
    RECORDED = "recorded"  # notice marked; the address may still be used
    UNATTRIBUTED = "unattributed"  # no notice of ours to attribute it to: nothing written


class FeedbackRecorder:
    def __init__(self, *, ledger: FeedbackLedger, preferences: PreferenceStore) -> None:
        self._ledger = ledger
        self._preferences = preferences

    def record(self, feedback: SesFeedback, *, now: datetime) -> FeedbackResult:
        # SES's own time of the bounce or complaint, so a redelivered event writes the same values.
        at = feedback.occurred_at or now
        ids: dict[str, Any] = {
            "ses_message_id": feedback.ses_message_id,
            "notice_id": feedback.notice_id,
            "feedback": feedback.outcome,
            "recipient_count": len(feedback.recipients),
        }
        customer_id = (
            None
            if feedback.notice_id is None
            else self._ledger.record_feedback(feedback.notice_id, feedback=feedback.outcome, at=at)
        )
        if customer_id is None:
            # Not ours to act on: without the notice there is no customer to suppress the address for.
            logger.warning("SES feedback for no notice in the ledger; skipped", extra=ids)
            metrics.add_metric(name="FeedbackUnattributed", unit="Count", value=1)
            return FeedbackResult.UNATTRIBUTED
        ids["customer_id"] = customer_id
        if not feedback.suppresses:
            logger.info("SES feedback recorded on the notice; address kept", extra=ids)
            metrics.add_metric(name="FeedbackRecorded", unit="Count", value=1)
            return FeedbackResult.RECORDED
        for address in feedback.recipients:
            self._preferences.suppress_email(customer_id, address, reason=feedback.outcome, now=at)
        logger.info("Email address suppressed after SES feedback", extra=ids)
        metrics.add_metric(name="EmailsSuppressed", unit="Count", value=1)
        return FeedbackResult.SUPPRESSED
