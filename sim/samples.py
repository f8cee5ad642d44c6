"""One realistic notice of every kind, customers that stress the templates, and the business's
records that such notices are detected from.

Used by the `headsup preview` and `headsup check-templates` commands (cli/main.py), the tests and
the benchmarks. Payloads are validated by the project's own payload models when a notice is built,
so a sample that drifts from the contract fails loudly instead of previewing something delivery
would never render.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from headsup.domain.assertions import Told
from headsup.domain.bills.models import Bill
from headsup.domain.bills.rules import Thresholds, correction_notice, increase_notice
from headsup.domain.customer import Customer
from headsup.domain.kinds import KINDS, NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id

NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
_SOON = NOW + timedelta(minutes=25)

PAYLOADS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.BILL_INCREASE: {
        "period": "2026-11",
        "compared_period": "2026-10",
        "is_correction": False,
        "currency": "USD",
        "previous_amount": Decimal("110.00"),
        "new_amount": Decimal("132.40"),
        "difference": Decimal("22.40"),
        "percent": Decimal("20.4"),
        "due_date": "2026-12-15",
        "changed_items": [
            {"description": "Data add-on", "previous_amount": None, "new_amount": Decimal("15.00")},
            {"description": "Plan", "previous_amount": Decimal("100.00"), "new_amount": Decimal("107.40")},
        ],
    },
    # The November bill above, corrected down after its increase notice went out: the data add-on
    # was charged by mistake.
    NoticeKind.BILL_CORRECTION: {
        "period": "2026-11",
        "currency": "USD",
        "told_amount": Decimal("132.40"),
        "corrected_amount": Decimal("117.40"),
        "due_date": "2026-12-15",
        "due_date_changed": False,
    },
    NoticeKind.CALLBACK_OVERDUE: {
        "callback_id": "cb-1",
        "topic": "router keeps dropping",
        "promised_at": NOW - timedelta(minutes=40),
        "new_deadline": NOW + timedelta(minutes=45),
        "agent_name": "Sam",
    },
    NoticeKind.CALLBACK_ESCALATION: {
        "callback_id": "cb-1",
        "customer_id": "cust-sample",
        "topic": "router keeps dropping",
        "promised_at": NOW - timedelta(minutes=40),
        "minutes_late": 40,
        "new_deadline": NOW + timedelta(minutes=45),
        "level": 1,
        "agent_name": "Sam",
        "team": "Connectivity",
    },
    NoticeKind.TICKET_STALE: {
        "ticket_id": "t-1",
        "subject": "Refund for October",
        "created_at": NOW - timedelta(hours=30),
        "open_for_hours": 30,
    },
    NoticeKind.TICKET_ESCALATION: {
        "ticket_id": "t-1",
        "customer_id": "cust-sample",
        "subject": "Refund for October",
        "priority": "high",
        "status": "open",
        "updated_at": NOW - timedelta(hours=9),
        "hours_without_update": 9,
        "sla_hours": 8,
        "window": 1,
    },
    NoticeKind.TICKET_SLA_WARNING: {
        "ticket_id": "t-1",
        "customer_id": "cust-sample",
        "subject": "Refund for October",
        "priority": "high",
        "updated_at": NOW - timedelta(hours=7),
        "breach_at": NOW + timedelta(hours=1),
        "minutes_left": 60,
        "sla_hours": 8,
        "window": 1,
    },
    NoticeKind.TICKET_FOLLOW_UP: {
        "ticket_id": "t-1",
        "subject": "Refund for October",
        "solved_at": NOW - timedelta(days=2),
    },
    NoticeKind.VISIT_ON_THE_WAY: {
        "visit_id": "v-1",
        "technician_first_name": "Carlos",
        "eta": _SOON,
        "address_hint": "side gate",
    },
    NoticeKind.VISIT_RUNNING_LATE: {
        "visit_id": "v-1",
        "technician_first_name": "Carlos",
        "window_start": NOW - timedelta(hours=2),
        "window_end": NOW,
        "new_eta": NOW + timedelta(minutes=50),
        "delay_reason": "the previous job ran over",
    },
    # Better news after a "running late": the technician now makes it within the window after all.
    NoticeKind.VISIT_ETA_EARLIER: {
        "visit_id": "v-1",
        "technician_first_name": "Carlos",
        "told_eta": NOW + timedelta(minutes=50),
        "new_eta": _SOON,
        "window_end": NOW + timedelta(minutes=30),
    },
    NoticeKind.VISIT_DONE: {"visit_id": "v-1", "technician_first_name": "Carlos"},
    NoticeKind.TICKET_ANSWER: {
        "customer_id": "cust-sample",
        "reference": "t-1",
        "answered_kind": "ticket_follow_up",
        "answer": "not_fixed",
        "answered_at": NOW,
        "source": "link",
    },
    NoticeKind.CALLBACK_ANSWER: {
        "customer_id": "cust-sample",
        "reference": "cb-1",
        "answered_kind": "callback_overdue",
        "answer": "call_later",
        "answered_at": NOW,
        "source": "link",
        "slot": NOW + timedelta(hours=3),
    },
    NoticeKind.CUSTOMER_MESSAGE: {
        "customer_id": "cust-sample",
        "inbound_message_id": "cae173d2-66b9-564c-8309-21f858e9fb84",
        "received_at": NOW,
        "text": "Can the technician come after 5pm instead?",
        "why": "free_text",
        "replied_to_notice_id": "0123456789abcdef0123456789abcdef",
        "replied_to_kind": "visit_on_the_way",
        "reference": "v-3001",
        "acknowledged": True,
    },
    NoticeKind.VISIT_ANSWER: {
        "customer_id": "cust-sample",
        "reference": "v-1",
        "answered_kind": "visit_running_late",
        "answer": "reschedule",
        "answered_at": NOW,
        "source": "link",
    },
}

# Customers for `check-templates`: what real data throws at the wording.
EDGE_CUSTOMERS: dict[str, dict[str, Any]] = {
    "typical": {"first_name": "Ana"},
    "long name": {"first_name": "Maria-Fernanda Alessandra Guadalupe " * 3},
    "markup in name": {"first_name": "<b>Ana</b> {{ 7*7 }}"},
    "arabic": {"first_name": "ليلى"},
    "japanese": {"first_name": "さくら"},
    "emoji": {"first_name": "Zoë 🌻"},
}
LOCALES = ("en-US", "en-GB", "es-ES", "de-DE", "fr-FR", "ja-JP", "ar-EG")


def sample_request(kind: NoticeKind, payload: dict[str, Any] | None = None) -> NoticeRequest:
    """A notice of `kind` with the sample payload (or `payload`), checked against its model."""
    data = KINDS[kind].payload.model_validate(payload or PAYLOADS[kind]).model_dump(mode="json")
    return NoticeRequest(
        notice_id=make_notice_id(kind, "sample"),
        kind=kind,
        customer_id="cust-sample",
        detected_at=NOW,
        payload=data,
    )


# The template's defaults for BillIncreasePercent and BillIncreaseMinimum.
SAMPLE_THRESHOLDS = Thresholds(percent=Decimal(10), minimum=Decimal(5))


def sample_bill(amount: str, period: str = "2026-11", customer_id: str = "cust-1") -> Bill:
    return Bill.from_item(
        {"customer_id": customer_id, "period": period, "amount": Decimal(amount), "currency": "USD"}
    )


def sample_bill_increase(  # noqa: PLR0913 - the two bills' figures, whose, and when
    amount: str,
    *,
    before: str = "100.00",
    period: str = "2026-11",
    customer_id: str = "cust-1",
    detected_at: datetime = NOW,
    told: Told = Told.ANY,
) -> NoticeRequest:
    """The bill-increase notice the detector makes for `period` at `amount`, the month before at
    `before` (a rise worth telling: refused otherwise)."""
    year, month = (int(part) for part in period.split("-"))
    previous = f"{year}-{month - 1:02d}" if month > 1 else f"{year - 1}-12"
    notice = increase_notice(
        sample_bill(before, previous, customer_id),
        sample_bill(amount, period, customer_id),
        SAMPLE_THRESHOLDS,
        detected_at=detected_at,
        told=told,
    )
    if notice is None:
        raise ValueError(f"{before} -> {amount} is no rise worth telling")
    return notice


def sample_bill_correction(told: str, corrected: str, *, detected_at: datetime = NOW) -> NoticeRequest:
    """The correction the detector makes when cust-1's 2026-11 bill goes from `told` to `corrected`."""
    notice = correction_notice(sample_bill(told), sample_bill(corrected), detected_at=detected_at)
    if notice is None:
        raise ValueError("a correction needs a changed amount")
    return notice


