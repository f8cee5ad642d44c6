"""Deliver one notice request: decide, render, claim, send, record one outcome.

The order matters. Everything that can fail without side effects (reading the customer, the
policy, rendering) happens before the claim, so a failure there leaves nothing to clean up
and the queue simply retries. The claim then says what its holder is about to do; see
ledger.py for what a successor does when the holder dies.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from headsup.adapters.customers import CustomerDirectory
from headsup.adapters.held_notices import HeldNotices
from headsup.adapters.ledger import (
    AlreadyRecorded,
    Claim,
    Intent,
    Ledger,
    Outcome,
    Status,
    UnfinishedSend,
)
from headsup.adapters.preferences import PreferenceStore
from headsup.adapters.senders import (
    EmailSender,
    PermanentSendError,
    SendQuotaExceeded,
    SendThrottled,
    SmsSender,
    TeamPublisher,
    UnconfirmedSend,
)
from headsup.adapters.source_items import SourceReader
from headsup.domain.assertions import Told
from headsup.domain.channels import Channel, Route
from headsup.domain.customer import Customer
from headsup.domain.kinds import Audience
from headsup.domain.notices import NoticeRequest
from headsup.domain.pacing import QUOTA_HOLD_REASON, QUOTA_RECHECK, RateWaits, backoff
from headsup.domain.policy import Decision, DeliveryPolicy, Hold, Recipient, Send, Skip, decide
from headsup.domain.preferences import effective_locale
from headsup.domain.recheck import (
    ALREADY_TOLD,
    NO_LONGER_TRUE,
    NOTHING_TO_CORRECT,
    SUPERSEDED,
    Stale,
    against_source,
    against_told,
    keep_promises,
)
from headsup.domain.sent_log import SentLog, SentLogChanged
from headsup.logic.pacing import RateWait, SendPacer
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics
from headsup.rendering.links import no_answer_links
from headsup.rendering.renderer import InvalidPayload, NoticeRenderer, sms_segments

TEAM_CHANNEL = "escalation_topic"
# A customer's sent log changing between the read and the claim means another of their notices
# was admitted at that moment: decide again on the new log. Each race lost is a place taken, and
# once the cap is full the others are decided as holds, which do not race; so a notice loses at
# most `max_per_day` races (more only for the kinds that bypass the cap, or a place given back).
# Past this many decisions it goes back to the queue.
_EXTRA_DECISIONS = 2


class UnknownCustomer(LookupError):
    """No CustomersTable item for the notice's customer (yet: the business may write it late)."""


@dataclass(frozen=True)
class Attempt:
    """Which delivery attempt this is, from SQS's ApproximateReceiveCount."""

    number: int
    max_attempts: int
    lease_until: datetime  # when this invocation can no longer be running
    # Its waits for the sending rate so far: not attempts (they never count towards the queue's
    # maxReceiveCount), recorded with its outcome.
    waits: RateWaits = field(default_factory=RateWaits)

    @property
    def is_last(self) -> bool:
        return self.number >= self.max_attempts


def outcome_metric(status: Status) -> str:
    """`NoticesSent`, `NoticesDeadLettered`...: one count per recorded outcome (alarms use these)."""
    return "Notices" + "".join(part.title() for part in status.split("_"))


# Skip reasons of the re-check at send time -> their metric (NoticesNoLongerTrue...): how often
# the business overtook a notice.
_RECHECK_METRICS = {
    reason: "Notices" + "".join(part.title() for part in reason.split("_"))
    for reason in (NO_LONGER_TRUE, SUPERSEDED, ALREADY_TOLD, NOTHING_TO_CORRECT)
}


@dataclass(frozen=True)
class RecheckPolicy:
    """When a notice is checked against its source again, and how far a new callback deadline is set."""

    after: timedelta  # a notice detected longer ago than this (or retried) has waited
    callback_reschedule: timedelta


@dataclass(frozen=True)
class Dispatch:
    """A rendered notice, ready to go: `send()` hands it to SES/SNS and returns the message id."""

    request: NoticeRequest  # as it goes out: its times and figures brought up to date
    channel: str
    send: Callable[[], str]
    # The customer's sent log the decision read: the claim records the notice in it, if it is
    # still that log (a strict daily cap). None for the team's notices, which do not count.
    admit: SentLog | None = None


