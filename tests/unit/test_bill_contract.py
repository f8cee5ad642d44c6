from decimal import Decimal
from typing import Any

import pytest
from headsup.domain.bills.models import Bill, InvalidBill
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import make_notice_id


def valid_item(**overrides: Any) -> dict[str, Any]:
    return {"customer_id": "cust-1", "period": "2026-11", "amount": Decimal("12.50"), **overrides}


def test_contract_defaults_currency_to_usd_and_items_to_none() -> None:
    bill = Bill.from_item(valid_item())
    assert bill.currency == "USD"
    assert bill.line_items == ()
    assert bill.due_date is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"amount": "12,50"}, "amount: must be a DynamoDB number (N), got S"),
        ({"amount": "12.50"}, "amount:"),  # stored as S instead of N
        ({"amount": True}, "amount: must be a DynamoDB number (N), got BOOL"),
        ({"amount": Decimal("NaN")}, "amount:"),
        ({"period": "2026-13"}, "period:"),
        ({"period": "Nov 2026"}, "period:"),
        ({"currency": "usd"}, "currency:"),
        ({"currency": "XYZ"}, "currency:"),
        ({"due_date": "15/12/2026"}, "due_date:"),
        ({"line_items": [{"description": "Plan"}]}, "line_items.0.amount:"),
        ({"customer_id": ""}, "customer_id:"),
    ],
)
def test_record_breaking_the_contract_names_its_key_and_the_field(
    overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(InvalidBill) as caught:
        Bill.from_item(valid_item(**overrides))
    assert caught.value.key == {
        "customer_id": overrides.get("customer_id", "cust-1"),
        "period": overrides.get("period", "2026-11"),
    }
    assert any(problem.startswith(expected) for problem in caught.value.problems), caught.value.problems


def test_missing_amount_is_reported() -> None:
    item = valid_item()
    del item["amount"]
    with pytest.raises(InvalidBill, match="amount: Field required"):
        Bill.from_item(item)


def test_error_message_does_not_echo_the_bad_value() -> None:
    with pytest.raises(InvalidBill) as caught:
        Bill.from_item(valid_item(amount="call me on +15551234567"))
    assert "+15551234567" not in str(caught.value)


def test_notice_id_is_stable_and_ignores_how_an_amount_is_written() -> None:
    first = make_notice_id(NoticeKind.BILL_INCREASE, "cust-1", "2026-11", Decimal("120"))
    again = make_notice_id(NoticeKind.BILL_INCREASE, "cust-1", "2026-11", Decimal("120.00"))
    other = make_notice_id(NoticeKind.BILL_INCREASE, "cust-1", "2026-11", Decimal("120.01"))
    assert first == again
    assert first != other
    assert len(first) == 32


@pytest.mark.parametrize("amount", ["1e30", "-1e30", "1e15", "-1e15"])
def test_amounts_beyond_any_real_bill_are_rejected_not_told(amount: str) -> None:
    with pytest.raises(InvalidBill, match=r"amount: Input should be (less|greater) than"):
        Bill.from_item(valid_item(amount=Decimal(amount)))


def test_line_item_amounts_have_the_same_limit() -> None:
    with pytest.raises(InvalidBill, match=r"line_items\.0\.amount: Input should be less than"):
        Bill.from_item(valid_item(line_items=[{"description": "Plan", "amount": Decimal("1e30")}]))


@pytest.mark.parametrize(
    ("due_date", "arrived_as"), [(Decimal(0), "N"), (Decimal(20261215), "N"), (True, "BOOL")]
)
def test_due_date_written_as_a_number_is_rejected_not_read_as_an_epoch(
    due_date: object, arrived_as: str
) -> None:
    with pytest.raises(InvalidBill) as caught:
        Bill.from_item(valid_item(due_date=due_date))
    assert caught.value.problems == [f"due_date: must be an ISO 8601 string (S), got {arrived_as}"]
