"""A notice request: one thing one customer should be told, decided by a detector."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


class NoticeKind(StrEnum):
    BILL_INCREASE = "bill_increase"
    CALLBACK_OVERDUE = "callback_overdue"
    CALLBACK_ESCALATION = "callback_escalation"
    TICKET_STALE = "ticket_stale"
    TICKET_ESCALATION = "ticket_escalation"
    TICKET_SLA_WARNING = "ticket_sla_warning"
    TICKET_FOLLOW_UP = "ticket_follow_up"
    VISIT_ON_THE_WAY = "visit_on_the_way"
    VISIT_RUNNING_LATE = "visit_running_late"
    VISIT_DONE = "visit_done"


class Audience(StrEnum):
    CUSTOMER = "customer"  # by the customer's own channel (email or SMS)
    TEAM = "team"  # on EscalationTopic


class Topic(StrEnum):
    """What a notice is about; customers will be able to opt out per topic."""

    BILLING = "billing"
    CALLBACKS = "callbacks"
    TICKETS = "tickets"
    VISITS = "visits"


TOPIC_OF: dict[NoticeKind, Topic] = {
    NoticeKind.BILL_INCREASE: Topic.BILLING,
    NoticeKind.CALLBACK_OVERDUE: Topic.CALLBACKS,
    NoticeKind.CALLBACK_ESCALATION: Topic.CALLBACKS,
    NoticeKind.TICKET_STALE: Topic.TICKETS,
    NoticeKind.TICKET_ESCALATION: Topic.TICKETS,
    NoticeKind.TICKET_SLA_WARNING: Topic.TICKETS,
    NoticeKind.TICKET_FOLLOW_UP: Topic.TICKETS,
    NoticeKind.VISIT_ON_THE_WAY: Topic.VISITS,
    NoticeKind.VISIT_RUNNING_LATE: Topic.VISITS,
    NoticeKind.VISIT_DONE: Topic.VISITS,
}
# Time-critical kinds go by SMS when the customer allows it, whatever their usual order: a text
# is read within minutes, an email maybe after the technician has come and gone.
SMS_FIRST_KINDS = frozenset({NoticeKind.VISIT_ON_THE_WAY, NoticeKind.VISIT_RUNNING_LATE})
TEAM_KINDS = frozenset(
    {NoticeKind.CALLBACK_ESCALATION, NoticeKind.TICKET_ESCALATION, NoticeKind.TICKET_SLA_WARNING}
)

NoticeId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Fact = str | Decimal | datetime  # what identifies a notice, beside its kind


class Subject(Protocol):
    """The business's record a notice is about: a bill, callback, ticket or visit."""

    @property
    def customer_id(self) -> str: ...

    @property
    def key(self) -> tuple[str, ...]: ...  # the record's key in its table


class NoticeRequest(BaseModel):
    """The SQS message body a detector sends and the delivery function consumes.

    `notice_id` is derived from the facts that make the notice (never from time or a random
    value), so a replayed stream record or a re-run produces the same id and delivery sends it
    at most once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    notice_id: NoticeId
    kind: NoticeKind
    customer_id: Annotated[str, StringConstraints(min_length=1)]
    detected_at: AwareDatetime
    # Kind-specific facts for the templates; validated against the kind's model at render time.
    payload: dict[str, Any] = Field(default_factory=dict)
    # After this the notice is no use to the customer ("on the way" once the visit is over): it
    # is skipped as `expired` rather than held past it or sent late.
    expires_at: AwareDatetime | None = None

    @classmethod
    def about(
        cls,
        record: Subject,
        kind: NoticeKind,
        *facts: Fact,
        detected_at: datetime,
        payload: BaseModel,
        expires_at: datetime | None = None,
    ) -> Self:
        """The notice of `kind` to `record`'s customer, carrying `payload`. Its id is made of the
        record's key and `facts`: what tells this notice apart from every other (make_notice_id)."""
        return cls(
            notice_id=make_notice_id(kind, *record.key, *facts),
            kind=kind,
            customer_id=record.customer_id,
            detected_at=detected_at,
            payload=payload.model_dump(mode="json"),
            expires_at=expires_at,
        )

    @property
    def topic(self) -> Topic:
        return TOPIC_OF[self.kind]

    @property
    def audience(self) -> Audience:
        return Audience.TEAM if self.kind in TEAM_KINDS else Audience.CUSTOMER


def make_notice_id(kind: NoticeKind, *facts: Fact) -> str:
    """A stable id for the notice that these facts describe (same facts, same id)."""
    parts = [kind.value, *(_canonical(fact) for fact in facts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _canonical(fact: Fact) -> str:
    if isinstance(fact, Decimal):
        # 120, 120.0 and 120.00 are the same amount and must give the same id.
        return format(fact.normalize(), "f")
    if isinstance(fact, datetime):
        # The same moment written with another offset is the same fact.
        return fact.astimezone(UTC).isoformat()
    return fact
