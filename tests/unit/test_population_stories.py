"""sim.population's stories of the business acting while a notice waits: each plays out at the
local times it promises, and the seeded days have every one of them."""

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.bills.models import Bill
from headsup.domain.bills.rules import Thresholds, detect_increase
from headsup.domain.callbacks.models import Callback
from headsup.domain.tickets.models import Ticket
from headsup.domain.visits.models import Visit

from emulator.template import load_template
from sim.population import BILLS_ARRIVE, _Generator, busy_day, busy_days
from sim.population.bills import BILL_STORIES, PLANS, tell_a_story
from sim.population.callbacks import CALLBACK_SCENARIOS, GRACE, callback
from sim.population.scenarios import DEFAULT_TIMEZONE, EVENING, MORNING, Record, Scenario
from sim.population.tickets import FOLLOW_UP, SLA_HIGH, TICKET_SCENARIOS, ticket
from sim.population.visits import SLIP, VISIT_SCENARIOS, visit

PARAMETERS = load_template()["Parameters"]
AMERICAS = ["America/New_York", "America/Chicago", "America/Mexico_City", "America/Los_Angeles", None]
EAST = ["Europe/London", "Europe/Madrid", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
THRESHOLDS = Thresholds(
    percent=Decimal(PARAMETERS["BillIncreasePercent"]["Default"]),
    minimum=Decimal(PARAMETERS["BillIncreaseMinimum"]["Default"]),
)


def scenario(table: tuple[Scenario[Any], ...], name: str) -> Scenario[Any]:
    return next(row for row in table if row.name == name)


def a_day(seed: int = 1) -> _Generator:
    """The first simulated day (24 November 2026, from 08:00 UTC), its changes in `.changes`."""
    return _Generator(random.Random(seed), 1, date(2026, 11, 24))


def texted(zone: str | None, channels: tuple[str, ...] = ("sms", "email")) -> Record:
    customer: Record = {
        "customer_id": "cust-00001",
        "first_name": "Ana",
        "last_name": "Souza",
        "email": "ana@example.com",
        "phone": "+14155550100",
        "channels": list(channels),
    }
    return customer | ({"timezone": zone} if zone else {})


def local(moment: datetime, customer: Record) -> datetime:
    return moment.astimezone(ZoneInfo(customer.get("timezone") or DEFAULT_TIMEZONE))


def at_night(moment: datetime, customer: Record) -> bool:
    clock = local(moment, customer).time()
    return clock >= EVENING or clock < MORNING


def next_morning(moment: datetime, customer: Record) -> datetime:
    """The first 08:00 on the customer's clock after `moment`: when a text held overnight goes."""
    clock = local(moment, customer)
    morning = datetime.combine(clock.date(), MORNING, tzinfo=clock.tzinfo)
    return (morning if morning > clock else morning + timedelta(days=1)).astimezone(UTC)


def changed_at(change: Record) -> datetime:
    return datetime.fromisoformat(change["at"])


def test_the_stories_time_themselves_by_the_templates_defaults() -> None:
    def default(name: str) -> str:
        return str(PARAMETERS[name]["Default"])

    assert tuple(time.fromisoformat(default(p)) for p in ("QuietHoursStart", "QuietHoursEnd")) == (
        MORNING,
        EVENING,
    )
    assert default("DefaultTimezone") == DEFAULT_TIMEZONE
    assert timedelta(minutes=int(default("CallbackGraceMinutes"))) == GRACE
    assert timedelta(hours=int(default("SlaHoursHigh"))) == SLA_HIGH
    assert timedelta(hours=int(default("FollowUpHours"))) == FOLLOW_UP
    assert timedelta(minutes=int(default("VisitSlipMinutes"))) == SLIP


# ---------------------------------------------------------------------- callbacks


@pytest.mark.parametrize("zone", EAST)
@pytest.mark.parametrize(
    ("name", "earliest", "latest"),
    [("evening_called_early", time(7, 30), time(7, 55)), ("evening_called_late", time(8, 20), time(8, 45))],
)
def test_an_evening_callback_goes_overdue_at_21_and_is_called_back_the_next_morning(
    zone: str, name: str, earliest: time, latest: time
) -> None:
    day, customer, row = a_day(), texted(zone), scenario(CALLBACK_SCENARIOS, name)
    assert row.fits is not None
    assert row.fits(day, customer)

    promised = Callback.from_item(callback(day, 0, row, customer)).promised_at

    # Promised for 20:45 on their clock: the apology is due at 21:00, when a text waits till 08:00
    assert local(promised, customer).time() == time(20, 45)
    assert at_night(promised + GRACE, customer)
    morning = next_morning(promised + GRACE, customer)
    assert day.start < promised
    assert morning <= day.end  # the morning the apology goes is in the day
    for change in day.changes:  # a call after the day's last sweep is not in it
        called = local(changed_at(change), customer)
        assert change["item"]["status"] == "done"
        assert earliest <= called.time() <= latest
        assert called.date() == local(morning, customer).date()
    if name == "evening_called_early":
        assert len(day.changes) == 1  # before 08:00 on their clock: before the apology goes


@pytest.mark.parametrize("zone", AMERICAS)
def test_the_americas_have_no_evening_in_the_day_and_get_their_callbacks_in_working_hours(
    zone: str | None,
) -> None:
    day, customer = a_day(), texted(zone)
    row = scenario(CALLBACK_SCENARIOS, "evening_called_early")
    assert row.fits is not None
    assert not row.fits(day, customer)  # their evening is after the morning the day ends before

    promised = Callback.from_item(callback(day, 0, row, customer)).promised_at

    assert 9 <= local(promised, customer).hour < 19


# ---------------------------------------------------------------------- tickets


@pytest.mark.parametrize("zone", AMERICAS + EAST)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_ticket_breached_at_night_is_solved_before_the_morning(zone: str | None, seed: int) -> None:
    day, customer = a_day(seed), texted(zone)

    opened = Ticket.from_item(
        ticket(day, 0, scenario(TICKET_SCENARIOS, "breached_at_night_solved"), customer)
    )

    # Its SLA breaches at night on the customer's clock, inside the day: the update texted waits
    breach = opened.updated_at + SLA_HIGH
    assert (opened.priority, opened.status) == ("high", "open")
    assert opened.updated_at <= day.start < breach
    assert at_night(breach, customer)
    # ... and an agent solves the ticket before the morning it would go
    [change] = day.changes
    solved = Ticket.from_item(change["item"])
    assert solved.status == "solved"
    assert solved.solved_at == solved.updated_at == changed_at(change)
    assert breach < changed_at(change) < next_morning(breach, customer) <= day.end


@pytest.mark.parametrize("zone", AMERICAS + EAST)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_ticket_followed_up_at_night_is_reopened_before_the_morning(zone: str | None, seed: int) -> None:
    day, customer = a_day(seed), texted(zone)

    item = ticket(day, 0, scenario(TICKET_SCENARIOS, "follow_up_at_night_reopened"), customer)
    solved = Ticket.from_item(item)

    # Solved a day before a night: the follow-up is due then, and texted it waits
    assert solved.status == "solved"
    assert solved.solved_at is not None
    follow_up = solved.solved_at + FOLLOW_UP
    assert solved.updated_at <= day.start < follow_up
    assert at_night(follow_up, customer)
    # ... and the customer writes back: the ticket is open again before the morning
    [change] = day.changes
    reopened = Ticket.from_item(change["item"])
    assert (reopened.status, reopened.solved_at) == ("open", None)
    assert reopened.updated_at == changed_at(change)
    assert follow_up < changed_at(change) < next_morning(follow_up, customer) <= day.end


# ---------------------------------------------------------------------- visits


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", ["sooner_in_the_window", "sooner_still_late"])
def test_a_late_visit_comes_sooner_by_at_least_the_slip(name: str, seed: int) -> None:
    day, customer = a_day(seed), texted("Europe/Berlin")

    booked = Visit.from_item(visit(day, 0, scenario(VISIT_SCENARIOS, name), customer))

    updates = [(changed_at(change), Visit.from_item(change["item"])) for change in day.changes]
    # Late first (past the window's end), then sooner, by VisitSlipMinutes or more
    told_at, told = next((at, v) for at, v in updates if v.eta > booked.window_end)
    sooner_at, sooner = next((at, v) for at, v in updates if at > told_at and v.eta < told.eta)
    assert told.eta - sooner.eta >= SLIP
    assert (sooner.eta <= booked.window_end) is (name == "sooner_in_the_window")
    assert sooner.is_open
    assert sooner_at > told_at + 5 * timedelta(minutes=1)  # the late notice has gone by then
    # ... and the technician arrives at the new ETA, after the better news has gone
    arrived_at = next(at for at, v in updates if v.status == "arrived")
    assert arrived_at == sooner.eta
    assert arrived_at >= sooner_at + timedelta(minutes=10)


# ---------------------------------------------------------------------- bills


def two_bills(plan: str, currency: str, *, add_on: bool) -> tuple[Record, Record]:
    """Last month's and this month's bill (the same), for `plan` and perhaps an add-on."""
    unit = Decimal(1) if currency == "JPY" else Decimal("0.01")
    items = [{"description": "Monthly plan", "amount": Decimal(plan)}]
    if add_on:
        items.append(
            {"description": "Streaming bundle", "amount": (Decimal(plan) * Decimal("0.3")).quantize(unit)}
        )
    subtotal = sum(item["amount"] for item in items)
    taxes = (subtotal * Decimal("0.08")).quantize(unit)
    items.append({"description": "Taxes and fees", "amount": taxes})
    bill = {
        "customer_id": "cust-00001",
        "amount": subtotal + taxes,
        "currency": currency,
        "line_items": items,
    }
    return {**bill, "period": "2026-10"}, {**bill, "period": "2026-11"}


def told_a_story(name: str, customer: Record, plan: str, currency: str, seed: int) -> tuple[Bill, ...]:
    """Last month's bill, this month's as it arrives, this month's corrected, and when."""
    day, row = a_day(seed), scenario(BILL_STORIES, name)
    previous, bill = two_bills(plan, currency, add_on=seed % 2 == 1)
    risen = tell_a_story(day, row, bill, previous, customer)
    [change] = day.changes
    assert change["table"] == "BillsTable"
    return Bill.from_item(previous), Bill.from_item(risen), Bill.from_item(change["item"]), changed_at(change)


HELD = ["held_then_waived", "held_then_cut", "held_then_up"]


@pytest.mark.parametrize("zone", AMERICAS)
@pytest.mark.parametrize("name", HELD)
def test_a_bill_whose_rise_is_texted_at_night_is_corrected_before_the_morning(
    zone: str | None, name: str
) -> None:
    customer = texted(zone)
    arrived = datetime.combine(date(2026, 11, 24), BILLS_ARRIVE, tzinfo=UTC)
    assert at_night(arrived, customer)  # the text about the rise waits
    row = scenario(BILL_STORIES, name)
    assert row.fits is not None
    assert row.fits(a_day(), customer)
    for currency, plans in (("USD", PLANS["USD"]), ("MXN", PLANS["MXN"])):
        for seed, plan in enumerate(plans):
            previous, risen, corrected, at = told_a_story(name, customer, plan, currency, seed)

            # Corrected between 05:00 and the morning the text goes, inside the day
            assert a_day().start < at < next_morning(arrived, customer)
            assert time(5) <= local(at, customer).time() < MORNING
            # The bill as it arrived is a rise worth telling; corrected, none, or a smaller or bigger one
            told = detect_increase(previous, risen, THRESHOLDS)
            assert told is not None
            now = detect_increase(previous, corrected, THRESHOLDS)
            if name == "held_then_waived":
                assert now is None
                assert corrected.amount == previous.amount
            else:
                assert now is not None
                assert (now.new_amount > told.new_amount) is (name == "held_then_up")
                assert now.new_amount != told.new_amount


@pytest.mark.parametrize("zone", EAST[1:])
def test_no_bill_text_waits_overnight_where_the_bills_arrive_by_day(zone: str) -> None:
    for name in HELD:
        row = scenario(BILL_STORIES, name)
        assert row.fits is not None
        assert not row.fits(a_day(), texted(zone))


@pytest.mark.parametrize("name", ["told_then_up", "told_then_down", "same_then_up"])
def test_a_bill_whose_rise_was_emailed_is_corrected_in_working_hours(name: str) -> None:
    row = scenario(BILL_STORIES, name)
    assert row.fits is not None
    assert not row.fits(a_day(), texted("Europe/Berlin"))  # texted first: the story is for email
    for zone in AMERICAS + EAST:
        customer = texted(zone, ("email",))
        assert row.fits(a_day(), customer)
        for currency, plans in PLANS.items():
            for seed, plan in enumerate(plans):
                previous, risen, corrected, at = told_a_story(name, customer, plan, currency, seed)

                assert a_day().start < at < a_day().end
                assert 9 <= local(at, customer).hour < 18
                assert (corrected.amount > risen.amount) is (name != "told_then_down")
                if name == "same_then_up":  # nothing to tell, until the correction makes it a rise
                    assert risen.amount == previous.amount
                    assert detect_increase(previous, corrected, THRESHOLDS) is not None
                else:
                    assert detect_increase(previous, risen, THRESHOLDS) is not None
                    assert corrected.amount != risen.amount


# ---------------------------------------------------------------------- the seeded days


def test_the_first_of_each_story_held_overnight_is_for_a_customer_texted_first() -> None:
    generator = _Generator(random.Random(7), 60, date(2026, 11, 24))
    generator.build()
    held = [row for row in (*CALLBACK_SCENARIOS, *TICKET_SCENARIOS, *BILL_STORIES) if row.texted]
    assert len(held) == 7
    for row in held:
        owners = generator._first_owners(row, generator.customers)
        assert owners
        for owner in owners:
            assert owner["channels"][0] == "sms"
            assert not owner.get("do_not_contact")
            assert not owner["phone"].endswith("99")  # SNS's opted-out numbers in moto
            assert row.fits is None or row.fits(generator, owner)


def sooner_visits(data: dict[str, Any]) -> set[str]:
    """The visits whose ETA came SLIP or more sooner after it was past the window's end."""
    latest: dict[str, Visit] = {}
    sooner = set()
    for change in data["changes"]:
        if change["table"] == "VisitsTable":
            now = Visit.from_item(change["item"])
            before = latest.get(now.visit_id)
            if before and before.eta > before.window_end and before.eta - now.eta >= SLIP and now.is_open:
                sooner.add(now.visit_id)
            latest[now.visit_id] = now
    return sooner


def test_every_busy_day_has_each_story() -> None:
    first, second = busy_days(customers=60, seed=7, days=2)
    zones = {c["customer_id"]: c for c in first["customers"]}
    for data in (first, second):
        evenings = [
            item for item in data["callbacks"]
            if local(Callback.from_item(item).promised_at, zones[item["customer_id"]]).time() == time(20, 45)
        ]  # fmt: skip
        assert len(evenings) >= 2
        tickets_at_night = {
            (change["item"]["status"], change["item"]["ticket_id"])
            for change in data["changes"]
            if change["table"] == "TicketsTable"
            and at_night(changed_at(change), zones[change["item"]["customer_id"]])
        }
        assert {"solved", "open"} <= {status for status, _ in tickets_at_night}
        assert len(sooner_visits(data)) >= 2
    bill_times = [
        local(changed_at(change), zones[change["item"]["customer_id"]]).time()
        for change in first["changes"]
        if change["table"] == "BillsTable"
    ]
    assert sum(clock < MORNING for clock in bill_times) >= 3  # held overnight
    assert sum(time(9) <= clock < time(18) for clock in bill_times) >= 2  # after the customer was told
    assert busy_day(customers=60, seed=7) == first  # the stories are drawn from the seed as well
