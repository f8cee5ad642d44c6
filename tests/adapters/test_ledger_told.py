"""What the ledger keeps of the notices that reached a customer (ToldIndex), the facts each claim
states, and held notices superseded by a newer one of their story: against moto, with
NoticeLedgerTable provisioned from template.yaml."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.adapters.ledger import AlreadyRecorded, DynamoLedger, Intent, Outcome, Status, UnfinishedSend
from headsup.domain.assertions import Told
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.recheck import ToldNotice

from emulator import Deployment
from sim.samples import sample_bill_correction, sample_bill_increase

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
STORY = "bills/cust-1/2026-11#bill"


@pytest.fixture
def ledger(deployment: Deployment) -> DynamoLedger:
    return DynamoLedger(deployment.ref("NoticeLedgerTable"), retention=timedelta(days=400))


def bill_increase(amount: str, *, period: str = "2026-11", told: Told = Told.ANY) -> NoticeRequest:
    """As the bill detector builds it: it states the bill's amount and currency."""
    return sample_bill_increase(amount, period=period, detected_at=NOW, told=told)


def bill_correction(before: str, after: str) -> NoticeRequest:
    return sample_bill_correction(before, after, detected_at=NOW)


def overdue_callback() -> list[NoticeRequest]:
    """The sweep's apology to the customer (promising 10:15 UTC) and its escalation to the team."""
    callback = Callback.from_item(
        {
            "callback_id": "cb-1",
            "customer_id": "cust-1",
            "promised_at": "2026-11-24T09:00:00+00:00",
            "status": "pending",
            "topic": "Router keeps dropping the connection",
        }
    )
    policy = callback_rules.CallbackPolicy(grace=timedelta(minutes=10), reschedule=timedelta(minutes=60))
    step = callback_rules.on_due(
        callback,
        callback_rules.PromiseState(),
        datetime(2026, 11, 24, 9, 12, tzinfo=UTC),
        policy,
        lambda: ZoneInfo("UTC"),
    )
    return step.notices


def apology() -> NoticeRequest:
    return next(n for n in overdue_callback() if n.kind is NoticeKind.CALLBACK_OVERDUE)


def escalation() -> NoticeRequest:
    return next(n for n in overdue_callback() if n.kind is NoticeKind.CALLBACK_ESCALATION)


def lease(now: datetime, seconds: int = 40) -> datetime:
    return now + timedelta(seconds=seconds)


def sent(ledger: DynamoLedger, request: NoticeRequest, at: datetime, *, to_customer: bool = True) -> None:
    """Deliver `request` as delivery does: claimed to send, then recorded sent."""
    claim = ledger.claim(request, now=at, lease_until=lease(at), intent=Intent.SEND, channel="email")
    outcome = Outcome(Status.SENT, channel="email", provider_message_id="m-1", counts_towards_cap=to_customer)
    ledger.record(claim, outcome, now=at)


def held(ledger: DynamoLedger, request: NoticeRequest, at: datetime) -> None:
    claim = ledger.claim(request, now=at, lease_until=lease(at), intent=Intent.RECORD)
    outcome = Outcome(Status.HELD, reason="quiet_hours", channel="email", hold_until=at + timedelta(hours=8))
    ledger.record(claim, outcome, now=at)


def stored(ledger: DynamoLedger, notice_id: str) -> dict[str, Any]:
    item = ledger.get(notice_id)
    assert item is not None
    return item


# -- told ---------------------------------------------------------------------------------------


def test_customer_notices_sent_are_found_by_their_story_with_what_they_stated_newest_first(
    ledger: DynamoLedger,
) -> None:
    # Given the bill told at 132.40, and three hours later a correction telling 120
    first, correction = bill_increase("132.40"), bill_correction("132.40", "120.00")
    assert first.story_key == correction.story_key == STORY
    sent(ledger, first, NOW)
    sent(ledger, correction, LATER)

    # When a later notice of the story asks what the customer was told
    told = ledger.told(STORY)

    # Then both are found, newest first, with their kind and the facts they stated
    assert told == [
        ToldNotice(
            correction.notice_id, NoticeKind.BILL_CORRECTION, {"amount": "120", "currency": "USD"}, LATER
        ),
        ToldNotice(first.notice_id, NoticeKind.BILL_INCREASE, {"amount": "132.4", "currency": "USD"}, NOW),
    ]


