from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from headsup.adapters.ledger import ClaimHeld, Intent, Status
from headsup.adapters.senders import PermanentSendError, UnconfirmedSend
from headsup.domain.customer import Customer
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.policy import DeliveryPolicy, QuietHours
from headsup.domain.preferences import Preferences
from headsup.logic.delivery import Attempt, NoticeDelivery, RecheckPolicy, UnknownCustomer, outcome_metric
from headsup.rendering.renderer import NoticeRenderer

from emulator.fakes import (
    InMemoryCustomers,
    InMemoryLedger,
    InMemoryPreferences,
    InMemorySources,
    LambdaTimedOut,
    RecordingEmail,
    RecordingHolds,
    RecordingSms,
    RecordingTeam,
    client_error,
)
from sim.samples import sample_request
from tests.unit.builders import customer, notice_request

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def first_attempt(number: int = 1, max_attempts: int = 3) -> Attempt:
    return Attempt(number=number, max_attempts=max_attempts, lease_until=NOW + timedelta(seconds=40))


class World:
    def __init__(self) -> None:
        self.now = NOW
        self.ledger = InMemoryLedger()
        self.customers = InMemoryCustomers({"cust-1": customer()})
        self.email = RecordingEmail()
        self.sms = RecordingSms()
        self.team = RecordingTeam()
        self.preferences = InMemoryPreferences()
        self.holds = RecordingHolds()
        self.sources = InMemorySources()
        self.delivery = NoticeDelivery(
            customers=self.customers,
            ledger=self.ledger,
            renderer=NoticeRenderer(TEMPLATES, business_name="Example Co"),
            email=self.email,
            sms=self.sms,
            team=self.team,
            preferences=self.preferences,
            # Always open, no cap to speak of: these tests are about delivery, not the policy.
            policy=DeliveryPolicy(quiet_hours=QuietHours(start=time(0), end=time(0)), max_per_day=100),
            holds=self.holds,
            unsubscribe_links=lambda customer_id, topic: f"https://example.com/u/{customer_id}/{topic}",
            sources=self.sources,
            recheck=RecheckPolicy(after=timedelta(minutes=1), callback_reschedule=timedelta(minutes=60)),
            team_zone=ZoneInfo("America/New_York"),
            clock=lambda: self.now,
        )


@pytest.fixture
def world() -> World:
    return World()


def test_notice_is_sent_once_and_recorded_as_sent(world: World) -> None:
    # Given a notice for a customer who prefers email
    request = notice_request()

    # When it is delivered twice (a redelivered SQS message)
    first = world.delivery.deliver(request, first_attempt())
    second = world.delivery.deliver(request, first_attempt(2))

    # Then one email went out and the ledger holds one sent outcome
    assert (first, second) == (Status.SENT, Status.SENT)
    assert [to for to, _ in world.email.sent] == ["ana@example.com"]
    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert (outcome.status, outcome.channel, outcome.provider_message_id) == (Status.SENT, "email", "ses-1")


def test_sms_customer_gets_an_sms(world: World) -> None:
    world.customers.customers["cust-1"] = customer(channels=["sms"], phone="+14155550123")
    assert world.delivery.deliver(notice_request(), first_attempt()) is Status.SENT
    assert [to for to, _ in world.sms.sent] == ["+14155550123"]
    assert world.email.sent == []


def test_the_carrier_is_asked_about_a_number_once_per_batch(world: World) -> None:
    # Given two SMS notices for the same customer in one batch, and one in the next batch
    world.customers.customers["cust-1"] = customer(channels=["sms"], phone="+14155550123")
    first, second = notice_request(), notice_request().model_copy(update={"notice_id": "n-2"})
    world.delivery.prefetch([(first, 1), (second, 1)])
    for request in (first, second):
        assert world.delivery.deliver(request, first_attempt()) is Status.SENT

    third = notice_request().model_copy(update={"notice_id": "n-3"})
    world.delivery.prefetch([(third, 1)])
    world.delivery.deliver(third, first_attempt())

    # Then the opt-out was checked once for the first batch, and again for the next
    assert world.sms.asked == ["+14155550123", "+14155550123"]
    assert len(world.sms.sent) == 3


def test_do_not_contact_is_skipped_with_its_reason(world: World) -> None:
    world.customers.customers["cust-1"] = customer(do_not_contact=True)
    request = notice_request()

    assert world.delivery.deliver(request, first_attempt()) is Status.SKIPPED

    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert outcome.reason is not None
    assert outcome.reason.startswith("do_not_contact")
    assert world.email.sent == []
    assert world.sms.sent == []


def test_permanent_rejection_is_recorded_as_failed_and_not_retried(world: World) -> None:
    world.email.failures.append(PermanentSendError("MessageRejected"))
    request = notice_request()

    assert world.delivery.deliver(request, first_attempt()) is Status.FAILED
    assert world.delivery.deliver(request, first_attempt(2)) is Status.FAILED  # redelivery: no resend
    assert world.email.sent == []
    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert outcome.reason == "PermanentSendError: MessageRejected"


def test_transient_failure_releases_the_claim_so_the_retry_sends(world: World) -> None:
    world.email.failures.append(client_error("ServiceUnavailable"))
    request = notice_request()

    with pytest.raises(Exception, match="ServiceUnavailable"):
        world.delivery.deliver(request, first_attempt(1))
    assert world.ledger.entries[request.notice_id].status is Status.IN_PROGRESS

    assert world.delivery.deliver(request, first_attempt(2)) is Status.SENT
    assert len(world.email.sent) == 1


