from decimal import Decimal

import pytest
from headsup.domain.bills.models import Bill
from headsup.domain.bills.rules import Thresholds, changed_line_items, detect_increase
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.builders import bill

DEFAULT = Thresholds(percent=Decimal(10), minimum=Decimal("5.00"))


def test_increase_over_both_thresholds_is_notified_with_totals_and_percent() -> None:
    # Given last month's bill of 110.00 and this month's of 132.40
    previous = bill("2026-10", "110.00")
    current = bill("2026-11", "132.40", due_date="2026-12-15")

    # When the rule compares them
    notice = detect_increase(previous, current, DEFAULT)

    # Then the notice carries both totals, the difference, the percent and the due date
    assert notice is not None
    assert (notice.previous_amount, notice.new_amount) == (Decimal("110.00"), Decimal("132.40"))
    assert notice.difference == Decimal("22.40")
    assert notice.percent == Decimal("20.4")
    assert notice.due_date is not None
    assert notice.due_date.isoformat() == "2026-12-15"
    assert (notice.period, notice.compared_period, notice.is_correction) == ("2026-11", "2026-10", False)


@pytest.mark.parametrize(
    ("previous", "current", "notified"),
    [
        ("100.00", "110.00", True),  # exactly 10 % and exactly 10.00: both thresholds met
        ("100.00", "109.99", False),  # 9.99 %: under the percent threshold
        ("40.00", "44.99", False),  # 12.5 % but 4.99: under the minimum amount
        ("40.00", "45.00", True),  # 12.5 % and exactly 5.00
        ("1000.00", "1090.00", False),  # 90.00 more but only 9 %
    ],
)
def test_both_thresholds_must_be_met(previous: str, current: str, notified: bool) -> None:
    notice = detect_increase(bill("2026-10", previous), bill("2026-11", current), DEFAULT)
    assert (notice is not None) is notified


def test_thresholds_come_from_configuration() -> None:
    strict = Thresholds(percent=Decimal(50), minimum=Decimal(0))
    assert detect_increase(bill("2026-10", "100"), bill("2026-11", "140"), strict) is None
    assert detect_increase(bill("2026-10", "100"), bill("2026-11", "150"), strict) is not None


def test_bills_in_different_currencies_are_never_compared() -> None:
    previous = bill("2026-10", "100.00", currency="EUR")
    current = bill("2026-11", "300.00", currency="USD")
    assert detect_increase(previous, current, DEFAULT) is None


@pytest.mark.parametrize("previous_amount", ["0", "-20.00"])
def test_zero_or_credit_previous_bill_is_no_baseline(previous_amount: str) -> None:
    assert detect_increase(bill("2026-10", previous_amount), bill("2026-11", "80.00"), DEFAULT) is None


def test_first_bill_and_decrease_raise_nothing() -> None:
    assert detect_increase(None, bill("2026-11", "80.00"), DEFAULT) is None
    assert detect_increase(bill("2026-10", "90.00"), bill("2026-11", "80.00"), DEFAULT) is None


def test_correction_of_same_period_is_marked_as_correction() -> None:
    notice = detect_increase(bill("2026-11", "100.00"), bill("2026-11", "150.00"), DEFAULT)
    assert notice is not None
    assert notice.is_correction
    assert notice.compared_period == "2026-11"


def test_changed_items_are_new_or_grown_largest_change_first() -> None:
    # Given an item that grew by 5, a new one of 15, one unchanged, one that shrank and a new discount
    previous = bill(
        "2026-10", "130", items={"Plan": "100", "Insurance": "10", "Tax": "20", "Legacy fee": "0"}
    )
    current = bill(
        "2026-11",
        "150",
        items={"Plan": "105", "Data add-on": "15", "Insurance": "10", "Tax": "15", "Loyalty discount": "-5"},
    )

    # When the line items are compared
    changes = changed_line_items(previous, current)

    # Then only the new and grown items are listed, largest change first
    assert [(c.description, c.change, c.is_new) for c in changes] == [
        ("Data add-on", Decimal(15), True),
        ("Plan", Decimal(5), False),
    ]


def test_items_with_the_same_description_are_summed() -> None:
    previous = bill("2026-10", "20", items={"Data": "20"})
    current_item = {
        "customer_id": "cust-1",
        "period": "2026-11",
        "amount": Decimal(30),
        "line_items": [
            {"description": "Data", "amount": Decimal(20)},
            {"description": "Data ", "amount": Decimal(10)},
        ],
    }
    changes = changed_line_items(previous, Bill.from_item(current_item))
    assert [(c.description, c.previous_amount, c.new_amount) for c in changes] == [
        ("Data", Decimal(20), Decimal(30))
    ]


@pytest.mark.parametrize(
    ("previous", "currency"), [("0.004", "USD"), ("1E-25", "USD"), ("0.4", "JPY"), ("0.0009", "BHD")]
)
def test_an_earlier_bill_that_shows_as_zero_is_no_baseline(previous: str, currency: str) -> None:
    # 1E-25 -> 100 would be a rise of 1E+29 %: too long to round, and nonsense to tell anyone
    notice = detect_increase(
        bill("2026-10", previous, currency=currency), bill("2026-11", "100", currency=currency), DEFAULT
    )
    assert notice is None


def test_the_smallest_unit_of_the_currency_is_a_baseline() -> None:
    notice = detect_increase(
        bill("2026-10", "0.001", currency="BHD"), bill("2026-11", "999999999999999", currency="BHD"), DEFAULT
    )
    assert notice is not None
    assert notice.percent == Decimal("99999999999999899900.0")  # 1E+20 %, rounded to a tenth


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@given(previous=amounts, current=amounts)
def test_a_notice_is_raised_exactly_when_both_thresholds_hold(previous: Decimal, current: Decimal) -> None:
    notice = detect_increase(bill("2026-10", str(previous)), bill("2026-11", str(current)), DEFAULT)
    difference = current - previous
    expected = difference >= DEFAULT.minimum and difference * 100 >= DEFAULT.percent * previous
    assert (notice is not None) is expected
    if notice is not None:
        assert notice.difference == difference
        assert notice.new_amount - notice.previous_amount == notice.difference
