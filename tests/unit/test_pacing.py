"""Sending at the account's pace: the lanes, the quota's shares, the waits (domain/pacing.py), and a
delivery batch's share of the pace (logic/pacing.py) against an in-memory bucket."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from headsup.adapters.pace import Reservation
from headsup.domain.kinds import NoticeKind
from headsup.domain.pacing import (
    MAX_QUEUE_DELAY,
    WAIT_IN_FUNCTION,
    Lane,
    RateWaits,
    SendQuota,
    backoff,
    lane_of,
    queue_delay,
)
from headsup.logic.pacing import RateWait, SendPacer

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def quota(rate: float = 14, per_day: float = 50_000, sent: float = 0) -> SendQuota:
    return SendQuota(max_send_rate=rate, max_24_hour_send=per_day, sent_last_24_hours=sent, read_at=NOW)


def test_a_technician_and_a_late_callback_do_not_wait_behind_a_billing_run() -> None:
    assert lane_of(NoticeKind.VISIT_ON_THE_WAY) is lane_of(NoticeKind.CALLBACK_OVERDUE) is Lane.URGENT
    assert lane_of(NoticeKind.BILL_INCREASE) is lane_of(NoticeKind.TICKET_STALE) is Lane.BULK
    # The lanes share the account's rate and never exceed it
    assert quota(rate=14).lane_rate(Lane.URGENT) + quota(rate=14).lane_rate(Lane.BULK) == pytest.approx(14)


def test_the_quota_stops_bills_first_and_a_technician_last() -> None:
    # 50,000 a day, 46,000 sent: bills may use 90 % (45,000), tickets 95 %, callbacks 98 %, visits all
    nearly_spent = quota(per_day=50_000, sent=46_000)
    assert not nearly_spent.allows(NoticeKind.BILL_INCREASE, sent_since_read=0)
    assert nearly_spent.allows(NoticeKind.TICKET_STALE, sent_since_read=0)
    assert not nearly_spent.allows(NoticeKind.TICKET_STALE, sent_since_read=1_500)
    assert nearly_spent.allows(NoticeKind.CALLBACK_OVERDUE, sent_since_read=1_500)
    assert nearly_spent.allows(NoticeKind.VISIT_ON_THE_WAY, sent_since_read=3_999)
    assert not nearly_spent.allows(NoticeKind.VISIT_ON_THE_WAY, sent_since_read=4_000)


def test_a_refused_send_waits_longer_each_time_jittered_and_never_past_what_sqs_allows() -> None:
    rng = random.Random(7)
    delays = [backoff(waits, rng) for waits in range(12)]
    ceilings = [min(900.0, 2.0 * 2**waits) for waits in range(12)]
    assert all(
        ceiling / 2 <= d.total_seconds() <= ceiling for d, ceiling in zip(delays, ceilings, strict=True)
    )
    assert delays[0] < delays[4] < delays[8]
    assert max(delays) <= MAX_QUEUE_DELAY
    # Two notices refused together do not come back together
    assert backoff(5, random.Random(1)) != backoff(5, random.Random(2))


def test_a_wait_is_counted_in_whole_seconds_as_the_queue_holds_it() -> None:
    waits = RateWaits().then(timedelta(seconds=2.2)).then(timedelta(seconds=5), slot=NOW)
    assert (waits.count, waits.seconds, waits.slot) == (2, 8, NOW)
    assert queue_delay(NOW + timedelta(hours=2), NOW) == MAX_QUEUE_DELAY
    assert queue_delay(NOW - timedelta(seconds=3), NOW) == timedelta(0)


@dataclass
class MemoryBucket:
    """The shared pace, in memory: one GCRA time per lane."""

    tat: dict[Lane, float] = field(default_factory=dict)
    reserved: list[tuple[Lane, int]] = field(default_factory=list)
    given_back: list[int] = field(default_factory=list)

    def reserve(self, lane: Lane, count: int, rate: float, now: datetime) -> Reservation:
        start = max(self.tat.get(lane, 0.0), now.timestamp())
        self.tat[lane] = start + count / rate
        self.reserved.append((lane, count))
        return Reservation(lane, datetime.fromtimestamp(start, UTC), count, rate, tat=0)  # type: ignore[arg-type]

    def give_back(self, reservation: Reservation, unused: int) -> None:
        self.given_back.append(unused)


@dataclass
class FixedQuota:
    value: SendQuota | None

    def quota(self, now: datetime) -> SendQuota | None:
        return self.value


def pacer(bucket: MemoryBucket, limits: SendQuota | None = None) -> tuple[SendPacer, list[float]]:
    sleeps: list[float] = []
    return SendPacer(FixedQuota(limits or quota(rate=20)), bucket, sleep=sleeps.append), sleeps


def test_a_batch_reserves_its_lane_once_and_its_emails_take_the_places_in_turn() -> None:
    bucket = MemoryBucket()
    paced, sleeps = pacer(bucket)  # bulk lane: 19/s
    paced.start_batch([NoticeKind.BILL_INCREASE] * 3 + [NoticeKind.VISIT_ON_THE_WAY])

    for _ in range(3):
        paced.wait_for_place(NoticeKind.BILL_INCREASE, RateWaits(), NOW)
    paced.finish_batch()

    assert bucket.reserved == [(Lane.BULK, 3)]  # one write for the batch's three bills
    assert sleeps == pytest.approx([1 / 19, 2 / 19], abs=1e-5)  # the first place is now: no sleep
    assert bucket.given_back == [0]


def test_places_further_off_than_the_function_waits_go_back_to_the_queue_with_the_place_kept() -> None:
    bucket = MemoryBucket(tat={Lane.BULK: (NOW + timedelta(minutes=30)).timestamp()})
    paced, sleeps = pacer(bucket)
    paced.start_batch([NoticeKind.BILL_INCREASE] * 2)

    with pytest.raises(RateWait) as waiting:
        paced.wait_for_place(NoticeKind.BILL_INCREASE, RateWaits(), NOW)

    wait = waiting.value
    assert (wait.reason, wait.delay, sleeps) == ("paced", MAX_QUEUE_DELAY, [])
    assert wait.waits.slot == NOW + timedelta(minutes=30)
    # Back from the queue, it goes at its place without reserving again
    later = NOW + timedelta(minutes=30) - timedelta(seconds=2)
    paced.start_batch([NoticeKind.BILL_INCREASE])
    paced.wait_for_place(NoticeKind.BILL_INCREASE, wait.waits, later)
    assert sleeps == [2.0]
    assert bucket.reserved == [(Lane.BULK, 2)]
    paced.finish_batch()
    assert bucket.given_back == [1]  # the first batch's second place; the second reserved nothing


def test_a_message_back_long_after_its_place_takes_a_new_one_rather_than_go_over_the_rate() -> None:
    bucket = MemoryBucket(tat={Lane.BULK: (NOW + timedelta(seconds=3)).timestamp()})
    paced, sleeps = pacer(bucket)
    paced.start_batch([NoticeKind.BILL_INCREASE])
    missed = RateWaits(1, 900, slot=NOW - timedelta(minutes=2))
    paced.wait_for_place(NoticeKind.BILL_INCREASE, missed, NOW)
    assert bucket.reserved == [(Lane.BULK, 1)]
    assert sleeps == [pytest.approx(3.0, abs=1e-5)]  # behind what was reserved meanwhile


def test_a_place_no_reservation_could_have_given_is_not_trusted() -> None:
    # A message attribute saying "my place is in a year" would hold the notice back for ever
    bucket = MemoryBucket()
    paced, sleeps = pacer(bucket)
    paced.start_batch([NoticeKind.BILL_INCREASE])
    paced.wait_for_place(NoticeKind.BILL_INCREASE, RateWaits(1, 900, slot=NOW + timedelta(days=365)), NOW)
    assert (bucket.reserved, sleeps) == ([(Lane.BULK, 1)], [])


def test_a_place_just_within_the_wait_sleeps_and_one_just_past_it_is_deferred() -> None:
    edge = WAIT_IN_FUNCTION.total_seconds()
    for ahead, deferred in ((edge, False), (edge + 0.5, True)):
        bucket = MemoryBucket(tat={Lane.BULK: NOW.timestamp() + ahead})
        paced, sleeps = pacer(bucket)
        paced.start_batch([NoticeKind.BILL_INCREASE])
        if deferred:
            with pytest.raises(RateWait):
                paced.wait_for_place(NoticeKind.BILL_INCREASE, RateWaits(), NOW)
        else:
            paced.wait_for_place(NoticeKind.BILL_INCREASE, RateWaits(), NOW)
            assert sleeps == [pytest.approx(ahead)]


def test_what_a_batch_did_not_use_is_given_back_and_without_a_quota_nothing_is_paced() -> None:
    bucket = MemoryBucket()
    paced, _ = pacer(bucket)
    paced.start_batch([NoticeKind.TICKET_STALE] * 10)
    paced.wait_for_place(NoticeKind.TICKET_STALE, RateWaits(), NOW)  # 9 of them went by SMS
    paced.finish_batch()
    assert bucket.given_back == [9]

    unpaced = SendPacer(FixedQuota(None), bucket, sleep=lambda _: pytest.fail("slept"))
    unpaced.start_batch([NoticeKind.TICKET_STALE])
    unpaced.wait_for_place(NoticeKind.TICKET_STALE, RateWaits(), NOW)
    assert unpaced.quota_allows(NoticeKind.BILL_INCREASE, NOW)
    assert len(bucket.reserved) == 1


def test_the_quota_counts_this_functions_own_sends_until_it_is_read_again() -> None:
    paced, _ = pacer(MemoryBucket(), quota(per_day=100, sent=88))
    assert paced.quota_allows(NoticeKind.BILL_INCREASE, NOW)  # 89 <= 90
    paced.sent()
    assert paced.quota_allows(NoticeKind.BILL_INCREASE, NOW)  # 90 <= 90
    paced.sent()
    assert not paced.quota_allows(NoticeKind.BILL_INCREASE, NOW)
    assert paced.quota_allows(NoticeKind.VISIT_ON_THE_WAY, NOW)
