"""Is a notice still true as it goes out (domain/recheck.py)? Checked against its source item as it
is now, the times it promises, and what of its story already reached the customer.

Notices are built by the real rules (callbacks, tickets, visits) or as the bill detector builds
them, so the facts checked are the facts the rules state. Items are plain values, as the adapters
read them from the business's tables.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.assertions import Told, canonical
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.callbacks.rules import CallbackPolicy, PromiseState
from headsup.domain.kinds import KINDS, NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.recheck import (
    ALREADY_TOLD,
    NO_LONGER_TRUE,
    NOTHING_TO_CORRECT,
    QUEUE_HOP_ALLOWANCE,
    Stale,
    ToldNotice,
    against_source,
    against_told,
    keep_promises,
)
from headsup.domain.tickets import rules as ticket_rules
from headsup.domain.tickets.models import Ticket
from headsup.domain.tickets.rules import TicketPolicy
from headsup.domain.visits import rules as visit_rules
from headsup.domain.visits.models import Visit
from headsup.domain.visits.rules import VisitPolicy
from hypothesis import example, given
from hypothesis import strategies as st

from sim.samples import sample_bill_correction, sample_bill_increase

H = timedelta(hours=1)
M = timedelta(minutes=1)
UTC_ZONE = ZoneInfo("UTC")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30
RESCHEDULE = 60 * M


def the_only(kind: NoticeKind, notices: list[NoticeRequest]) -> NoticeRequest:
    matching = [notice for notice in notices if notice.kind is kind]
    assert len(matching) == 1, [notice.kind for notice in notices]
    return matching[0]


def moment(text: object) -> datetime:
    assert isinstance(text, str), text
    return datetime.fromisoformat(text)


class Zone:
    """The customer's timezone, counting how often it was asked for."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.calls = 0

    def __call__(self) -> ZoneInfo:
        self.calls += 1
        return self.zone


class NoZone:
    """The customer's timezone, which must not be asked for (no new deadline is set)."""

    def __call__(self) -> ZoneInfo:
        raise AssertionError("the customer's timezone was looked up although no deadline was moved")


# -- bills, as the bill detector states them (logic/bill_increase.py) -------------------------

BILL_SUBJECT = {"customer_id": "cust-1", "period": "2026-11"}


def bill_item(amount: str = "132.40", **overrides: Any) -> dict[str, Any]:
    return {**BILL_SUBJECT, "amount": Decimal(amount), "currency": "USD", **overrides}


DETECTED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def bill_increase(amount: str = "132.40", *, told: Told = Told.ANY) -> NoticeRequest:
    return sample_bill_increase(amount, before="110.00", detected_at=DETECTED, told=told)


def bill_correction(before: str, after: str) -> NoticeRequest:
    return sample_bill_correction(before, after, detected_at=DETECTED)


# -- callbacks (domain/callbacks/rules.py) ------------------------------------------------------

PROMISED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CALLBACK_POLICY = CallbackPolicy(grace=10 * M, reschedule=RESCHEDULE)
SWEEP_AT = datetime(2026, 11, 24, 9, 12, tzinfo=UTC)  # overdue: the apology promises 10:15 UTC
CALLBACK_TOPIC = "Router keeps dropping the connection"


def callback_item(**overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": "cb-1",
        "customer_id": "cust-1",
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": CALLBACK_TOPIC,
        "agent_name": "Sam Okafor",
        **overrides,
    }


def overdue_callback(kind: NoticeKind = NoticeKind.CALLBACK_OVERDUE) -> NoticeRequest:
    step = callback_rules.on_due(
        Callback.from_item(callback_item()), PromiseState(), SWEEP_AT, CALLBACK_POLICY, lambda: UTC_ZONE
    )
    return the_only(kind, step.notices)


def apology_promising(deadline: datetime) -> NoticeRequest:
    """The sweep's apology, with the deadline it computed at some earlier time."""
    apology = overdue_callback()
    return apology.model_copy(update={"payload": {**apology.payload, "new_deadline": deadline.isoformat()}})


# -- tickets (domain/tickets/rules.py) -----------------------------------------------------------

