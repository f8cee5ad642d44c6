from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from headsup.domain.bills.models import Bill, InvalidBill
from headsup.domain.bills.rules import Thresholds
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


def test_new_bill_is_compared_with_the_latest_earlier_one(
    detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    request = detector.on_bill_change("INSERT", item("2026-11", Decimal(130)), None)

    assert request is not None
    assert queue.requests == [request]
    assert request.payload["compared_period"] == "2026-10"
    assert request.payload["previous_amount"] == "100"


def test_same_change_seen_twice_gives_the_same_notice_id(detector: BillIncreaseDetector) -> None:
    first = detector.on_bill_change("INSERT", item("2026-11", Decimal(130)), None)
    again = detector.on_bill_change("INSERT", item("2026-11", Decimal("130.00")), None)
    assert first is not None
    assert again is not None
    assert first.notice_id == again.notice_id


def test_correction_is_compared_with_its_own_old_version(detector: BillIncreaseDetector) -> None:
    request = detector.on_bill_change("MODIFY", item("2026-10", Decimal(120)), item("2026-10", Decimal(100)))
    assert request is not None
    assert request.payload["is_correction"] is True


def test_modify_that_keeps_the_amount_raises_nothing(
    detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    new = {**item("2026-11", Decimal(200)), "due_date": "2026-12-20"}
    old = {**item("2026-11", Decimal(200)), "due_date": "2026-12-10"}
    assert detector.on_bill_change("MODIFY", new, old) is None
    assert queue.requests == []


def test_fixing_a_malformed_bill_compares_it_as_new(detector: BillIncreaseDetector) -> None:
    request = detector.on_bill_change("MODIFY", item("2026-11", Decimal(130)), item("2026-11", "ninety"))
    assert request is not None
    assert (request.payload["compared_period"], request.payload["is_correction"]) == ("2026-10", False)


def test_malformed_earlier_bill_does_not_block_a_valid_new_one(
    bills: InMemoryBills, detector: BillIncreaseDetector, queue: RecordingQueue
) -> None:
    bills.items.append(item("2026-10", "n/a", customer_id="cust-2"))
    assert (
        detector.on_bill_change("INSERT", item("2026-11", Decimal(130), customer_id="cust-2"), None) is None
    )
    assert queue.requests == []


def test_malformed_new_bill_raises_invalid_bill(detector: BillIncreaseDetector) -> None:
    with pytest.raises(InvalidBill, match="amount"):
        detector.on_bill_change("INSERT", item("2026-11", "ninety"), None)


def test_deletion_raises_nothing(detector: BillIncreaseDetector, queue: RecordingQueue) -> None:
    assert detector.on_bill_change("REMOVE", {}, item("2026-11", Decimal(130))) is None
    assert queue.requests == []
