"""Deliver one notice request: claim it, pick a route, render, send, record one outcome."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from headsup.delivery.channels import Channel, Route
from headsup.delivery.customers import Customer, CustomerDirectory
from headsup.delivery.holds import HeldNotices
from headsup.delivery.ledger import AlreadyRecorded, Ledger, Outcome, Status
from headsup.delivery.policy import DAY, DeliveryPolicy, Hold, Skip, decide
from headsup.delivery.rendering import InvalidPayload, NoticeRenderer, sms_segments
from headsup.delivery.senders import EmailSender, PermanentSendError, SmsSender, TeamPublisher
from headsup.notices import Audience, NoticeRequest
from headsup.preferences.store import PreferenceStore
from headsup.shared.errors import describe_error
from headsup.shared.observability import logger, metrics

TEAM_CHANNEL = "escalation_topic"


class UnknownCustomer(LookupError):
    """No CustomersTable item for the notice's customer (yet: the business may write it late)."""


@dataclass(frozen=True)
class Attempt:
    """Which delivery attempt this is, from SQS's ApproximateReceiveCount."""

    number: int
    max_attempts: int
    lease_until: datetime  # when this invocation can no longer be running

    @property
    def is_last(self) -> bool:
        return self.number >= self.max_attempts


class NoticeDelivery:
    def __init__(
        self,
        *,
        customers: CustomerDirectory,
        ledger: Ledger,
        renderer: NoticeRenderer,
        email: EmailSender,
        sms: SmsSender,
        team: TeamPublisher,
        preferences: PreferenceStore,
        policy: DeliveryPolicy,
        holds: HeldNotices,
        unsubscribe_links: Callable[[str, str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._customers = customers
        self._ledger = ledger
        self._renderer = renderer
        self._email = email
        self._sms = sms
        self._team = team
        self._preferences = preferences
        self._policy = policy
        self._holds = holds
        self._unsubscribe_links = unsubscribe_links  # (customer_id, topic) -> signed URL
        self._clock = clock

    def deliver(self, request: NoticeRequest, attempt: Attempt) -> Status:
        """Return the outcome recorded for this notice (by this call or an earlier one).

        Raises when the notice should be retried through the queue; on the last attempt the
        outcome `dead_lettered` is recorded first, so the ledger accounts for it as well.
        """
        ids = {"notice_id": request.notice_id, "customer_id": request.customer_id, "kind": request.kind}
        try:
            claim = self._ledger.claim(request, now=self._clock(), lease_until=attempt.lease_until)
        except AlreadyRecorded as done:
            logger.info("Duplicate notice request ignored", extra={**ids, "status": done.status})
            metrics.add_metric(name="DuplicatesIgnored", unit="Count", value=1)
            return done.status

        try:
            outcome = self._attempt(request)
        except (PermanentSendError, InvalidPayload) as exc:
            outcome = Outcome(Status.FAILED, reason=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            # Any other error is retried through the queue (it is re-raised below), but the ledger
            # must hear of it first: released for the retry, or dead-lettered on the last attempt.
            reason = describe_error(exc)
            if attempt.is_last:
                self._ledger.record(claim, Outcome(Status.DEAD_LETTERED, reason=reason), now=self._clock())
                logger.error(
                    "Notice dead-lettered", extra={**ids, "reason": reason, "attempt": attempt.number}
                )
                metrics.add_metric(name="NoticesDeadLettered", unit="Count", value=1)
            else:
                self._ledger.release(claim, error=reason, now=self._clock())
                metrics.add_metric(name="NoticeRetries", unit="Count", value=1)
                logger.warning(
                    "Notice will be retried", extra={**ids, "reason": reason, "attempt": attempt.number}
                )
            raise

        self._ledger.record(claim, outcome, now=self._clock())
        logger.info(
            "Notice outcome recorded",
            extra={**ids, "status": outcome.status, "reason": outcome.reason, "channel": outcome.channel},
        )
        metrics.add_metric(name=f"Notices{outcome.status.title()}", unit="Count", value=1)
        return outcome.status

    def _attempt(self, request: NoticeRequest) -> Outcome:
        if request.audience is Audience.TEAM:
            escalation = self._renderer.render_escalation(request)
            message_id = self._team.publish(
                escalation.subject, escalation.body, notice_id=request.notice_id, kind=request.kind
            )
            return Outcome(Status.SENT, channel=TEAM_CHANNEL, provider_message_id=message_id)
        customer = self._customers.get(request.customer_id)
        if customer is None:
            raise UnknownCustomer(f"customer {request.customer_id} not found")
        now = self._clock()
        decision = decide(
            request,
            customer,
            self._preferences.get(customer.customer_id),
            self._ledger.recent_sends(customer.customer_id, since=now - DAY),
            now,
            self._policy,
            self._sms.is_opted_out,
        )
        if isinstance(decision, Skip):
            return Outcome(Status.SKIPPED, reason=f"{decision.reason}: {decision.detail}")
        if isinstance(decision, Hold):
            self._holds.hold(request, decision.until)
            return Outcome(
                Status.HELD, reason=decision.reason, channel=decision.route.channel, hold_until=decision.until
            )
        return self._send(request, customer, decision.route)

    def _send(self, request: NoticeRequest, customer: Customer, route: Route) -> Outcome:
        if route.channel is Channel.EMAIL:
            unsubscribe_url = self._unsubscribe_links(customer.customer_id, request.topic)
            email = self._renderer.render_email(request, customer, unsubscribe_url=unsubscribe_url)
            message_id = self._email.send_email(
                route.address,
                email,
                notice_id=request.notice_id,
                kind=request.kind,
                unsubscribe_url=unsubscribe_url,
            )
        else:
            sms = self._renderer.render_sms(request, customer)
            segments = sms_segments(sms.text)
            metrics.add_metric(name="SmsSegments", unit="Count", value=segments)
            message_id = self._sms.send_sms(
                route.address, sms, notice_id=request.notice_id, kind=request.kind
            )
        return Outcome(
            Status.SENT, channel=route.channel, provider_message_id=message_id, counts_towards_cap=True
        )