TICKET_UPDATED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TICKET_SOLVED = datetime(2026, 11, 22, 6, 10, tzinfo=UTC)
TICKET_SUBJECT = "Invoice shows the wrong address"
TICKET_POLICY = TicketPolicy(
    sla={"urgent": 4 * H, "high": 24 * H, "normal": 72 * H, "low": 168 * H},
    warn_share=Decimal("0.8"),
    follow_up_after=24 * H,
)


def ticket_item(**overrides: Any) -> dict[str, Any]:
    return {
        "ticket_id": "tk-1",
        "customer_id": "cust-1",
        "subject": TICKET_SUBJECT,
        "status": "open",
        "priority": "normal",
        "created_at": "2026-11-19T08:00:00+00:00",
        "updated_at": TICKET_UPDATED.isoformat(),
        **overrides,
    }


def solved_ticket_item(**overrides: Any) -> dict[str, Any]:
    solved = TICKET_SOLVED.isoformat()
    return ticket_item(status="solved", solved_at=solved, updated_at=solved, **overrides)


def stale_ticket_update() -> NoticeRequest:
    """The customer's "still being worked on", at the first SLA breach."""
    ticket = Ticket.from_item(ticket_item())
    step = ticket_rules.on_due(ticket, TICKET_UPDATED + 72 * H + M, TICKET_POLICY)
    return the_only(NoticeKind.TICKET_STALE, step.notices)


def ticket_follow_up() -> NoticeRequest:
    step = ticket_rules.on_due(Ticket.from_item(solved_ticket_item()), TICKET_SOLVED + 25 * H, TICKET_POLICY)
    return the_only(NoticeKind.TICKET_FOLLOW_UP, step.notices)


# -- visits (domain/visits/rules.py) -------------------------------------------------------------

WINDOW_END = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
LATE_ETA = datetime(2026, 11, 24, 19, 40, tzinfo=UTC)
VISIT_POLICY = VisitPolicy(slip=15 * M)
VISIT_SEEN_AT = datetime(2026, 11, 24, 17, 20, tzinfo=UTC)
TECHNICIAN = "Carlos Mendes"


def visit_item(**overrides: Any) -> dict[str, Any]:
    return {
        "visit_id": "v-1",
        "customer_id": "cust-1",
        "window_start": "2026-11-24T17:00:00+00:00",
        "window_end": WINDOW_END.isoformat(),
        "eta": LATE_ETA.isoformat(),
        "status": "en_route",
        "technician_name": TECHNICIAN,
        "address_hint": "Flat 3, 12 Harbour Road",
        "delay_reason": "Traffic on the bridge",
        **overrides,
    }


def visit_notices(**overrides: Any) -> list[NoticeRequest]:
    """A visit seen for the first time, en route and already past its window."""
    visit = Visit.from_item(visit_item(**overrides))
    return visit_rules.on_change(None, visit, None, VISIT_POLICY, VISIT_SEEN_AT).notices


def on_the_way() -> NoticeRequest:
    return the_only(NoticeKind.VISIT_ON_THE_WAY, visit_notices())


def running_late() -> NoticeRequest:
    return the_only(NoticeKind.VISIT_RUNNING_LATE, visit_notices())


def running_late_without_an_eta() -> NoticeRequest:
    """The sweep's notice when the window passed and the app gave no new time."""
    visit = Visit.from_item(visit_item(status="scheduled", eta="2026-11-24T18:30:00+00:00"))
    step = visit_rules.on_window_end(visit, None, WINDOW_END + 10 * M)
    return the_only(NoticeKind.VISIT_RUNNING_LATE, step.notices)


def sooner(told_eta: datetime = LATE_ETA, new_eta: datetime = WINDOW_END - 10 * M) -> NoticeRequest:
    """The better news after a running-late notice with `told_eta`."""
    before = Visit.from_item(visit_item(eta=told_eta.isoformat()))
    after = Visit.from_item(visit_item(eta=new_eta.isoformat()))
    step = visit_rules.on_change(before, after, told_eta, VISIT_POLICY, VISIT_SEEN_AT, news=1)
    return the_only(NoticeKind.VISIT_ETA_EARLIER, step.notices)