def test_only_the_story_asked_for_is_found(ledger: DynamoLedger) -> None:
    sent(ledger, bill_increase("132.40", period="2026-12"), NOW)
    sent(ledger, apology(), NOW)

    assert ledger.told(STORY) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [(Status.SKIPPED, "do_not_contact: opted out"), (Status.FAILED, "InvalidPayload: bad")],
)
def test_a_customer_notice_that_did_not_reach_the_customer_is_not_told(
    ledger: DynamoLedger, status: Status, reason: str
) -> None:
    request = bill_increase("132.40")
    claim = ledger.claim(request, now=NOW, lease_until=lease(NOW), intent=Intent.RECORD)
    ledger.record(claim, Outcome(status, reason=reason), now=NOW)

    assert ledger.told(STORY) == []


def test_a_held_notice_is_not_told_until_it_is_sent(ledger: DynamoLedger) -> None:
    request = bill_increase("132.40")
    held(ledger, request, NOW)
    assert ledger.told(STORY) == []

    # Released by the sweep and sent
    sent(ledger, request, LATER)

    assert [notice.notice_id for notice in ledger.told(STORY)] == [request.notice_id]


def test_a_notice_to_the_team_is_never_told_to_the_customer(ledger: DynamoLedger) -> None:
    team = escalation()
    assert team.story_key is not None
    claim = ledger.claim(team, now=NOW, lease_until=lease(NOW), intent=Intent.SEND, channel="team")

    ledger.record(claim, Outcome(Status.SENT, channel="team", provider_message_id="m-1"), now=NOW)

    assert claim.told_key is None
    assert ledger.told(team.story_key) == []
    assert "story_key" not in stored(ledger, team.notice_id)


def test_a_send_whose_sender_died_is_told_as_it_probably_reached_the_customer(ledger: DynamoLedger) -> None:
    # Given a notice claimed to be sent by an invocation that then died
    request = bill_increase("132.40")
    ledger.claim(request, now=NOW, lease_until=lease(NOW, 40), intent=Intent.SEND, channel="sms")

    # When a redelivery after the lease settles it as unconfirmed
    later = NOW + timedelta(seconds=41)
    with pytest.raises(UnfinishedSend) as caught:
        ledger.claim(request, now=later, lease_until=lease(later), intent=Intent.SEND, channel="sms")
    assert caught.value.told_key == STORY
    ledger.settle_unfinished(caught.value, now=later)

    # Then a correction finds it, with what it stated
    assert ledger.told(STORY) == [
        ToldNotice(request.notice_id, NoticeKind.BILL_INCREASE, {"amount": "132.4", "currency": "USD"}, later)
    ]


def test_a_send_that_got_no_answer_is_told_as_it_may_have_reached_the_customer(ledger: DynamoLedger) -> None:
    # Given a customer notice whose send got no answer, recorded as delivery records it
    request = bill_increase("132.40")
    claim = ledger.claim(request, now=NOW, lease_until=lease(NOW), intent=Intent.SEND, channel="sms")
    no_answer = Outcome(Status.UNCONFIRMED, reason="UnconfirmedSend: ReadTimeoutError", channel="sms")
    ledger.record(claim, no_answer, now=NOW)

    # Then a later notice of its story finds it, as one that may have reached the customer
    assert [notice.notice_id for notice in ledger.told(STORY)] == [request.notice_id]


# -- what a claim states ------------------------------------------------------------------------


