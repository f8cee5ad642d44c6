"""In-memory stand-ins for the delivery adapters.

Fakes, not mocks: they keep the same rules as the real adapters (a claim is exclusive, a final
outcome is never overwritten), so a test of the delivery logic fails if the logic breaks
those rules, instead of passing because a mock was told what to return.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from headsup.adapters.held_notices import Superseded
from headsup.adapters.ledger import (
    SETTLED_STATUSES,
    AlreadyRecorded,
    Claim,
    ClaimHeld,
    ClaimLost,
    Intent,
    Outcome,
    Status,
    UnfinishedSend,
)
from headsup.domain.assertions import Assertion
from headsup.domain.customer import Customer
from headsup.domain.kinds import KINDS, Audience
from headsup.domain.messages import RenderedEmail, RenderedSms
from headsup.domain.notices import NoticeRequest
from headsup.domain.preferences import Preferences
from headsup.domain.recheck import SUPERSEDED, ToldNotice
from headsup.domain.sent_log import SentLog, SentLogChanged

_KEEP_EVERY_SEND = 1_000


@dataclass
class LedgerEntry:
    status: Status
    token: str
    lease_until: datetime
    attempts: int
    intent: Intent = Intent.RECORD
    channel: str | None = None
    released: bool = False
    outcome: Outcome | None = None
    last_error: str | None = None
    request: NoticeRequest | None = None  # as last claimed: its facts as stated then


@dataclass
class InMemoryLedger:
    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    customer_of: dict[str, str] = field(default_factory=dict)
    told_sends: list[tuple[str, ToldNotice]] = field(default_factory=list)  # (told key, notice)
    # The customers' sent logs, kept as the real ones are: admitted with the claim, only while the
    # log is the version the decision read (every entry of the day is kept: a superset of the
    # newest `max_per_day` that the cap looks at gives the same decisions).
    sent_logs: dict[str, SentLog] = field(default_factory=dict)

    def sent_log(self, customer_id: str) -> SentLog:
        return self.sent_logs.get(customer_id, SentLog())

    def claim(  # noqa: PLR0913 - as the real ledger's
        self,
        request: NoticeRequest,
        *,
        now: datetime,
        lease_until: datetime,
        intent: Intent,
        channel: str | None = None,
        admit: SentLog | None = None,
    ) -> Claim:
        entry = self.entries.get(request.notice_id)
        if entry is not None:
            if entry.status in SETTLED_STATUSES:
                raise AlreadyRecorded(request.notice_id, entry.status)
            if entry.status is Status.IN_PROGRESS and not entry.released:
                if entry.lease_until >= now:
                    raise ClaimHeld(request.notice_id)
                if entry.intent is Intent.SEND:
                    raise UnfinishedSend(request.notice_id, entry.channel)
        if admit is not None:
            current = self.sent_log(request.customer_id)
            if current.version != admit.version:
                raise SentLogChanged(request.customer_id)
            entries = current.admitting(request.notice_id, now, keep=_KEEP_EVERY_SEND)
            self.sent_logs[request.customer_id] = SentLog(entries, current.version + 1)
        self.customer_of[request.notice_id] = request.customer_id
        attempts = (entry.attempts if entry else 0) + 1
        token = f"token-{attempts}"
        self.entries[request.notice_id] = LedgerEntry(
            Status.IN_PROGRESS, token, lease_until, attempts, intent=intent, channel=channel, request=request
        )
        told_key = request.story_key if KINDS[request.kind].audience is Audience.CUSTOMER else None
        admitted_for = request.customer_id if admit is not None else None
        return Claim(request.notice_id, token, told_key, admitted_for=admitted_for)

    def decide(self, request: NoticeRequest, outcome: Outcome, *, now: datetime) -> None:
        """A decision recorded in one write, on the claim's condition (as the real ledger)."""
        claim = self.claim(request, now=now, lease_until=now, intent=Intent.RECORD)
        self.record(claim, outcome, now=now)

    def _give_back(self, claim: Claim) -> None:
        log = self.sent_logs.get(claim.admitted_for or "")
        if claim.admitted_for is None or log is None or claim.notice_id not in log.entries:
            return
        entries = {notice: sent for notice, sent in log.entries.items() if notice != claim.notice_id}
        self.sent_logs[claim.admitted_for] = SentLog(entries, log.version + 1)

    def settle_unfinished(self, unfinished: UnfinishedSend, *, now: datetime) -> None:
        entry = self.entries[unfinished.notice_id]
        if entry.status is not Status.IN_PROGRESS or entry.released or entry.lease_until >= now:
            raise ClaimHeld(unfinished.notice_id)
        entry.status = Status.UNCONFIRMED
        entry.outcome = Outcome(Status.UNCONFIRMED, channel=entry.channel)

    def record(self, claim: Claim, outcome: Outcome, *, now: datetime) -> None:
        entry = self.entries[claim.notice_id]
        if entry.status is not Status.IN_PROGRESS or entry.token != claim.token:
            raise ClaimLost(claim.notice_id)
        entry.status = outcome.status
        entry.outcome = outcome
        reached = outcome.counts_towards_cap or (
            outcome.status is Status.UNCONFIRMED and claim.told_key is not None
        )
        if reached and claim.told_key is not None and entry.request is not None and entry.request.asserts:
            told = ToldNotice(claim.notice_id, entry.request.kind, entry.request.asserts.facts, now)
            self.told_sends.append((claim.told_key, told))
        if outcome.status not in (Status.SENT, Status.UNCONFIRMED):
            self._give_back(claim)

    def told(self, told_key: str) -> list[ToldNotice]:
        found = [notice for key, notice in self.told_sends if key == told_key]
        return sorted(found, key=lambda notice: notice.sent_at, reverse=True)

    def supersede(self, notice_id: str, *, by: str, now: datetime) -> bool:
        entry = self.entries.get(notice_id)
        if entry is None or entry.status is not Status.HELD:
            return False
        entry.status = Status.SKIPPED
        entry.outcome = Outcome(Status.SKIPPED, reason=f"{SUPERSEDED}: by notice {by}")
        return True

    def release(self, claim: Claim, *, error: str, now: datetime) -> None:
        entry = self.entries[claim.notice_id]
        if entry.token == claim.token and entry.status is Status.IN_PROGRESS:
            entry.released = True
            entry.last_error = error
            self._give_back(claim)


