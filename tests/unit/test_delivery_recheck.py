"""Delivery checks a notice against the business's item again before sending it, on in-memory fakes.

Only a notice that waited (held, retried, or queued longer than RecheckPolicy.after) pays the read;
one sent straight after detection states what was read a moment ago.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from headsup.adapters.ledger import Status
from headsup.domain.bills.models import Bill
from headsup.domain.bills.rules import Thresholds
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.policy import DeliveryPolicy, QuietHours
from headsup.logic.bill_increase import BillIncreaseDetector

from tests.unit.builders import customer
from tests.unit.test_delivery_service import NOW, World, first_attempt

PROMISED = NOW - timedelta(hours=3)


def callback_item(**overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": "cb-1",
        "customer_id": "cust-1",
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": "router",
        **overrides,
    }


def apology_and_escalation(detected_at: datetime) -> list[NoticeRequest]:
    """What the sweep queues for the callback, decided at `detected_at`."""
    policy = callback_rules.CallbackPolicy(grace=timedelta(minutes=15), reschedule=timedelta(hours=1))
    step = callback_rules.on_due(
        Callback.from_item(callback_item()),
        callback_rules.PromiseState(),
        detected_at,
        policy,
        lambda: customer().zone,
    )
    return step.notices


@pytest.fixture
def world() -> World:
    world = World()
    apology = apology_and_escalation(NOW)[0]
    assert apology.asserts is not None
    world.sources.put(apology.asserts, callback_item())
    return world


def test_a_notice_sent_straight_after_detection_reads_nothing_more(world: World) -> None:
    # Given an apology decided a moment ago
    apology, escalation = apology_and_escalation(NOW - timedelta(seconds=5))

    # When the batch is prefetched and delivered
    world.delivery.prefetch([(apology, 1), (escalation, 1)])
    assert world.delivery.deliver(apology, first_attempt()) is Status.SENT
    assert world.delivery.deliver(escalation, first_attempt()) is Status.SENT

    # Then its source was neither prefetched nor read
    assert world.sources.prefetched == []
    assert world.sources.reads == 0


def test_a_notice_that_waited_is_prefetched_and_checked(world: World) -> None:
    # Given an apology decided two hours ago (held), still true
    apology, _ = apology_and_escalation(NOW - timedelta(hours=2))

    world.delivery.prefetch([(apology, 1)])
    assert world.delivery.deliver(apology, first_attempt()) is Status.SENT

    assert world.sources.prefetched == [apology.asserts]
    assert world.sources.reads == 1


def test_a_retried_notice_is_checked_even_if_fresh(world: World) -> None:
    apology, _ = apology_and_escalation(NOW - timedelta(seconds=5))
    assert apology.asserts is not None
    world.sources.put(apology.asserts, callback_item(status="done"))

    world.delivery.prefetch([(apology, 2)])
    assert world.delivery.deliver(apology, first_attempt(2)) is Status.SKIPPED

    assert world.sources.prefetched == [apology.asserts]
    assert world.email.sent == []


@pytest.mark.parametrize(
    ("now_the_item", "reason"),
    [
        (callback_item(status="done"), "no_longer_true: callback done"),
        (callback_item(status="cancelled"), "no_longer_true: callback cancelled"),
        (callback_item(promised_at=NOW.isoformat()), "no_longer_true: callback re-promised"),
        (None, "no_longer_true: callback deleted"),
        (callback_item(status="maybe"), "no_longer_true: callback now breaks the data contract"),
    ],
)
def test_a_waited_notice_no_longer_true_is_skipped_with_what_changed(
    world: World, now_the_item: dict[str, Any] | None, reason: str
) -> None:
    apology, escalation = apology_and_escalation(NOW - timedelta(hours=2))
    assert apology.asserts is not None
    world.sources.put(apology.asserts, now_the_item)

    # The customer's apology and the team's escalation are both checked
    assert world.delivery.deliver(apology, first_attempt()) is Status.SKIPPED
    assert world.delivery.deliver(escalation, first_attempt()) is Status.SKIPPED

    for notice in (apology, escalation):
        outcome = world.ledger.entries[notice.notice_id].outcome
        assert outcome is not None
        assert outcome.reason is not None
        assert outcome.reason.startswith(reason)
    assert world.email.sent == []
    assert world.team.published == []


def test_a_waited_apology_gets_a_deadline_after_its_send(world: World) -> None:
    # Given an apology decided two hours ago (its deadline then an hour later), sent now, 07:00 New York time
    apology, _ = apology_and_escalation(NOW - timedelta(hours=2))

    assert world.delivery.deliver(apology, first_attempt()) is Status.SENT

    # Then the ledger's request promises a quarter hour at least an hour after the send
    entry = world.ledger.entries[apology.notice_id]
    assert entry.request is not None
    deadline = datetime.fromisoformat(entry.request.payload["new_deadline"])
    assert deadline >= NOW + timedelta(hours=1)
    assert deadline.minute % 15 == 0
    [(_, email)] = world.email.sent
    assert email.subject.endswith("we will by 8:00 AM")  # 13:00 UTC: 07:00 in New York, plus an hour


def older_and_newer_bill_notices() -> tuple[NoticeRequest, NoticeRequest]:
    """A June bill notice for 150.00 and, after a correction, one for 130.00."""
    earlier = {"customer_id": "cust-1", "period": "2026-05", "amount": Decimal(100)}

    class Bills:
        def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
            return Bill.from_item(earlier)

        def prefetch(self, bills: object) -> None:
            """Nothing to prefetch."""

    queued: list[NoticeRequest] = []

    class Queue:
        def put(self, request: NoticeRequest) -> None:
            queued.append(request)

    detector = BillIncreaseDetector(Bills(), Queue(), Thresholds(percent=Decimal(10), minimum=Decimal(5)))
    june = {"customer_id": "cust-1", "period": "2026-06", "amount": Decimal(150)}
    [older] = detector.on_bill_change("INSERT", june, None)
    newer = detector.on_bill_change("MODIFY", {**june, "amount": Decimal(130)}, june)
    [newer_increase] = [n for n in newer if n.kind is NoticeKind.BILL_INCREASE]
    return older, newer_increase


def test_a_newer_notice_held_supersedes_the_older_one_held(world: World) -> None:
    # Given a sending window of one minute at 03:00 New York time, for email too: both are held
    world.delivery = _with_policy(world, QuietHours(start=time(3), end=time(3, 1), applies_to_email=True))
    older, newer = older_and_newer_bill_notices()

    assert world.delivery.deliver(older, first_attempt()) is Status.HELD
    assert world.delivery.deliver(newer, first_attempt()) is Status.HELD

    # Then only the newer waits; the older's one outcome says why
    assert list(world.holds.waiting.values()) == [newer]
    outcome = world.ledger.entries[older.notice_id].outcome
    assert outcome is not None
    assert (outcome.status, outcome.reason) == (Status.SKIPPED, f"superseded: by notice {newer.notice_id}")


def test_a_bill_judged_afresh_is_not_sent_once_the_customer_was_told(world: World) -> None:
    older, newer = older_and_newer_bill_notices()
    assert world.delivery.deliver(older, first_attempt()) is Status.SENT

    assert world.delivery.deliver(newer, first_attempt()) is Status.SKIPPED
    outcome = world.ledger.entries[newer.notice_id].outcome
    assert outcome is not None
    assert outcome.reason is not None
    assert outcome.reason.startswith(f"already_told: notice {older.notice_id}")
    assert len(world.email.sent) == 1


def _with_policy(world: World, quiet: QuietHours) -> Any:
    from dataclasses import replace

    return replace(world.delivery, policy=DeliveryPolicy(quiet_hours=quiet, max_per_day=100))


def test_an_older_notice_arriving_after_a_newer_one_is_held_is_superseded_at_once(world: World) -> None:
    # Given every notice held, and the newer bill notice held first (the queue did not keep order)
    world.delivery = _with_policy(world, QuietHours(start=time(3), end=time(3, 1), applies_to_email=True))
    older, newer = older_and_newer_bill_notices()
    newer = newer.model_copy(update={"detected_at": older.detected_at + timedelta(minutes=5)})
    assert world.delivery.deliver(newer, first_attempt()) is Status.HELD

    # When the older one arrives
    assert world.delivery.deliver(older, first_attempt()) is Status.SKIPPED

    # Then it is recorded superseded by the newer, which still waits
    outcome = world.ledger.entries[older.notice_id].outcome
    assert outcome is not None
    assert outcome.reason == f"superseded: by notice {newer.notice_id}"
    assert list(world.holds.waiting.values()) == [newer]
