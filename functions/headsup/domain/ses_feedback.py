"""The SES bounce and complaint events SesFeedbackTopic carries, read into what headsup acts on.

Email addresses are personal data: a malformed event's problems name fields, never values.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Any, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from headsup.domain.receipts import DeliveryState, Receipt
from headsup.platform.errors import contract_problems

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
    timestamp: AwareDatetime | None = None
    destination: list[str] = Field(default_factory=list)
    headers: list[_Header] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)  # event publishing only


class _Bounce(_SesModel):
    bounce_type: str
    bounce_sub_type: str | None = None
    bounced_recipients: list[_Recipient] = Field(min_length=1)
    timestamp: AwareDatetime | None = None


class _Complaint(_SesModel):
    complained_recipients: list[_Recipient] = Field(default_factory=list)
    timestamp: AwareDatetime | None = None


class _Timed(_SesModel):
    timestamp: AwareDatetime | None = None


class _Notification(_SesModel):
    event_type: str | None = None
    notification_type: str | None = None
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Timed | None = None
    delivery_delay: _Timed | None = None
    open: _Timed | None = None
    click: _Timed | None = None


# Event types that report what became of a message, and its delivery state (bounces by type).
_RECEIPT_STATES: Final = {
    "Delivery": DeliveryState.DELIVERED,
    "DeliveryDelay": DeliveryState.DELAYED,
    "Reject": DeliveryState.REJECTED,
    "Rendering Failure": DeliveryState.RENDERING_FAILED,
    "Complaint": DeliveryState.COMPLAINED,
    # Only from SesTrackedConfigurationSet, for the topics a business chose to track.
    "Open": DeliveryState.OPENED,
    "Click": DeliveryState.CLICKED,
}


def _read(message: str) -> _Notification | None:
    """SES's notification in an SNS message; None for the topic-validation text SES publishes first."""
    if message.startswith(_TOPIC_VALIDATION):
        return None
    try:
        return _Notification.model_validate_json(message)
    except ValidationError as exc:
        raise MalformedFeedback(contract_problems(exc)) from exc


def parse_receipt(message: str) -> Receipt | None:
    """The delivery state an SNS message from SES reports (delivery, delay, reject, rendering
    failure, bounce, complaint); None for anything else (topic validation, sends, opens).

    Raises MalformedFeedback when the message cannot be read as SES's notification.
    """
    return _receipt_of(_read(message))


def parse(message: str) -> tuple[Receipt | None, SesFeedback | None]:
    """Both readings of one SNS message from SES, validating it once: the delivery state it
    reports, and the bounce or complaint in it. Raises MalformedFeedback."""
    notification = _read(message)
    return _receipt_of(notification), _feedback_of(notification)


def _receipt_of(notification: _Notification | None) -> Receipt | None:
    if notification is None:
        return None
    kind = notification.event_type or notification.notification_type
    detail = None
    if kind == FeedbackType.BOUNCE and notification.bounce is not None:
        permanent = notification.bounce.bounce_type == "Permanent"
        state = DeliveryState.BOUNCED_PERMANENT if permanent else DeliveryState.BOUNCED_TRANSIENT
        at = notification.bounce.timestamp
        detail = _snake(notification.bounce.bounce_sub_type)
    elif kind in _RECEIPT_STATES:
        state = _RECEIPT_STATES[kind]
        event = (
            notification.delivery
            or notification.delivery_delay
            or notification.complaint
            or notification.open
            or notification.click
        )
        at = event.timestamp if event is not None else None
    else:
        return None
    mail = notification.mail
    at = at or mail.timestamp
    if at is None:
        raise MalformedFeedback(["mail.timestamp: Field required"])
    return Receipt(
        notice_id=_notice_id(mail), state=state, at=at, provider_message_id=mail.message_id, detail=detail
    )


def _snake(name: str | None) -> str | None:
    """SES's `OnAccountSuppressionList` as `on_account_suppression_list`: a reason, never an address."""
    if not name or not name.isalnum():
        return None
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_notification(message: str) -> SesFeedback | None:
    """The bounce or complaint in an SNS message from SES; None for anything else SES publishes
    there (its topic-validation text, other event types), which needs no action.

    Raises MalformedFeedback when the message cannot be read as SES's notification.
    """
    return _feedback_of(_read(message))


def _feedback_of(notification: _Notification | None) -> SesFeedback | None:
    if notification is None:
        return None
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