@dataclass
class InMemoryCustomers:
    customers: dict[str, Customer] = field(default_factory=dict)

    def get(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Nothing to save in memory."""


class LambdaTimedOut(BaseException):
    """The runtime ends the invocation: no except or finally block of the handler's runs on."""


@dataclass
class RecordingEmail:
    sent: list[tuple[str, RenderedEmail]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)  # raised, in order, before succeeding
    die_after_accepting: bool = False  # the invocation is killed while SES's answer is on its way

    def send_email(
        self, to: str, email: RenderedEmail, *, notice_id: str, kind: str, unsubscribe_url: str | None = None
    ) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((to, email))
        if self.die_after_accepting:
            self.die_after_accepting = False
            raise LambdaTimedOut
        return f"ses-{len(self.sent)}"


@dataclass
class RecordingSms:
    sent: list[tuple[str, RenderedSms]] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)  # the numbers the carrier was asked about

    def send_sms(self, to: str, sms: RenderedSms, *, notice_id: str, kind: str) -> str:
        self.sent.append((to, sms))
        return f"sns-{len(self.sent)}"

    def is_opted_out(self, phone: str) -> bool:
        self.asked.append(phone)
        return phone in self.opted_out


@dataclass
class RecordingTeam:
    published: list[tuple[str, str]] = field(default_factory=list)

    def publish(self, subject: str, body: str, *, notice_id: str, kind: str) -> str:
        self.published.append((subject, body))
        return f"topic-{len(self.published)}"


@dataclass
class InMemoryPreferences:
    preferences: dict[str, Preferences] = field(default_factory=dict)

    def get(self, customer_id: str) -> Preferences:
        return self.preferences.get(customer_id, Preferences(customer_id))

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Nothing to save in memory."""


@dataclass
class RecordingHolds:
    """Held notices by story key, as DueItemsTable keeps them: a newer one replaces an older."""

    held: list[tuple[str, datetime]] = field(default_factory=list)
    waiting: dict[str, NoticeRequest] = field(default_factory=dict)

    def hold(self, request: NoticeRequest, until: datetime) -> Superseded | None:
        self.held.append((request.notice_id, until))
        held = self.waiting.get(key := request.story_key or request.notice_id)
        if held is not None and held.detected_at > request.detected_at:
            return Superseded(older=request, by=held)
        self.waiting[key] = request
        return None if held is None or held.notice_id == request.notice_id else Superseded(held, request)


@dataclass
class InMemorySources:
    """The business's items, by (table, key values); a test changes them as the business would."""

    items: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = field(default_factory=dict)
    reads: int = 0
    prefetched: list[Assertion] = field(default_factory=list)

    def put(self, assertion: Assertion, item: dict[str, Any] | None) -> None:
        key = (assertion.table.value, tuple(assertion.key.values()))
        if item is None:
            self.items.pop(key, None)
        else:
            self.items[key] = item

    def prefetch(self, assertions: Iterable[Assertion]) -> None:
        """Nothing to save in memory; what was asked for is kept, for tests."""
        self.prefetched = list(assertions)

    def get(self, assertion: Assertion) -> dict[str, Any] | None:
        self.reads += 1
        return self.items.get((assertion.table.value, tuple(assertion.key.values())))


def client_error(code: str, operation: str = "SendEmail") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "refused for test@example.com"}}, operation)


@dataclass
class InMemoryNoticeQueue:
    """NoticeQueue as SQS keeps it: the requests it took, in order. `refuse` fails a notice id's
    next sends (as SendMessageBatch fails single entries), so a test can check that a request it
    did not take fails its own source and no other."""

    queued: list[NoticeRequest] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)  # notice id -> how many more sends fail
    batches: list[int] = field(default_factory=list)  # requests per put_batch, in order

    def put(self, request: NoticeRequest) -> None:
        self.queued.append(request)

    def put_batch(self, requests: Sequence[NoticeRequest]) -> set[int]:
        self.batches.append(len(requests))
        failed = set()
        for position, request in enumerate(requests):
            if self.refuse.get(request.notice_id, 0) > 0:
                self.refuse[request.notice_id] -= 1
                failed.add(position)
            else:
                self.queued.append(request)
        return failed
