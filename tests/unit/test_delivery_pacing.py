"""Delivery at the account's pace: a wait for the rate is never a failure, and the 24-hour quota
holds notices, billing first (logic/delivery.py with logic/pacing.py, in-memory fakes)."""

from dataclasses import replace
from datetime import timedelta

import pytest
from headsup.adapters.ledger import Status
from headsup.adapters.senders import SendQuotaExceeded, SendThrottled
from headsup.domain.kinds import NoticeKind
from headsup.domain.pacing import QUOTA_RECHECK, RateWaits, SendQuota
from headsup.logic.pacing import RateWait, SendPacer

from sim.samples import sample_request
from tests.unit.builders import notice_request
from tests.unit.test_delivery_service import NOW, World, first_attempt
from tests.unit.test_pacing import FixedQuota, MemoryBucket


def paced(world: World, limits: SendQuota, bucket: MemoryBucket | None = None) -> list[float]:
    sleeps: list[float] = []
    pacer = SendPacer(FixedQuota(limits), bucket or MemoryBucket(), sleep=sleeps.append)
    world.delivery = replace(world.delivery, pacer=pacer)
    return sleeps


def account(rate: float = 14, per_day: float = 50_000, sent: float = 0) -> SendQuota:
    return SendQuota(max_send_rate=rate, max_24_hour_send=per_day, sent_last_24_hours=sent, read_at=NOW)


@pytest.fixture
def world() -> World:
    return World()


def test_a_place_further_off_waits_in_the_queue_even_on_the_last_receive(world: World) -> None:
    # The pace is booked for the next ten minutes; this message is on its last receive
    paced(world, account(), MemoryBucket(tat={"bulk": (NOW + timedelta(minutes=10)).timestamp()}))  # type: ignore[dict-item]
    request = notice_request()

    with pytest.raises(RateWait) as waiting:
        world.delivery.deliver(request, first_attempt(number=3, max_attempts=3))

    # Nothing recorded, nothing sent: a wait is not an attempt, so it is not dead-lettered
    assert request.notice_id not in world.ledger.entries
    assert world.email.sent == []
    assert waiting.value.reason == "paced"
    assert waiting.value.waits.slot == NOW + timedelta(minutes=10)


def test_a_send_refused_for_the_rate_releases_the_claim_and_waits_longer_each_time(world: World) -> None:
    world.email.failures += [SendThrottled("ThrottlingException"), SendThrottled("ThrottlingException")]
    request = notice_request()
    waits = RateWaits()
    delays = []
    for _ in range(2):
        with pytest.raises(RateWait) as waiting:
            world.delivery.deliver(request, replace(first_attempt(), waits=waits))
        waits = waiting.value.waits
        delays.append(waiting.value.delay)
        assert world.ledger.entries[request.notice_id].released  # the claim is free for its return

    assert world.delivery.deliver(request, replace(first_attempt(), waits=waits)) is Status.SENT
    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert (outcome.rate_waits, outcome.rate_waited_seconds) == (2, waits.seconds)
    assert delays[0] <= timedelta(seconds=2) < delays[1] <= timedelta(seconds=4)
    assert len(world.email.sent) == 1


def test_ses_refusing_for_its_daily_quota_holds_the_notice(world: World) -> None:
    world.email.failures.append(SendQuotaExceeded("ThrottlingException"))
    request = notice_request()

    assert world.delivery.deliver(request, first_attempt()) is Status.HELD

    outcome = world.ledger.entries[request.notice_id].outcome
    assert outcome is not None
    assert (outcome.reason, outcome.hold_until) == ("daily_quota", NOW + QUOTA_RECHECK)
    assert world.holds.held == [(request.notice_id, NOW + QUOTA_RECHECK)]


def test_with_the_quota_nearly_spent_a_bill_is_held_and_a_technician_still_goes(world: World) -> None:
    paced(world, account(per_day=1_000, sent=950))  # bills stop at 900, visits at 1,000
    bill = notice_request()
    visit = sample_request(NoticeKind.VISIT_ON_THE_WAY).model_copy(update={"customer_id": "cust-1"})

    assert world.delivery.deliver(bill, first_attempt()) is Status.HELD
    assert world.delivery.deliver(visit, first_attempt()) is Status.SENT
    assert len(world.email.sent) == 1