def visit_done() -> NoticeRequest:
    before = Visit.from_item(visit_item(status="arrived"))
    step = visit_rules.on_change(
        before, Visit.from_item(visit_item(status="done")), None, VISIT_POLICY, SWEEP_AT
    )
    return the_only(NoticeKind.VISIT_DONE, step.notices)


# ==============================================================================================
# 1. against the source item
# ==============================================================================================


def test_a_bill_notice_whose_amount_changed_is_no_longer_true_and_the_reason_names_no_amount() -> None:
    # Given a notice stating the bill is 132.40
    notice = bill_increase("132.40")
    # When the bill is 150.00 by the time it goes
    checked = against_source(notice, bill_item("150.00"))
    # Then it must not go, and the logged reason names the field, not either figure
    assert checked == Stale(NO_LONGER_TRUE, "bill amount changed")


def test_a_bill_in_another_currency_by_now_is_no_longer_true() -> None:
    checked = against_source(bill_increase("132.40"), bill_item("132.40", currency="EUR"))

    assert checked == Stale(NO_LONGER_TRUE, "bill currency changed")


@given(
    told=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
    now=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
)
def test_whatever_a_bill_changed_from_and_to_the_reason_quotes_no_figure(told: Decimal, now: Decimal) -> None:
    # Given a notice stating any amount
    notice = bill_increase()
    assert notice.asserts is not None
    stated = notice.asserts.model_copy(update={"facts": {"amount": canonical(told), "currency": "USD"}})
    notice = notice.model_copy(update={"asserts": stated})

    # When the bill has any amount by the time it goes
    checked = against_source(notice, bill_item(str(now)))

    # Then it goes only if that is the amount it states, and a reason never quotes either
    if told == now:
        assert checked is notice
    else:
        assert checked == Stale(NO_LONGER_TRUE, "bill amount changed")


def test_a_bill_amount_written_with_other_trailing_zeros_is_the_same_amount() -> None:
    notice = bill_increase("132.40")

    assert against_source(notice, bill_item("132.4000")) is notice


def test_a_bill_notice_whose_facts_still_hold_goes_as_it_is_whatever_else_changed() -> None:
    notice = bill_increase("132.40")
    changed_elsewhere = bill_item("132.40", due_date="2026-12-20", line_items=[])

    assert against_source(notice, changed_elsewhere) is notice


@pytest.mark.parametrize(
    ("item", "detail"),
    [
        (callback_item(status="done"), "callback done"),
        (callback_item(status="cancelled"), "callback cancelled"),
        # The time the business changed it, in UTC, when the item says so
        (callback_item(status="done", updated_at="2026-11-24T10:05:00+01:00"), "callback done at 09:05 UTC"),
        (callback_item(promised_at="2026-11-24T16:00:00+00:00"), "callback re-promised"),
    ],
    ids=["done", "cancelled", "done-with-time", "re-promised"],
)
def test_an_apology_for_a_callback_no_longer_waiting_on_that_promise_is_no_longer_true(
    item: dict[str, Any], detail: str
) -> None:
    checked = against_source(overdue_callback(), item)

    assert checked == Stale(NO_LONGER_TRUE, detail)


def test_the_teams_escalation_is_checked_against_the_callback_too() -> None:
    escalation = overdue_callback(NoticeKind.CALLBACK_ESCALATION)

    assert against_source(escalation, callback_item(status="done")) == Stale(NO_LONGER_TRUE, "callback done")
    assert against_source(escalation, callback_item()) is escalation


def test_a_callback_promise_written_with_another_offset_is_the_same_promise() -> None:
    apology = overdue_callback()
    same_moment = callback_item(promised_at="2026-11-24T04:00:00-05:00")

    assert against_source(apology, same_moment) is apology


def test_a_ticket_update_is_no_longer_true_once_someone_updated_the_ticket() -> None:
    checked = against_source(stale_ticket_update(), ticket_item(updated_at="2026-11-23T09:30:00+00:00"))

    assert isinstance(checked, Stale)
    assert checked.reason == NO_LONGER_TRUE
    assert checked.detail.startswith("ticket updated at ")
    assert checked.detail.endswith("at 09:30 UTC")


