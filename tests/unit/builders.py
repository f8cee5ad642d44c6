"""Small builders for domain objects, so each test states only the facts it is about."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from headsup.domain.bills.models import Bill
from headsup.domain.callbacks.rules import CallbackPolicy
from headsup.domain.customer import Customer, customer_from_item
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.tickets.rules import TicketPolicy


def bill(
    period: str = "2026-11",
    amount: str = "100.00",
    *,
    customer_id: str = "cust-1",
    currency: str = "USD",
    items: dict[str, str] | None = None,
    due_date: str | None = None,
) -> Bill:
    item: dict[str, Any] = {
        "customer_id": customer_id,
        "period": period,
        "amount": Decimal(amount),
        "currency": currency,
        "line_items": [
            {"description": name, "amount": Decimal(value)} for name, value in (items or {}).items()
        ],
    }
    if due_date:
        item["due_date"] = due_date
    return Bill.from_item(item)


def customer(**fields: Any) -> Customer:
    item = {"customer_id": "cust-1", "first_name": "Ana", "email": "ana@example.com", **fields}
    return customer_from_item(item, default_locale="en-US", default_timezone="America/New_York")


BILL_INCREASE_PAYLOAD: dict[str, Any] = {
    "period": "2026-11",
    "compared_period": "2026-10",
    "is_correction": False,
    "currency": "USD",
    "previous_amount": "110.00",
    "new_amount": "132.40",
    "difference": "22.40",
    "percent": "20.4",
    "due_date": "2026-12-15",
    "changed_items": [
        {"description": "Data add-on", "previous_amount": None, "new_amount": "15.00"},
        {"description": "Plan", "previous_amount": "100.00", "new_amount": "105.00"},
    ],
}


def notice_request(payload: dict[str, Any] | None = None, *, customer_id: str = "cust-1") -> NoticeRequest:
    return NoticeRequest(
        notice_id=make_notice_id(NoticeKind.BILL_INCREASE, customer_id, "2026-11"),
        kind=NoticeKind.BILL_INCREASE,
        customer_id=customer_id,
        detected_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        payload=BILL_INCREASE_PAYLOAD if payload is None else payload,
    )


def sweep_policies() -> dict[str, Any]:
    """The sweep's callback and ticket policies and zone, as the template's defaults set them (the
    sweep's keyword arguments)."""
    return {
        "callback_policy": CallbackPolicy(grace=timedelta(minutes=15), reschedule=timedelta(minutes=60)),
        "ticket_policy": TicketPolicy(
            sla={p: timedelta(hours=72) for p in ("urgent", "high", "normal", "low")},
            warn_share=Decimal("0.8"),
            follow_up_after=timedelta(hours=24),
        ),
        "default_zone": ZoneInfo("America/New_York"),
    }
