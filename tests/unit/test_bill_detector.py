from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from headsup.domain.assertions import Told
from headsup.domain.bills.models import Bill, InvalidBill
from headsup.domain.bills.rules import Thresholds
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.logic.bill_increase import BillIncreaseDetector


@dataclass
class InMemoryBills:
    items: list[dict[str, Any]] = field(default_factory=list)

    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
        earlier = sorted(
            (i for i in self.items if i["customer_id"] == customer_id and i["period"] < before_period),
            key=lambda i: i["period"],
        )
        return Bill.from_item(earlier[-1]) if earlier else None

    def prefetch(self, bills: object) -> None:
        """Nothing to save in memory."""


@dataclass
class RecordingQueue:
    requests: list[NoticeRequest] = field(default_factory=list)

    def put(self, request: NoticeRequest) -> None:
        self.requests.append(request)


def item(period: str, amount: Any, customer_id: str = "cust-1") -> dict[str, Any]:
    return {"customer_id": customer_id, "period": period, "amount": amount}


@pytest.fixture
def bills() -> InMemoryBills:
    return InMemoryBills([item("2026-09", Decimal(90)), item("2026-10", Decimal(100))])


@pytest.fixture
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture
def detector(bills: InMemoryBills, queue: RecordingQueue) -> BillIncreaseDetector:
    return BillIncreaseDetector(bills, queue, Thresholds(percent=Decimal(10), minimum=Decimal(5)))


def only(requests: list[NoticeRequest], kind: NoticeKind) -> NoticeRequest:
    matching = [request for request in requests if request.kind is kind]
    assert len(matching) == 1, [request.kind for request in requests]
    return matching[0]


def test_new_bill_is_compared_with_the_latest_earlier_one(
    detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    queued = detector.on_bill_change("INSERT", item("2026-11", Decimal(130)), None)

    assert queue.requests == queued
    request = only(queued, NoticeKind.BILL_INCREASE)
    assert request.payload["compared_period"] == "2026-10"
    assert request.payload["previous_amount"] == "100"
    # It states the bill's amount, checked again when it is sent; it goes whatever came before
    assert request.asserts is not None
    assert request.asserts.facts == {"amount": "130", "currency": "USD"}
    assert request.asserts.key == {"customer_id": "cust-1", "period": "2026-11"}
    assert request.asserts.told is Told.ANY


def test_same_change_seen_twice_gives_the_same_notice_id(detector: BillIncreaseDetector) -> None:
    first = detector.on_bill_change("INSERT", item("2026-11", Decimal(130)), None)
    again = detector.on_bill_change("INSERT", item("2026-11", Decimal("130.00")), None)
    assert [r.notice_id for r in first] == [r.notice_id for r in again]
    assert len(first) == 1


def test_a_corrected_bill_gives_a_correction_and_the_bill_judged_afresh(
    detector: BillIncreaseDetector,
) -> None:
    # Given November was 150.00 (October 100.00) and is corrected to 130.00
    queued = detector.on_bill_change("MODIFY", item("2026-11", Decimal(130)), item("2026-11", Decimal(150)))

    # Then a correction, to go only if the 150.00 reached the customer...
    correction = only(queued, NoticeKind.BILL_CORRECTION)
    assert correction.asserts is not None
    assert correction.asserts.told is Told.AFTER
    assert (correction.payload["told_amount"], correction.payload["corrected_amount"]) == ("150", "130")
    # ...and the bill judged against October, to go only if nothing about it did
    increase = only(queued, NoticeKind.BILL_INCREASE)
    assert increase.asserts is not None
    assert increase.asserts.told is Told.FIRST
    assert (increase.payload["compared_period"], increase.payload["new_amount"]) == ("2026-10", "130")
    # Both tell the same story: a newer one held takes the older one's place
    assert correction.story_key == increase.story_key == "bills/cust-1/2026-11#bill"


def test_a_correction_down_to_no_rise_gives_only_the_correction(detector: BillIncreaseDetector) -> None:
    queued = detector.on_bill_change("MODIFY", item("2026-11", Decimal(101)), item("2026-11", Decimal(150)))
    assert [request.kind for request in queued] == [NoticeKind.BILL_CORRECTION]


def test_a_bill_corrected_up_that_is_no_rise_on_last_month_is_compared_with_its_old_version(
    bills: InMemoryBills, detector: BillIncreaseDetector
) -> None:
    # Given September was 115.00, and October's 100.00 is corrected to 120.00
    bills.items += [item("2026-09", Decimal(115), customer_id="cust-3")]
    old, new = (
        item("2026-10", Decimal(100), customer_id="cust-3"),
        item("2026-10", Decimal(120), customer_id="cust-3"),
    )

    queued = detector.on_bill_change("MODIFY", new, old)

    # Then 120 on September's 115 is no rise worth telling, but 20 % on what the customer saw is
    increase = only(queued, NoticeKind.BILL_INCREASE)
    assert increase.payload["is_correction"] is True
    assert increase.payload["compared_period"] == "2026-10"


def test_modify_that_keeps_the_amount_raises_nothing(
    detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    new = {**item("2026-11", Decimal(200)), "due_date": "2026-12-20"}
    old = {**item("2026-11", Decimal(200)), "due_date": "2026-12-10"}
    assert detector.on_bill_change("MODIFY", new, old) == []
    assert queue.requests == []


def test_fixing_a_malformed_bill_compares_it_as_new(detector: BillIncreaseDetector) -> None:
    queued = detector.on_bill_change("MODIFY", item("2026-11", Decimal(130)), item("2026-11", "ninety"))
    request = only(queued, NoticeKind.BILL_INCREASE)
    assert (request.payload["compared_period"], request.payload["is_correction"]) == ("2026-10", False)
    assert request.asserts is not None
    assert request.asserts.told is Told.ANY


def test_malformed_earlier_bill_does_not_block_a_valid_new_one(
    bills: InMemoryBills, detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    bills.items.append(item("2026-10", "n/a", customer_id="cust-2"))
    assert detector.on_bill_change("INSERT", item("2026-11", Decimal(130), customer_id="cust-2"), None) == []
    assert queue.requests == []


def test_malformed_new_bill_raises_invalid_bill(detector: BillIncreaseDetector) -> None:
    with pytest.raises(InvalidBill, match="amount"):
        detector.on_bill_change("INSERT", item("2026-11", "ninety"), None)


def test_deletion_raises_nothing(detector: BillIncreaseDetector, queue: RecordingQueue) -> None:
    assert detector.on_bill_change("REMOVE", {}, item("2026-11", Decimal(130))) == []
    assert queue.requests == []