def test_a_ticket_update_is_no_longer_true_once_the_ticket_is_solved() -> None:
    checked = against_source(stale_ticket_update(), solved_ticket_item())

    assert checked == Stale(NO_LONGER_TRUE, "ticket solved at 06:10 UTC")


def test_a_follow_up_is_no_longer_true_once_the_ticket_is_reopened() -> None:
    reopened = ticket_item(status="open", updated_at="2026-11-22T08:45:00+00:00")

    checked = against_source(ticket_follow_up(), reopened)

    assert checked == Stale(NO_LONGER_TRUE, "ticket open at 08:45 UTC")


def test_a_follow_up_still_holds_for_the_same_solution() -> None:
    follow_up = ticket_follow_up()

    assert against_source(follow_up, solved_ticket_item(priority="high")) is follow_up


@pytest.mark.parametrize(
    ("notice", "item", "detail"),
    [
        (on_the_way, visit_item(status="cancelled"), "visit cancelled"),
        (running_late, visit_item(status="cancelled"), "visit cancelled"),
        (running_late, visit_item(status="done"), "visit done"),
        (running_late, visit_item(status="arrived"), "visit arrived"),
        (running_late, visit_item(eta="2026-11-24T20:10:00+00:00"), "visit ETA moved"),
        (on_the_way, visit_item(status="scheduled"), "visit scheduled"),  # turned back
        (visit_done, visit_item(status="cancelled"), "visit cancelled"),
    ],
    ids=[
        "on-the-way-cancelled",
        "late-cancelled",
        "late-done",
        "late-arrived",
        "late-eta-moved",
        "on-the-way-turned-back",
        "done-cancelled",
    ],
)
def test_a_visit_notice_is_no_longer_true_once_the_visit_changed_what_it_states(
    notice: Callable[[], NoticeRequest], item: dict[str, Any], detail: str
) -> None:
    assert against_source(notice(), item) == Stale(NO_LONGER_TRUE, detail)


def test_running_late_with_an_eta_still_holds_while_the_visit_is_open_at_that_eta() -> None:
    late = running_late()

    assert against_source(late, visit_item(status="scheduled")) is late


def test_running_late_without_an_eta_still_holds_whatever_eta_the_open_visit_has_now() -> None:
    late = running_late_without_an_eta()

    still_open = visit_item(status="en_route", eta="2026-11-24T20:30:00+00:00")
    assert against_source(late, still_open) is late
    assert against_source(late, visit_item(status="arrived")) == Stale(NO_LONGER_TRUE, "visit arrived")


@pytest.mark.parametrize(
    ("notice", "noun"),
    [
        (bill_increase, "bill"),
        (overdue_callback, "callback"),
        (stale_ticket_update, "ticket"),
        (running_late, "visit"),
    ],
    ids=["bill", "callback", "ticket", "visit"],
)
def test_a_notice_about_an_item_deleted_since_is_no_longer_true(
    notice: Callable[[], NoticeRequest], noun: str
) -> None:
    assert against_source(notice(), None) == Stale(NO_LONGER_TRUE, f"{noun} deleted")


@pytest.mark.parametrize(
    ("notice", "item", "field", "personal"),
    [
        (bill_increase, bill_item() | {"amount": "132.40"}, "amount", "132.40"),  # S, not N
        (overdue_callback, callback_item(promised_at="2026-11-24 09:00"), "promised_at", CALLBACK_TOPIC),
        (stale_ticket_update, ticket_item(status="escalated"), "status", TICKET_SUBJECT),
        (running_late, visit_item(technician_name=" "), "technician_name", "Harbour Road"),
    ],
    ids=["bill", "callback", "ticket", "visit"],
)
def test_a_notice_about_an_item_now_breaking_the_contract_is_no_longer_true_naming_the_field_only(
    notice: Callable[[], NoticeRequest], item: dict[str, Any], field: str, personal: str
) -> None:
    checked = against_source(notice(), item)

    assert isinstance(checked, Stale)
    assert checked.reason == NO_LONGER_TRUE
    assert "now breaks the data contract" in checked.detail
    assert field in checked.detail
    assert personal not in checked.detail