def test_last_attempt_is_recorded_as_dead_lettered_before_it_is_raised(world: World) -> None:
    request = notice_request(customer_id="nobody")

    with pytest.raises(UnknownCustomer):
        world.delivery.deliver(request, first_attempt(number=3, max_attempts=3))

    entry = world.ledger.entries[request.notice_id]
    assert entry.status is Status.DEAD_LETTERED
    assert entry.outcome is not None
    assert entry.outcome.reason == "UnknownCustomer: customer nobody not found"


def test_copy_arriving_while_another_is_sending_is_retried_later(world: World) -> None:
    request = notice_request()
    world.ledger.claim(  # another invocation, sending right now
        request, now=NOW, lease_until=NOW + timedelta(seconds=40), intent=Intent.SEND, channel="email"
    )

    with pytest.raises(ClaimHeld):
        world.delivery.deliver(request, first_attempt(2))
    assert world.email.sent == []


def test_invocation_that_dies_after_ses_accepted_is_not_sent_again(world: World) -> None:
    # Given an invocation that handed the email to SES and was killed before recording it
    request = notice_request()
    world.email.die_after_accepting = True
    with pytest.raises(LambdaTimedOut):
        world.delivery.deliver(request, first_attempt())

    # When SQS redelivers the message after its visibility timeout (the lease has run out)
    world.now = NOW + timedelta(minutes=3)
    status = world.delivery.deliver(request, first_attempt(2))

    # Then it is settled as unconfirmed on its channel, and SES got it once
    assert status is Status.UNCONFIRMED
    assert len(world.email.sent) == 1
    entry = world.ledger.entries[request.notice_id]
    assert (entry.status, entry.channel) == (Status.UNCONFIRMED, "email")
    assert world.delivery.deliver(request, first_attempt(3)) is Status.UNCONFIRMED
    assert len(world.email.sent) == 1


def test_invocation_that_dies_before_its_claim_leaves_the_notice_to_the_retry(world: World) -> None:
    request = notice_request()
    customers = world.customers

    class DyingDirectory:
        def get(self, customer_id: str) -> object:
            raise LambdaTimedOut

    world.delivery = replace(world.delivery, customers=DyingDirectory())  # type: ignore[arg-type]
    with pytest.raises(LambdaTimedOut):
        world.delivery.deliver(request, first_attempt())
    assert request.notice_id not in world.ledger.entries

    world.delivery = replace(world.delivery, customers=customers)
    assert world.delivery.deliver(request, first_attempt(2)) is Status.SENT
    assert len(world.email.sent) == 1


def test_send_without_an_answer_is_recorded_unconfirmed_not_retried(world: World) -> None:
    world.email.failures.append(UnconfirmedSend("ReadTimeoutError"))
    request = notice_request()

    assert world.delivery.deliver(request, first_attempt()) is Status.UNCONFIRMED
    assert world.delivery.deliver(request, first_attempt(2)) is Status.UNCONFIRMED
    assert world.email.sent == []
    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert outcome.reason == "UnconfirmedSend: ReadTimeoutError"


def test_duplicate_arriving_after_the_outcome_sends_nothing_and_records_nothing_new(world: World) -> None:
    request = notice_request()
    world.delivery.deliver(request, first_attempt())
    attempts = world.ledger.entries[request.notice_id].attempts

    for number in range(2, 5):
        assert world.delivery.deliver(request, first_attempt(number, max_attempts=5)) is Status.SENT
    assert len(world.email.sent) == 1
    assert world.ledger.entries[request.notice_id].attempts == attempts


def test_each_recorded_outcome_is_counted_once_under_one_metric_name(world: World) -> None:
    from headsup.platform.observability import metrics

    metrics.clear_metrics()
    with pytest.raises(UnknownCustomer):
        world.delivery.deliver(notice_request(customer_id="nobody"), first_attempt(number=3, max_attempts=3))
    world.delivery.deliver(notice_request(), first_attempt())
    assert metrics.metric_set == {}  # counted for the batch, published once at its end
    world.delivery.publish_counts()

    counted = {name: sum(m["Value"]) for name, m in metrics.metric_set.items() if name.startswith("Notices")}
    metrics.clear_metrics()
    assert counted == {"NoticesDeadLettered": 1, "NoticesSent": 1}
    assert outcome_metric(Status.UNCONFIRMED) == "NoticesUnconfirmed"


def test_the_language_chosen_on_the_preference_page_is_the_notices_and_its_answer_links(world: World) -> None:
    # Given an en-US customer who chose Spanish on the preference page
    world.preferences.preferences["cust-1"] = Preferences("cust-1", language="es")
    seen: list[str] = []
    world = replace_answer_links(world, seen)

    # When a ticket follow-up goes to them
    follow_up = sample_request(NoticeKind.TICKET_FOLLOW_UP).model_copy(update={"customer_id": "cust-1"})
    world.delivery.deliver(follow_up, first_attempt())

    # Then it is written in Spanish (US dates) and its answer link speaks Spanish too
    [(_, email)] = world.email.sent
    assert "¿" in email.subject or "¿" in email.text
    assert seen == ["es-US"]


def replace_answer_links(world: World, seen: list[str]) -> World:
    def answer_links(request: NoticeRequest, person: Customer, now: datetime) -> str:
        seen.append(person.locale)
        return "https://example.com/answer/t"

    world.delivery = replace(world.delivery, answer_links=answer_links)
    return world