def sample_customer(**fields: Any) -> Customer:
    base: dict[str, Any] = {
        "customer_id": "cust-sample",
        "first_name": "Ana",
        "email": "ana@example.com",
        "phone": "+14155550123",
        "locale": "en-US",
        "timezone": "America/New_York",
        "channels": ["email", "sms"],
    }
    return Customer.model_validate({**base, **fields})


# ---------------------------------------------------------------------- the business's records
# As the streams and the sweep read them (docs/data-contract.md): the bill that went up as the
# bill-increase sample says, and a callback, a ticket and a visit of the sample notices' people.


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sample_bills(customer_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Last month's bill and this month's, up from the one to the other as the sample
    bill-increase notice says (in USD, the contract's default currency, so not written)."""
    notice = PAYLOADS[NoticeKind.BILL_INCREASE]
    previous = {
        "customer_id": customer_id,
        "period": notice["compared_period"],
        "amount": notice["previous_amount"],
    }
    current = {
        "customer_id": customer_id,
        "period": notice["period"],
        "amount": notice["new_amount"],
        "due_date": notice["due_date"],
        "line_items": [
            {"description": "Unlimited plan", "amount": Decimal("105.00")},
            {"description": "Data add-on", "amount": Decimal("15.00")},
            {"description": "Taxes and fees", "amount": Decimal("12.40")},
        ],
    }
    return previous, current


def sample_callback(callback_id: str, customer_id: str, promised_at: datetime) -> dict[str, Any]:
    """A callback still pending, promised for `promised_at`."""
    return {
        "callback_id": callback_id,
        "customer_id": customer_id,
        "promised_at": _stamp(promised_at),
        "status": "pending",
        "topic": "internet drops every evening",
        "agent_name": PAYLOADS[NoticeKind.CALLBACK_OVERDUE]["agent_name"],
        "team": "broadband",
    }


def sample_ticket(ticket_id: str, customer_id: str, created_at: datetime) -> dict[str, Any]:
    """An urgent ticket, open since `created_at` (its `updated_at` is the caller's to set)."""
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "subject": "Router replacement not delivered",
        "status": "open",
        "priority": "urgent",
        "created_at": _stamp(created_at),
    }


def sample_visit(visit_id: str, customer_id: str, window_start: datetime) -> dict[str, Any]:
    """A visit scheduled for the two hours from `window_start`, the technician expected half an
    hour in."""
    return {
        "visit_id": visit_id,
        "customer_id": customer_id,
        "window_start": _stamp(window_start),
        "window_end": _stamp(window_start + timedelta(hours=2)),
        "eta": _stamp(window_start + timedelta(minutes=30)),
        "status": "scheduled",
        "technician_name": "Carlos Mendes",
        "address_hint": PAYLOADS[NoticeKind.VISIT_ON_THE_WAY]["address_hint"],
    }