PERSONAL = [
    "132.40",
    "132.4",
    "150",
    CALLBACK_TOPIC,
    "Sam Okafor",
    TICKET_SUBJECT,
    TECHNICIAN,
    "Carlos",
    "Harbour Road",
    "Traffic on the bridge",
]


@pytest.mark.parametrize(
    ("notice", "item"),
    [
        (bill_increase, bill_item("150.00", currency="EUR")),
        (overdue_callback, callback_item(status="done", promised_at="2026-11-24T16:00:00+00:00")),
        (stale_ticket_update, solved_ticket_item()),
        (ticket_follow_up, ticket_item(status="open")),
        (running_late, visit_item(status="arrived", eta="2026-11-24T20:10:00+00:00")),
        (on_the_way, visit_item(status="cancelled")),
    ],
    ids=["bill", "callback", "ticket", "follow-up", "visit", "on-the-way"],
)
def test_no_reason_quotes_personal_data_from_the_notice_or_the_item(
    notice: Callable[[], NoticeRequest], item: dict[str, Any]
) -> None:
    request = notice()
    checked = against_source(request, item)

    assert isinstance(checked, Stale)
    # The notice's payload and the item hold personal data (amounts, subjects, names, addresses)
    assert not [text for text in PERSONAL if text in checked.outcome_reason]


def test_a_notice_queued_before_notices_carried_assertions_goes_as_it_is() -> None:
    legacy = bill_increase().model_copy(update={"asserts": None})

    assert against_source(legacy, None) is legacy


# ==============================================================================================
# 2. the times it promises
# ==============================================================================================


def test_an_apology_sent_straight_after_the_sweep_keeps_the_deadline_the_team_was_given() -> None:
    # Given the sweep's apology, promising 10:15 UTC (the team's escalation names the same)
    apology = overdue_callback()
    assert moment(apology.payload["new_deadline"]) == datetime(2026, 11, 24, 10, 15, tzinfo=UTC)

    # When it is sent a queue hop later, within the allowance
    checked = keep_promises(apology, now=SWEEP_AT + 4 * M, zone=NoZone(), reschedule=RESCHEDULE)

    # Then it goes as it is: the same deadline, and the customer's zone was never needed
    assert checked is apology


def test_an_apology_held_past_its_deadline_promises_a_quarter_hour_on_the_customers_clock() -> None:
    # Given an apology promising 10:15 UTC, held until 11:02:30 UTC (16:32:30 in Kolkata)
    apology = overdue_callback()
    sent_at = datetime(2026, 11, 24, 11, 2, 30, tzinfo=UTC)

    # When it goes
    customers_zone = Zone(KOLKATA)
    checked = keep_promises(apology, now=sent_at, zone=customers_zone, reschedule=RESCHEDULE)

    # Then it promises the first quarter hour at least an hour away on the customer's clock:
    # 17:32:30 IST rounded up to 17:45 IST, which is 12:15 UTC
    assert isinstance(checked, NoticeRequest)
    new_deadline = moment(checked.payload["new_deadline"])
    assert new_deadline == datetime(2026, 11, 24, 12, 15, tzinfo=UTC)
    local = new_deadline.astimezone(KOLKATA)
    assert (local.hour, local.minute, local.second) == (17, 45, 0)
    assert customers_zone.calls == 1
    # Nothing else about it changes
    assert checked.notice_id == apology.notice_id
    assert {k: v for k, v in checked.payload.items() if k != "new_deadline"} == {
        k: v for k, v in apology.payload.items() if k != "new_deadline"
    }