def test_a_claim_stores_the_facts_the_notice_states_and_the_times_it_promises(ledger: DynamoLedger) -> None:
    request = apology()

    claim = ledger.claim(request, now=NOW, lease_until=lease(NOW), intent=Intent.SEND, channel="email")

    item = stored(ledger, request.notice_id)
    assert claim.told_key == "callbacks/cb-1#callback_overdue"
    assert item["subject"] == {"S": "callbacks/cb-1"}
    assert item["story_key"] == {"S": "callbacks/cb-1#callback_overdue"}
    assert item["asserted"] == {
        "M": {"status": {"S": "pending"}, "promised_at": {"S": "2026-11-24T09:00:00+00:00"}}
    }
    assert item["promised"] == {"M": {"new_deadline": {"S": "2026-11-24T10:15:00Z"}}}


def test_a_held_notice_claimed_again_stores_the_times_it_promises_now(ledger: DynamoLedger) -> None:
    # Given an apology held with its first deadline
    request = apology()
    held(ledger, request, NOW)

    # When it is released and claimed with the deadline the re-check moved
    moved = request.model_copy(
        update={"payload": {**request.payload, "new_deadline": "2026-11-24T21:15:00+00:00"}}
    )
    ledger.claim(moved, now=LATER, lease_until=lease(LATER), intent=Intent.SEND, channel="email")

    # Then the ledger says what the customer is now promised
    assert stored(ledger, request.notice_id)["promised"] == {
        "M": {"new_deadline": {"S": "2026-11-24T21:15:00+00:00"}}
    }


def test_a_notice_that_promises_no_time_stores_no_promise(ledger: DynamoLedger) -> None:
    request = bill_increase("132.40")

    ledger.claim(request, now=NOW, lease_until=lease(NOW), intent=Intent.RECORD)

    item = stored(ledger, request.notice_id)
    assert item["asserted"] == {"M": {"amount": {"S": "132.4"}, "currency": {"S": "USD"}}}
    assert "promised" not in item


def test_a_notice_without_assertions_stores_none(ledger: DynamoLedger) -> None:
    legacy = bill_increase("132.40").model_copy(update={"asserts": None})

    claim = ledger.claim(legacy, now=NOW, lease_until=lease(NOW), intent=Intent.RECORD)

    item = stored(ledger, legacy.notice_id)
    assert claim.told_key is None
    assert not {"asserted", "subject", "promised", "story_key"} & set(item)


# -- supersede ----------------------------------------------------------------------------------


def test_a_held_notice_superseded_by_a_newer_one_is_settled_as_skipped(ledger: DynamoLedger) -> None:
    # Given a bill notice held for quiet hours
    older = bill_increase("132.40")
    held(ledger, older, NOW)

    # When a newer notice of its story takes its place
    assert ledger.supersede(older.notice_id, by="f" * 32, now=LATER) is True

    # Then it is settled as skipped, saying by which, and no copy can claim it again
    item = stored(ledger, older.notice_id)
    assert item["status"] == {"S": "skipped"}
    assert item["reason"] == {"S": f"superseded: by notice {'f' * 32}"}
    assert item["completed_at"] == {"S": LATER.isoformat()}
    with pytest.raises(AlreadyRecorded) as caught:
        ledger.claim(older, now=LATER, lease_until=lease(LATER), intent=Intent.SEND)
    assert caught.value.status is Status.SKIPPED


def test_a_notice_already_sent_is_not_superseded(ledger: DynamoLedger) -> None:
    request = bill_increase("132.40")
    sent(ledger, request, NOW)
    before = stored(ledger, request.notice_id)

    assert ledger.supersede(request.notice_id, by="f" * 32, now=LATER) is False

    assert stored(ledger, request.notice_id) == before


def test_a_notice_being_delivered_is_not_superseded(ledger: DynamoLedger) -> None:
    # Released by the sweep and claimed: its own re-check decides
    request = bill_increase("132.40")
    held(ledger, request, NOW)
    ledger.claim(request, now=LATER, lease_until=lease(LATER), intent=Intent.SEND, channel="email")
    before = stored(ledger, request.notice_id)

    assert ledger.supersede(request.notice_id, by="f" * 32, now=LATER) is False

    assert stored(ledger, request.notice_id) == before


def test_an_unknown_notice_is_not_superseded_nor_created(ledger: DynamoLedger) -> None:
    assert ledger.supersede("0" * 32, by="f" * 32, now=NOW) is False

    assert ledger.get("0" * 32) is None