@dataclass(frozen=True)
class Decided:
    """A notice that will not be sent now: skipped, held, or failed before any send."""

    request: NoticeRequest
    outcome: Outcome


@dataclass(frozen=True, kw_only=True, eq=False)
class NoticeDelivery:
    """Its adapters are passed in: the handler's real ones, or in-memory fakes."""

    customers: CustomerDirectory
    ledger: Ledger
    renderer: NoticeRenderer
    email: EmailSender
    sms: SmsSender
    team: TeamPublisher
    preferences: PreferenceStore
    policy: DeliveryPolicy
    holds: HeldNotices
    unsubscribe_links: Callable[[str, str], str]  # (customer_id, topic) -> signed URL
    # (request, customer, now) -> the notice's signed answer link, None for a kind with no answers
    answer_links: Callable[[NoticeRequest, Customer, datetime], str | None] = no_answer_links
    sources: SourceReader
    recheck: RecheckPolicy
    team_zone: ZoneInfo
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # The account's sending pace and 24-hour quota, for emails (None: unpaced, as in the tests that
    # are not about it; SES's refusals are then the only limit, and still never a failure).
    pacer: SendPacer | None = None
    # The carrier's opt-out answer by phone, for the batch being delivered: a customer with three
    # notices in one batch is asked about once (a call each otherwise).
    _opted_out: dict[str, bool] = field(default_factory=dict, init=False)
    # The batch's counts by metric name, published once at its end (`publish_counts`): one value
    # per name in the metrics line, not one per notice, and a fraction of the CPU.
    _counts: Counter[str] = field(default_factory=Counter, init=False)

    def finish_batch(self) -> None:
        """The batch is done: give back the places in the pace it did not use, publish its counts."""
        try:
            if self.pacer is not None:
                self.pacer.finish_batch()
        finally:
            self.publish_counts()

    def publish_counts(self) -> None:
        """Add the batch's counts to the invocation's metrics (the handler calls it at the end)."""
        counts = dict(self._counts)
        self._counts.clear()
        for name, value in sorted(counts.items()):
            metrics.add_metric(name=name, unit="Count", value=value)

    def prefetch(self, batch: Iterable[tuple[NoticeRequest, int]]) -> None:
        """Read up front what a batch of (request, receive count) needs: its customers and their
        preferences, and the source items of the notices that waited. A call per table (one for
        all the sources) for the batch instead of one per notice; a notice sent straight after
        detection adds nothing."""
        batch = list(batch)
        self._opted_out.clear()
        ids = {request.customer_id for request, _ in batch if request.audience is Audience.CUSTOMER}
        if self.pacer is not None:
            self.pacer.start_batch(
                request.kind for request, _ in batch if request.audience is Audience.CUSTOMER
            )
        self.customers.prefetch(ids)
        self.preferences.prefetch(ids)
        now = self.clock()
        self.sources.prefetch(
            request.asserts
            for request, receive_count in batch
            if request.asserts is not None and self._waited(request, receive_count, now)
        )

    def _waited(self, request: NoticeRequest, attempt_number: int, now: datetime) -> bool:
        """Held, retried, or queued longer than a moment: what it states may have changed."""
        return attempt_number > 1 or now - request.detected_at >= self.recheck.after

    def deliver(self, request: NoticeRequest, attempt: Attempt) -> Status:
        """Return the outcome recorded for this notice (by this call or an earlier one).

        Raises when the notice should be retried through the queue; on the last attempt the
        outcome `dead_lettered` is recorded first, so the ledger accounts for it as well. Raises
        RateWait when it must wait for the sending rate: back to the queue, not a failure.
        """
        for _ in range(self.policy.max_per_day + _EXTRA_DECISIONS):
            try:
                plan = self._plan(request, attempt)
            except InvalidPayload as exc:
                plan = Decided(request, Outcome(Status.FAILED, reason=f"{type(exc).__name__}: {exc}"))
            except RateWait:
                self._counts["RateWaits"] += 1  # its place in the pace is further off: not a failure
                raise
            except Exception as exc:
                # Nothing is claimed or sent yet: the queue retries, and the last attempt is recorded.
                self._retry_later(request, attempt, claim=None, exc=exc)
                raise
            try:
                return self._settle_plan(plan, attempt)
            except SentLogChanged:
                # Another notice for this customer was admitted since the log was read: decide
                # again on the log as it is now (it may be held for the cap this time).
                self._counts["CapRaces"] += 1
        raced = SentLogChanged(request.customer_id)
        self._retry_later(request, attempt, claim=None, exc=raced)
        raise raced

    def _settle_plan(self, plan: "Dispatch | Decided", attempt: Attempt) -> Status:
        if isinstance(plan, Decided):
            return self._decide(plan.request, attempt, lambda: self._decided(plan))
        return self._send(plan, attempt)

    def _decide(self, request: NoticeRequest, attempt: Attempt, decision: Callable[[], Outcome]) -> Status:
        """Record a decision that sends nothing (skip, hold, failure before any send) as the
        outcome, in one write: there is no send for a claim to guard."""
        try:
            outcome = _with_waits(decision(), attempt)
        except Exception as exc:
            self._retry_later(request, attempt, claim=None, exc=exc)
            raise
        try:
            self.ledger.decide(request, outcome, now=self.clock())
        except AlreadyRecorded as done:
            return self._duplicate(request, done)
        except UnfinishedSend as unfinished:
            return self._settle_unfinished(request, unfinished)
        return self._recorded(request, outcome)

    def _duplicate(self, request: NoticeRequest, done: AlreadyRecorded) -> Status:
        logger.info("Duplicate notice request ignored", extra={**self._ids(request), "status": done.status})
        self._counts["DuplicatesIgnored"] += 1
        return done.status

    def _settle_unfinished(self, request: NoticeRequest, unfinished: UnfinishedSend) -> Status:
        self.ledger.settle_unfinished(unfinished, now=self.clock())
        return self._recorded(request, Outcome(Status.UNCONFIRMED, channel=unfinished.channel))

    def _send(self, plan: Dispatch, attempt: Attempt) -> Status:
        """Claim the notice to send it (admitted to the customer's sent log with the claim),
        send it, and record the one outcome."""
        request, channel = plan.request, plan.channel
        ids = self._ids(request)
        try:
            claim = self.ledger.claim(
                request,
                now=self.clock(),
                lease_until=attempt.lease_until,
                intent=Intent.SEND,
                channel=channel,
                admit=plan.admit,
            )
        except AlreadyRecorded as done:
            return self._duplicate(request, done)
        except UnfinishedSend as unfinished:
            return self._settle_unfinished(request, unfinished)

        try:
            outcome = self._dispatch(plan)
        except PermanentSendError as exc:
            outcome = Outcome(Status.FAILED, reason=f"{type(exc).__name__}: {exc}", channel=channel)
        except UnconfirmedSend as exc:
            outcome = Outcome(Status.UNCONFIRMED, reason=describe_error(exc), channel=channel)
        except SendThrottled as exc:
            return self._not_accepted(request, attempt, claim, channel, exc)
        except Exception as exc:
            self._retry_later(request, attempt, claim=claim, exc=exc)
            raise
        if self.pacer is not None and channel == Channel.EMAIL and outcome.status is Status.SENT:
            self.pacer.sent()
        outcome = _with_waits(outcome, attempt)
        try:
            self.ledger.record(claim, outcome, now=self.clock())
        except Exception:
            # The claim stays unreleased, so the redelivery settles it as unconfirmed; this line
            # is what lets an operator confirm it was in fact accepted.
            logger.exception(
                "Notice outcome could not be recorded",
                extra={**ids, "status": outcome.status, "provider_message_id": outcome.provider_message_id},
            )
            raise
        return self._recorded(request, outcome)

    def _recorded(self, request: NoticeRequest, outcome: Outcome) -> Status:
        logger.info(
            "Notice outcome recorded",
            extra={
                **self._ids(request),
                "status": outcome.status,
                "reason": outcome.reason,
                "channel": outcome.channel,
            },
        )
        self._counts[outcome_metric(outcome.status)] += 1
        recheck_metric = _RECHECK_METRICS.get((outcome.reason or "").split(":")[0])
        if outcome.status is Status.SKIPPED and recheck_metric is not None:
            self._counts[recheck_metric] += 1
        return outcome.status

    def _retry_later(
        self, request: NoticeRequest, attempt: Attempt, *, claim: Claim | None, exc: Exception
    ) -> None:
        """Tell the ledger of an error the queue will retry: released, or dead-lettered on the
        last attempt. The caller re-raises."""
        ids, reason = self._ids(request), describe_error(exc)
        if attempt.is_last:
            dead = Outcome(Status.DEAD_LETTERED, reason=reason)
            logger.error("Notice dead-lettered", extra={**ids, "reason": reason, "attempt": attempt.number})
            if claim is None:
                self._decide(request, attempt, lambda: dead)  # logs and counts it
            else:
                self.ledger.record(claim, dead, now=self.clock())
                self._counts[outcome_metric(Status.DEAD_LETTERED)] += 1
            return
        if claim is not None:
            self.ledger.release(claim, error=reason, now=self.clock())
        self._counts["NoticeRetries"] += 1
        logger.warning("Notice will be retried", extra={**ids, "reason": reason, "attempt": attempt.number})

    def _not_accepted(
        self, request: NoticeRequest, attempt: Attempt, claim: Claim, channel: str, exc: SendThrottled
    ) -> Status:
        """The provider refused the notice for its limits: the claim goes (nothing was sent), and
        the notice is held for the 24-hour quota, or waits in the queue for the rate (RateWait).
        Neither is a failure."""
        self.ledger.release(claim, error=describe_error(exc), now=self.clock())
        if isinstance(exc, SendQuotaExceeded):
            held = self._quota_hold(request, channel)
            return self._decide(request, attempt, lambda: self._decided(held))
        self._counts["RateWaits"] += 1
        delay = backoff(attempt.waits.count)
        raise RateWait("throttled", delay, attempt.waits.then(delay)) from exc

    def _quota_hold(self, request: NoticeRequest, channel: str) -> Decided:
        """Held for the account's 24-hour quota: looked at again after QUOTA_RECHECK."""
        until = self.clock() + QUOTA_RECHECK
        return Decided(
            request, Outcome(Status.HELD, reason=QUOTA_HOLD_REASON, channel=channel, hold_until=until)
        )

    @staticmethod
    def _ids(request: NoticeRequest) -> dict[str, str]:
        return {"notice_id": request.notice_id, "customer_id": request.customer_id, "kind": request.kind}

    def _decided(self, plan: Decided) -> Outcome:
        if plan.outcome.status is not Status.HELD or plan.outcome.hold_until is None:
            return plan.outcome
        superseded = self.holds.hold(plan.request, plan.outcome.hold_until)
        if superseded is None:
            return plan.outcome
        reason = f"{SUPERSEDED}: by notice {superseded.by.notice_id}"
        if superseded.older.notice_id == plan.request.notice_id:
            return Outcome(Status.SKIPPED, reason=reason)  # a newer one of its story is held already
        if self.ledger.supersede(superseded.older.notice_id, by=superseded.by.notice_id, now=self.clock()):
            # The older notice's one outcome, recorded here: only the newer can go now.
            self._recorded(superseded.older, Outcome(Status.SKIPPED, reason=reason))
        return plan.outcome

    @staticmethod
    def _dispatch(plan: Dispatch) -> Outcome:
        message_id = plan.send()
        return Outcome(
            Status.SENT,
            channel=plan.channel,
            provider_message_id=message_id,
            counts_towards_cap=plan.admit is not None,
        )

    def _plan(self, request: NoticeRequest, attempt: Attempt) -> Dispatch | Decided:
        """Everything before the claim: read, re-check, decide, wait for the email's place in the
        sending pace, render. No side effects but the place (given back if the batch ends unused)."""
        if request.audience is Audience.TEAM:
            checked = self._still_true(request, attempt, self.team_zone)
            if isinstance(checked, Stale):
                return Decided(request, Outcome(Status.SKIPPED, reason=checked.outcome_reason))
            escalation = self.renderer.render_escalation(request)
            return Dispatch(
                request,
                TEAM_CHANNEL,
                lambda: self.team.publish(
                    escalation.subject, escalation.body, notice_id=request.notice_id, kind=request.kind
                ),
            )
        customer = self.customers.get(request.customer_id)
        if customer is None:
            raise UnknownCustomer(f"customer {request.customer_id} not found")
        checked = self._still_true(request, attempt, customer.zone)
        if isinstance(checked, Stale):
            return Decided(request, Outcome(Status.SKIPPED, reason=checked.outcome_reason))
        request = checked
        now = self.clock()
        sent_log = self.ledger.sent_log(customer.customer_id)
        recipient = Recipient(
            customer,
            self.preferences.get(customer.customer_id),
            sent_log.sent_within_day(now),
            self._sms_opted_out,
        )
        decision = self._within_quota(request, decide(request, recipient, now, self.policy), now)
        if isinstance(decision, Skip):
            return Decided(request, Outcome(Status.SKIPPED, reason=f"{decision.reason}: {decision.detail}"))
        if isinstance(decision, Hold):
            return Decided(
                request,
                Outcome(
                    Status.HELD,
                    reason=decision.reason,
                    channel=decision.route.channel,
                    hold_until=decision.until,
                ),
            )
        # The language the customer chose on the preference page, if any, over their account's:
        # for the notice, and for the answer link it carries.
        chosen = effective_locale(customer.locale, recipient.preferences)
        if self.pacer is not None and decision.route.channel is Channel.EMAIL:
            # Its place in the account's pace, before the work of rendering: a notice whose
            # place is further off goes back to the queue (RateWait) unrendered.
            self.pacer.wait_for_place(request.kind, attempt.waits, now)
        return self._render(request, customer.model_copy(update={"locale": chosen}), decision.route, sent_log)

    def _within_quota(self, request: NoticeRequest, decision: Decision, now: datetime) -> Decision:
        """An email the account's 24-hour quota has no room for (its topic's share) is held."""
        if (
            isinstance(decision, Send)
            and decision.route.channel is Channel.EMAIL
            and self.pacer is not None
            and not self.pacer.quota_allows(request.kind, now)
        ):
            return Hold(until=now + QUOTA_RECHECK, reason=QUOTA_HOLD_REASON, route=decision.route)
        return decision

    def _sms_opted_out(self, phone: str) -> bool:
        if phone not in self._opted_out:
            self._opted_out[phone] = self.sms.is_opted_out(phone)
        return self._opted_out[phone]

    def _still_true(self, request: NoticeRequest, attempt: Attempt, zone: ZoneInfo) -> NoticeRequest | Stale:
        """The notice as it may go now (domain/recheck.py), or why it must not."""
        now = self.clock()
        checked: NoticeRequest | Stale = request
        if request.asserts is not None and self._waited(request, attempt.number, now):
            checked = against_source(request, self.sources.get(request.asserts))
        if isinstance(checked, NoticeRequest):
            checked = keep_promises(
                checked, now=now, zone=lambda: zone, reschedule=self.recheck.callback_reschedule
            )
        if isinstance(checked, Stale) or checked.asserts is None or checked.asserts.told is Told.ANY:
            return checked
        story = checked.story_key or checked.notice_id  # never None once the notice asserts
        return against_told(checked, self.ledger.told(story))

    def _render(self, request: NoticeRequest, customer: Customer, route: Route, admit: SentLog) -> Dispatch:
        if route.channel is Channel.EMAIL:
            unsubscribe_url = self.unsubscribe_links(customer.customer_id, request.topic)
            email = self.renderer.render_email(
                request,
                customer,
                unsubscribe_url=unsubscribe_url,
                answer_url=self.answer_links(request, customer, self.clock()),
            )
            return Dispatch(
                request,
                route.channel,
                lambda: self.email.send_email(
                    route.address,
                    email,
                    notice_id=request.notice_id,
                    kind=request.kind,
                    unsubscribe_url=unsubscribe_url,
                ),
                admit,
            )
        sms = self.renderer.render_sms(request, customer)

        def send_sms() -> str:
            # Segments are what SMS is billed by.
            self._counts["SmsSegments"] += sms_segments(sms.text)
            return self.sms.send_sms(route.address, sms, notice_id=request.notice_id, kind=request.kind)

        return Dispatch(request, route.channel, send_sms, admit)


def _with_waits(outcome: Outcome, attempt: Attempt) -> Outcome:
    """The outcome, with how often and how long the notice waited for the sending rate."""
    if attempt.waits.count == 0:
        return outcome
    return replace(outcome, rate_waits=attempt.waits.count, rate_waited_seconds=attempt.waits.seconds)