def test_an_apology_whose_deadline_is_still_ahead_but_too_close_is_given_a_new_one() -> None:
    # 10:15 is still 35 minutes away at 09:40, but less than the reschedule (minus the hop) ahead
    sent_at = datetime(2026, 11, 24, 9, 40, tzinfo=UTC)

    checked = keep_promises(overdue_callback(), now=sent_at, zone=lambda: KOLKATA, reschedule=RESCHEDULE)

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["new_deadline"]) == datetime(2026, 11, 24, 10, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent_at", "new_deadline"),
    [
        # 10:15 is exactly reschedule - allowance (55 min) after 09:20: kept
        (datetime(2026, 11, 24, 9, 20, tzinfo=UTC), datetime(2026, 11, 24, 10, 15, tzinfo=UTC)),
        # one second later it is not
        (datetime(2026, 11, 24, 9, 20, 1, tzinfo=UTC), datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
    ],
    ids=["at-the-allowance", "past-the-allowance"],
)
def test_the_queue_hop_allowance_is_five_minutes_of_the_reschedule(
    sent_at: datetime, new_deadline: datetime
) -> None:
    assert timedelta(minutes=5) == QUEUE_HOP_ALLOWANCE

    checked = keep_promises(overdue_callback(), now=sent_at, zone=lambda: UTC_ZONE, reschedule=RESCHEDULE)

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["new_deadline"]) == new_deadline


@pytest.mark.parametrize(
    ("notice", "field"),
    [
        (running_late, "new eta"),
        (lambda: sooner(), "new eta"),
        (on_the_way, "eta"),
    ],
    ids=["running-late", "eta-earlier", "on-the-way"],
)
def test_a_visit_notice_whose_promised_time_has_passed_is_no_longer_true(
    notice: Callable[[], NoticeRequest], field: str
) -> None:
    request = notice()
    promised = moment(request.payload[KINDS[request.kind].promises[0]])

    # Still ahead: it goes as it is
    assert keep_promises(request, now=promised - M, zone=NoZone(), reschedule=RESCHEDULE) is request
    # At that time or after, it would tell the customer something already past
    for sent_at in (promised, promised + 10 * M):
        checked = keep_promises(request, now=sent_at, zone=NoZone(), reschedule=RESCHEDULE)
        assert checked == Stale(NO_LONGER_TRUE, f"the {field} it gives has passed")


def test_running_late_without_an_eta_promises_no_time_and_goes_as_it_is() -> None:
    late = running_late_without_an_eta()
    assert late.payload["new_eta"] is None

    assert keep_promises(late, now=WINDOW_END + 5 * H, zone=NoZone(), reschedule=RESCHEDULE) is late


@pytest.mark.parametrize(
    "notice",
    [
        bill_increase,
        lambda: bill_correction("150.00", "120.00"),
        stale_ticket_update,
        ticket_follow_up,
        visit_done,
        # The team's escalation names the deadline of the apology; it is no promise to the customer
        lambda: overdue_callback(NoticeKind.CALLBACK_ESCALATION),
    ],
    ids=["bill-increase", "bill-correction", "ticket-stale", "follow-up", "visit-done", "escalation"],
)
def test_a_notice_that_promises_no_time_goes_as_it_is_however_late(
    notice: Callable[[], NoticeRequest],
) -> None:
    request = notice()
    a_week_later = request.detected_at + 7 * 24 * H

    assert keep_promises(request, now=a_week_later, zone=NoZone(), reschedule=RESCHEDULE) is request


ZONES = [
    ZoneInfo(name)
    for name in ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham")
]


