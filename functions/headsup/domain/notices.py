"""A notice request: one thing one customer should be told, decided by a detector."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from headsup.domain.kinds import (
    KINDS,
    Audience,
    NoticeKind,
    Topic,
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
        return KINDS[self.kind].topic

    @property
    def audience(self) -> Audience:
        return KINDS[self.kind].audience


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
