"""A notice request: one thing one customer should be told, decided by a detector."""

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from headsup.domain.assertions import Assertion, Fact, SourceTable, Told, canonical
from headsup.domain.kinds import (
    KINDS,
    Audience,
    NoticeKind,
    Topic,
)

NoticeId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class Subject(Protocol):
    """The business's record a notice is about: a bill, callback, ticket or visit."""

    source_table: ClassVar[SourceTable]

    @property
    def customer_id(self) -> str: ...

    @property
    def key(self) -> tuple[str, ...]: ...  # the record's key in its table

    @property
    def key_attributes(self) -> dict[str, str]: ...  # the same, by attribute name


class Fallback(BaseModel):
    """What makes a request the second attempt of a notice: the first never arrived by its channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_id: NoticeId  # the first attempt, whose ledger item tells the whole story
    failed_channel: Literal["email", "sms"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=40)]  # `bounced:permanent`...


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
    # The source item and the facts this notice states about it, checked again at send time.
    # None only for messages queued before notices carried it: those are sent as they are.
    asserts: Assertion | None = None
    # Set on the one second attempt of a notice that bounced or failed for good (see fallback()).
    fallback_of: Fallback | None = None

    @classmethod
    def about(  # noqa: PLR0913 - the one place a request is built: its arguments are its fields
        cls,
        record: Subject,
        kind: NoticeKind,
        *facts: Fact,
        detected_at: datetime,
        payload: BaseModel,
        expires_at: datetime | None = None,
        asserts: Mapping[str, Fact],
        told: Told = Told.ANY,
    ) -> Self:
        """The notice of `kind` to `record`'s customer, carrying `payload`. Its id is made of the
        record's key and `facts`: what tells this notice apart from every other (make_notice_id).
        `asserts` are the facts about `record` it states, checked again when it is sent."""
        return cls(
            notice_id=make_notice_id(kind, *record.key, *facts),
            kind=kind,
            customer_id=record.customer_id,
            detected_at=detected_at,
            payload=payload.model_dump(mode="json"),
            expires_at=expires_at,
            asserts=Assertion(
                table=record.source_table,
                key=record.key_attributes,
                facts={name: canonical(value) for name, value in asserts.items()},
                told=told,
            ),
        )

    def fallback(self, failed_channel: Literal["email", "sms"], reason: str) -> Self:
        """The same notice, to go once more by a channel other than `failed_channel`. Its id is
        derived from this one's, so however often the failure is reported there is one such
        request, and delivery's claim sends it at most once."""
        return self.model_copy(
            update={
                "notice_id": fallback_notice_id(self.notice_id),
                "fallback_of": Fallback(
                    notice_id=self.notice_id, failed_channel=failed_channel, reason=reason
                ),
            }
        )

    @property
    def topic(self) -> Topic:
        return KINDS[self.kind].topic

    @property
    def audience(self) -> Audience:
        return KINDS[self.kind].audience

    @property
    def story_key(self) -> str | None:
        """What this notice is one telling of: its item and its kind's story (`bills/c-1/2026-06#bill`).
        A newer notice with the same story key supersedes an older one still held."""
        if self.asserts is None:
            return None
        return f"{self.asserts.subject}#{KINDS[self.kind].story(self.kind)}"


def make_notice_id(kind: NoticeKind, *facts: Fact) -> str:
    """A stable id for the notice that these facts describe (same facts, same id)."""
    parts = [kind.value, *(canonical(fact) for fact in facts)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def fallback_notice_id(notice_id: str) -> str:
    """The id of a notice's one second attempt (NoticeRequest.fallback)."""
    return hashlib.sha256(f"fallback\x1f{notice_id}".encode()).hexdigest()[:32]