@given(
    sent_after_sweep=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    deadline_offset=st.timedeltas(min_value=-timedelta(days=3), max_value=timedelta(days=3)),
    reschedule=st.integers(min_value=6, max_value=24 * 60).map(lambda minutes: minutes * M),
    zone=st.sampled_from(ZONES),
    kind=st.sampled_from(sorted(kind for kind, spec in KINDS.items() if spec.promises)),
)
@example(timedelta(0), timedelta(0), 6 * M, UTC_ZONE, NoticeKind.CALLBACK_OVERDUE)
@example(timedelta(0), 55 * M, RESCHEDULE, UTC_ZONE, NoticeKind.CALLBACK_OVERDUE)
@example(timedelta(0), 55 * M - timedelta(microseconds=1), RESCHEDULE, UTC_ZONE, NoticeKind.CALLBACK_OVERDUE)
@example(timedelta(0), timedelta(0), RESCHEDULE, UTC_ZONE, NoticeKind.VISIT_ON_THE_WAY)
def test_whenever_a_notice_goes_every_time_it_promises_is_still_ahead_or_it_does_not_go(
    sent_after_sweep: timedelta,
    deadline_offset: timedelta,
    reschedule: timedelta,
    zone: ZoneInfo,
    kind: NoticeKind,
) -> None:
    # Given a notice of a kind that promises times, promising one anywhere around the send time
    now = SWEEP_AT + sent_after_sweep
    promised_time = now + deadline_offset
    template = {
        NoticeKind.CALLBACK_OVERDUE: overdue_callback,
        NoticeKind.VISIT_ON_THE_WAY: on_the_way,
        NoticeKind.VISIT_RUNNING_LATE: running_late,
        NoticeKind.VISIT_ETA_EARLIER: sooner,
    }[kind]()
    fields = KINDS[kind].promises
    request = template.model_copy(
        update={"payload": {**template.payload, **{field: promised_time.isoformat() for field in fields}}}
    )

    # When it is about to go
    checked = keep_promises(request, now=now, zone=lambda: zone, reschedule=reschedule)

    # Then it goes promising only times ahead, or it does not go
    if isinstance(checked, Stale):
        assert checked.reason == NO_LONGER_TRUE
        assert kind is not NoticeKind.CALLBACK_OVERDUE  # an apology is given a new deadline instead
        return
    for field in fields:
        assert moment(checked.payload[field]) > now
    if checked.payload != request.payload:
        # A moved deadline: at least the reschedule away, the first quarter hour on their clock
        new_deadline = moment(checked.payload["new_deadline"])
        assert now + reschedule <= new_deadline < now + reschedule + 15 * M
        local = new_deadline.astimezone(zone)
        assert (local.minute % 15, local.second, local.microsecond) == (0, 0, 0)


def test_an_apology_sent_at_its_deadline_with_the_smallest_reschedule_promises_a_time_ahead() -> None:
    deadline = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)

    checked = keep_promises(
        apology_promising(deadline), now=deadline, zone=lambda: UTC_ZONE, reschedule=5 * M
    )

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["new_deadline"]) > deadline


def test_an_apology_past_its_deadline_with_a_short_reschedule_promises_a_time_ahead() -> None:
    deadline = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
    sent_at = deadline + 2 * M

    checked = keep_promises(apology_promising(deadline), now=sent_at, zone=lambda: UTC_ZONE, reschedule=M)

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["new_deadline"]) > sent_at


# ==============================================================================================
# 3. what the customer was told
# ==============================================================================================

TOLD_AT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def told(notice_id: str, kind: NoticeKind, hours_ago: int = 0, **facts: str) -> ToldNotice:
    return ToldNotice(notice_id=notice_id, kind=kind, facts=facts, sent_at=TOLD_AT - hours_ago * H)


def test_a_bill_judged_afresh_goes_when_nothing_about_the_bill_reached_the_customer() -> None:
    fresh = bill_increase("150.00", told=Told.FIRST)

    assert against_told(fresh, []) is fresh


def test_a_bill_judged_afresh_does_not_go_once_something_about_the_bill_reached_the_customer() -> None:
    fresh = bill_increase("150.00", told=Told.FIRST)
    earlier = told("n-earlier", NoticeKind.BILL_INCREASE, amount="132.4", currency="USD")

    checked = against_told(fresh, [earlier])

    assert isinstance(checked, Stale)
    assert checked.reason == ALREADY_TOLD
    assert "n-earlier" in checked.detail
    assert "132.4" not in checked.detail


def test_a_correction_with_nothing_told_before_has_nothing_to_correct() -> None:
    correction = bill_correction("150.00", "120.00")

    assert against_told(correction, []) == Stale(
        NOTHING_TO_CORRECT, "nothing about it reached the customer before"
    )


