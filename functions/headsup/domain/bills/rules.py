"""When is a bill increase worth telling the customer about, and what changed. Pure functions."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.numbers import get_currency_precision

from headsup.domain.assertions import Fact, Told
from headsup.domain.bills.models import Bill
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import BillCorrectionPayload, BillIncreasePayload, LineItemChange

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Thresholds:
    """Both must be met: a 50 % rise on a 2.00 bill is noise, and so is 6.00 on a 900.00 bill."""

    percent: Decimal
    minimum: Decimal


def detect_increase(
    previous: Bill | None, current: Bill, thresholds: Thresholds
) -> BillIncreasePayload | None:
    """The notice to send about `current` compared with `previous`, or None if nothing to say.

    `previous` is either the customer's most recent earlier bill or, for a correction, the same
    bill before it was changed.
    """
    if previous is None or previous.currency != current.currency:
        return None  # different currencies are never compared: no exchange rate is right
    if previous.amount < _smallest_unit(previous.currency):
        # A zero or credit balance is no baseline for "your bill went up by N %", and neither is
        # one that shows as zero ($0.004): its percentage would be astronomical (and too long
        # to round).
        return None
    difference = current.amount - previous.amount
    if difference <= 0:
        return None
    percent = difference / previous.amount * _HUNDRED
    if percent < thresholds.percent or difference < thresholds.minimum:
        return None
    return BillIncreasePayload(
        period=current.period,
        compared_period=previous.period,
        is_correction=previous.period == current.period,
        currency=current.currency,
        previous_amount=previous.amount,
        new_amount=current.amount,
        difference=difference,
        percent=percent.quantize(Decimal("0.1")),
        due_date=current.due_date,
        changed_items=changed_line_items(previous, current),
    )


def correction_of(before: Bill, after: Bill) -> BillCorrectionPayload | None:
    """What to tell a customer who may have been given `before`'s figure, now that the bill is
    `after`; None when the figure did not change (or its currency did: no comparing those)."""
    if before.currency != after.currency or before.amount == after.amount:
        return None
    return BillCorrectionPayload(
        period=after.period,
        currency=after.currency,
        told_amount=before.amount,
        corrected_amount=after.amount,
        due_date=after.due_date,
        due_date_changed=before.due_date != after.due_date,
    )


def increase_notice(
    previous: Bill | None,
    current: Bill,
    thresholds: Thresholds,
    *,
    detected_at: datetime,
    told: Told = Told.ANY,
) -> NoticeRequest | None:
    """The bill-increase notice about `current` against `previous`, or None if nothing to say.
    Identified by both bills' figures; it states `current`'s amount."""
    payload = detect_increase(previous, current, thresholds)
    if payload is None or previous is None:
        return None
    return NoticeRequest.about(
        current,
        NoticeKind.BILL_INCREASE,
        previous.period,
        previous.amount,
        current.amount,
        current.currency,
        detected_at=detected_at,
        payload=payload,
        asserts=_figures(current),
        told=told,
    )


def correction_notice(before: Bill, after: Bill, *, detected_at: datetime) -> NoticeRequest | None:
    """The correction of `before`'s figure by `after`'s, to go only if a notice about the bill
    reached the customer (told: after); None if the figure did not change."""
    payload = correction_of(before, after)
    if payload is None:
        return None
    return NoticeRequest.about(
        after,
        NoticeKind.BILL_CORRECTION,
        before.amount,
        after.amount,
        detected_at=detected_at,
        payload=payload,
        asserts=_figures(after),
        told=Told.AFTER,
    )


def _figures(bill: Bill) -> dict[str, Fact]:
    """What a bill notice states about the bill: its amount, in its currency."""
    return {"amount": bill.amount, "currency": bill.currency}


def _smallest_unit(currency: str) -> Decimal:
    """One cent, one yen, one fils: the least amount a bill in `currency` shows."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def changed_line_items(previous: Bill, current: Bill) -> list[LineItemChange]:
    """Items that are new on `current` or grew, largest change first.

    Items are matched by description; repeated descriptions are summed, since a customer reads
    two "Data add-on" lines as one charge.
    """
    before = _totals_by_description(previous)
    after = _totals_by_description(current)
    changes = [
        LineItemChange(description=name, previous_amount=before.get(name), new_amount=amount)
        for name, amount in after.items()
    ]
    # A new discount line or an unchanged item is not why the bill went up.
    return sorted(
        (item for item in changes if item.change > 0), key=lambda item: (-item.change, item.description)
    )


def _totals_by_description(bill: Bill) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in bill.line_items:
        totals[item.description.strip()] += item.amount
    return dict(totals)