def test_a_bill_correction_names_the_figure_of_the_newest_notice_that_reached_the_customer() -> None:
    # Given a correction detected as 150.00 -> 120.00, and two notices that reached the customer:
    # the bill at 132.40, then (newer) a correction that gave them 140
    correction = bill_correction("150.00", "120.00")
    newest = told("n-2", NoticeKind.BILL_CORRECTION, hours_ago=0, amount="140", currency="USD")
    older = told("n-1", NoticeKind.BILL_INCREASE, hours_ago=5, amount="132.4", currency="USD")

    # When it is checked against what was told (newest first)
    checked = against_told(correction, [newest, older])

    # Then it goes, correcting the figure they were last given, not the one the detector saw
    assert isinstance(checked, NoticeRequest)
    assert checked.notice_id == correction.notice_id
    assert Decimal(checked.payload["told_amount"]) == Decimal(140)
    assert Decimal(checked.payload["corrected_amount"]) == Decimal(120)
    assert Decimal(correction.payload["told_amount"]) == Decimal(150)  # the request itself is unchanged


def test_a_bill_correction_is_not_sent_when_the_customer_was_already_given_the_right_figure() -> None:
    correction = bill_correction("150.00", "120.00")
    right_figure = told("n-2", NoticeKind.BILL_INCREASE, amount="120", currency="USD")

    checked = against_told(correction, [right_figure])

    assert isinstance(checked, Stale)
    assert checked.reason == ALREADY_TOLD
    assert "n-2" in checked.detail
    assert "120" not in checked.detail


def test_better_news_names_the_eta_the_customer_was_last_told() -> None:
    # Given the better news detected after a "running late" for 19:40, now 18:50
    news = sooner(told_eta=LATE_ETA, new_eta=datetime(2026, 11, 24, 18, 50, tzinfo=UTC))
    # and the running-late notice that reached the customer said 20:10
    reached = told("n-late", NoticeKind.VISIT_RUNNING_LATE, open="yes", eta="2026-11-24T20:10:00+00:00")

    checked = against_told(news, [reached])

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["told_eta"]) == datetime(2026, 11, 24, 20, 10, tzinfo=UTC)
    assert moment(checked.payload["new_eta"]) == datetime(2026, 11, 24, 18, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    "told_eta",
    ["2026-11-24T18:50:00+00:00", "2026-11-24T18:45:00+00:00"],
    ids=["the-same-time", "an-earlier-time"],
)
def test_better_news_is_not_sent_when_the_customer_was_told_no_later_time(told_eta: str) -> None:
    news = sooner(told_eta=LATE_ETA, new_eta=datetime(2026, 11, 24, 18, 50, tzinfo=UTC))
    reached = told("n-late", NoticeKind.VISIT_RUNNING_LATE, open="yes", eta=told_eta)

    checked = against_told(news, [reached])

    assert isinstance(checked, Stale)
    assert checked.reason == ALREADY_TOLD
    assert "n-late" in checked.detail


def test_better_news_after_a_late_notice_that_gave_no_eta_keeps_the_eta_it_was_detected_with() -> None:
    news = sooner(told_eta=LATE_ETA, new_eta=datetime(2026, 11, 24, 18, 50, tzinfo=UTC))
    no_eta = told("n-late", NoticeKind.VISIT_RUNNING_LATE, open="yes")

    checked = against_told(news, [no_eta])

    assert isinstance(checked, NoticeRequest)
    assert moment(checked.payload["told_eta"]) == LATE_ETA


def test_better_news_with_nothing_told_before_has_nothing_to_correct() -> None:
    checked = against_told(sooner(), [])

    assert isinstance(checked, Stale)
    assert checked.reason == NOTHING_TO_CORRECT


@pytest.mark.parametrize(
    "notice", [bill_increase, running_late, overdue_callback], ids=["bill", "visit-late", "callback"]
)
def test_a_notice_that_goes_whatever_came_before_ignores_what_was_told(
    notice: Callable[[], NoticeRequest],
) -> None:
    request = notice()
    assert request.asserts is not None
    assert request.asserts.told is Told.ANY
    earlier = told("n-earlier", request.kind, amount="1", eta="2026-11-24T20:10:00+00:00")

    assert against_told(request, [earlier]) is request
    assert against_told(request, []) is request
