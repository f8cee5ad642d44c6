"""sim.population.busy_day and busy_days: seeded busy days that keep the data contract."""

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.bills.models import Bill
from headsup.domain.bills.rules import Thresholds, detect_increase
from headsup.domain.callbacks.models import Callback
from headsup.domain.channels import normalised_e164
from headsup.domain.contract import ContractRecord
from headsup.domain.customer import customer_from_item
from headsup.domain.tickets.models import Ticket
from headsup.domain.visits.models import Visit

from sim.population import _Generator, busy_day, busy_days
from sim.population.callbacks import CALLBACK_SCENARIOS, EVENING_PROMISE
from sim.population.tickets import TICKET_SCENARIOS
from sim.population.visits import VISIT_SCENARIOS

# The module-scoped busy days are built once: the module's tests stay on one xdist worker.
pytestmark = pytest.mark.xdist_group("population")

MODEL_OF: dict[str, type[ContractRecord]] = {
    "BillsTable": Bill,
    "CallbacksTable": Callback,
    "TicketsTable": Ticket,
    "VisitsTable": Visit,
}
CUSTOMER_ATTRIBUTES = {
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "locale",
    "timezone",
    "channels",
    "do_not_contact",
}
PREFERENCE_ATTRIBUTES = {
    "customer_id",
    "opted_out_topics",
    "opted_out_channels",
    "suppressed_email",
    "suppressed_reason",
    "updated_at",
    "last_change",
}


ID_FIELDS = {"callbacks": "callback_id", "tickets": "ticket_id", "visits": "visit_id"}
# One record of each scenario: callbacks, tickets, visits
SCENARIO_COUNTS = (len(CALLBACK_SCENARIOS), len(TICKET_SCENARIOS), len(VISIT_SCENARIOS))


@pytest.fixture(scope="module")
def day() -> dict[str, Any]:
    return busy_day()


@pytest.fixture(scope="module")
def days() -> list[dict[str, Any]]:
    return busy_days(days=4)


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    first = busy_day(customers=60, seed=11)
    random.seed(0)  # the module's own generator: global random state has no say
    assert busy_day(customers=60, seed=11) == first
    assert busy_day(customers=60, seed=12) != first
    assert busy_day(customers=60, seed=11, day=date(2026, 12, 1)) != first


def test_a_day_has_the_shape_of_the_sample_data(day: dict[str, Any]) -> None:
    assert set(day) == {
        "customers",
        "preferences",
        "bills",
        "corrections",
        "day",
        "callbacks",
        "tickets",
        "visits",
        "changes",
    }
    assert day["day"] == {"start": "2026-11-24T08:00:00Z", "end": "2026-11-25T08:00:00Z"}
    for bill in day["bills"]:
        assert isinstance(bill["amount"], Decimal)
        assert all(isinstance(item["amount"], Decimal) for item in bill.get("line_items", []))


def test_counts_for_300_customers(day: dict[str, Any]) -> None:
    customers = day["customers"]
    assert len(customers) == 300
    assert len({c["customer_id"] for c in customers}) == 300
    assert (len(day["callbacks"]), len(day["tickets"]), len(day["visits"])) == (60, 75, 45)
    billed = {bill["customer_id"] for bill in day["bills"]}
    assert 0.85 * 300 <= len(billed) < 300
    assert day["corrections"]
    assert len(day["changes"]) > len(day["callbacks"]) + len(day["visits"])


def test_customers_are_spread_over_zones_locales_and_channels(day: dict[str, Any]) -> None:
    customers = day["customers"]
    zones = Counter(c.get("timezone") for c in customers)
    assert {
        "America/Los_Angeles",
        "America/New_York",
        "Europe/Berlin",
        "Europe/Madrid",
        "Asia/Tokyo",
        "Australia/Sydney",
    } <= set(zones)
    assert None in zones  # some take the template's default zone and locale
    assert {"en-US", "en-GB", "de-DE", "es-ES", "es-MX"} <= {c.get("locale") for c in customers}
    channels = Counter(tuple(c["channels"]) if "channels" in c else None for c in customers)
    assert {("email",), ("sms",), ("email", "sms"), ("sms", "email"), None} <= set(channels)
    assert any("email" in c and "phone" not in c for c in customers)
    assert any("phone" in c and "email" not in c for c in customers)
    assert 1 <= sum(c.get("phone", "").endswith("99") for c in customers) <= 20  # SNS opted out in moto
    assert 1 <= sum(bool(c.get("do_not_contact")) for c in customers) <= 20
    preferences = day["preferences"]
    assert any(p.get("opted_out_topics") for p in preferences)
    assert any(p.get("opted_out_channels") for p in preferences)
    assert {p["customer_id"] for p in preferences} <= {c["customer_id"] for c in customers}


def test_about_a_third_of_this_months_bills_went_up_enough_to_tell(day: dict[str, Any]) -> None:
    bills: dict[str, dict[str, Bill]] = {}
    for item in day["bills"]:
        bill = Bill.from_item(item)
        bills.setdefault(bill.customer_id, {})[bill.period] = bill
    thresholds = Thresholds(percent=Decimal(10), minimum=Decimal("5.00"))
    outcomes: Counter[str] = Counter()
    for periods in bills.values():
        if "2026-10" not in periods or "2026-11" not in periods:
            outcomes["no baseline"] += 1
            continue
        previous, current = periods["2026-10"], periods["2026-11"]
        if detect_increase(previous, current, thresholds):
            outcomes["notice"] += 1
            assert current.line_items != previous.line_items  # the increase shows in the items
        elif current.amount > previous.amount:
            outcomes["small increase"] += 1
        elif current.amount == previous.amount:
            outcomes["equal"] += 1
        else:
            outcomes["decrease"] += 1
    with_baseline = sum(outcomes.values()) - outcomes["no baseline"]
    assert 0.22 <= outcomes["notice"] / with_baseline <= 0.38, outcomes
    assert (
        min(outcomes["small increase"], outcomes["equal"], outcomes["decrease"], outcomes["no baseline"]) > 0
    )


def test_every_record_keeps_the_data_contract(day: dict[str, Any]) -> None:
    customer_ids = {c["customer_id"] for c in day["customers"]}
    for item in day["customers"]:
        assert set(item) <= CUSTOMER_ATTRIBUTES
        customer = customer_from_item(item, default_locale="en-US", default_timezone="America/New_York")
        assert customer.locale == item.get("locale", "en-US")  # a locale Babel knows: no fallback
        assert customer.timezone == item.get("timezone", "America/New_York")
        assert set(customer.channels) <= {"email", "sms"}
        if customer.phone:
            assert normalised_e164(customer.phone) == customer.phone
    for item in day["bills"] + day["corrections"]:
        assert Bill.from_item(item).customer_id in customer_ids
    for table, key in (
        ("CallbacksTable", "callbacks"),
        ("TicketsTable", "tickets"),
        ("VisitsTable", "visits"),
    ):
        for item in day[key]:
            assert MODEL_OF[table].from_item(item).customer_id in customer_ids  # type: ignore[attr-defined]
    for item in day["preferences"]:
        assert set(item) <= PREFERENCE_ATTRIBUTES
        assert set(item.get("opted_out_topics", ())) <= {"billing", "callbacks", "tickets", "visits"}
        assert set(item.get("opted_out_channels", ())) <= {"email", "sms"}


def test_changes_are_valid_records_at_times_inside_the_day_in_order(day: dict[str, Any]) -> None:
    start = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    times = [datetime.fromisoformat(change["at"]) for change in day["changes"]]
    assert times == sorted(times)
    assert all(start < at < start + timedelta(hours=24) for at in times)
    keys = {
        "BillsTable": ("customer_id", "period"),
        "CallbacksTable": ("callback_id",),
        "TicketsTable": ("ticket_id",),
        "VisitsTable": ("visit_id",),
    }
    initial = {
        table: {tuple(item[key] for key in keys[table]) for item in day[name]}
        for table, name in (
            ("BillsTable", "bills"),
            ("CallbacksTable", "callbacks"),
            ("TicketsTable", "tickets"),
            ("VisitsTable", "visits"),
        )
    }
    for change in day["changes"]:
        record = MODEL_OF[change["table"]].from_item(change["item"])
        assert tuple(change["item"][key] for key in keys[change["table"]]) in initial[change["table"]]
        assert record is not None
    # a bill is corrected during the day only this month, and only once
    corrected = [
        (c["item"]["customer_id"], c["item"]["period"]) for c in day["changes"] if c["table"] == "BillsTable"
    ]
    assert corrected
    assert len(set(corrected)) == len(corrected)
    assert {period for _, period in corrected} == {"2026-11"}
    assert not {customer for customer, _ in corrected} & {bill["customer_id"] for bill in day["corrections"]}


def test_visits_fall_in_the_customers_working_hours(day: dict[str, Any]) -> None:
    zones = {c["customer_id"]: c.get("timezone", "America/New_York") for c in day["customers"]}
    for item in day["visits"]:
        visit = Visit.from_item(item)
        local = visit.window_start.astimezone(ZoneInfo(zones[visit.customer_id]))
        assert 8 <= local.hour < 17


def test_a_tiny_population_still_has_every_scenario() -> None:
    tiny = busy_day(customers=3, seed=1)
    assert len(tiny["customers"]) == 3
    assert (len(tiny["callbacks"]), len(tiny["tickets"]), len(tiny["visits"])) == SCENARIO_COUNTS
    with pytest.raises(ValueError, match="at least one"):
        busy_day(customers=0)


# ---------------------------------------------------------------------- busy_days


def test_the_first_of_busy_days_is_busy_day(day: dict[str, Any], days: list[dict[str, Any]]) -> None:
    assert days[0] == day
    assert busy_days() == [day]
    assert busy_days(customers=60, seed=11, first_day=date(2026, 12, 1), days=2)[0] == busy_day(
        customers=60, seed=11, day=date(2026, 12, 1)
    )
    with pytest.raises(ValueError, match="at least one day"):
        busy_days(days=0)


def test_the_same_arguments_give_the_same_days_and_another_seed_others() -> None:
    first = busy_days(customers=60, seed=11, days=3)
    random.seed(0)  # each day's own generator: global random state has no say
    assert busy_days(customers=60, seed=11, days=3) == first
    other = busy_days(customers=60, seed=12, days=3)
    assert all(mine != theirs for mine, theirs in zip(first, other, strict=True))


def test_a_later_day_is_the_same_however_many_days_are_asked_for(days: list[dict[str, Any]]) -> None:
    assert busy_days(days=2)[1] == days[1]
    assert busy_days(days=3)[1:] == days[1:3]


def test_later_days_follow_one_another_in_24_hour_windows(days: list[dict[str, Any]]) -> None:
    starts = [datetime(2026, 11, 24 + n, 8, 0, tzinfo=UTC) for n in range(4)]
    assert [d["day"] for d in days] == [
        {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{start + timedelta(hours=24):%Y-%m-%dT%H:%M:%SZ}"}
        for start in starts
    ]


def test_later_days_bring_only_new_callbacks_tickets_and_visits(days: list[dict[str, Any]]) -> None:
    customer_ids = {c["customer_id"] for c in days[0]["customers"]}
    seen: dict[str, set[str]] = {name: set() for name in ID_FIELDS}
    for number, later in enumerate(days, start=1):
        for name, field in ID_FIELDS.items():
            ids = [item[field] for item in later[name]]
            assert len(set(ids)) == len(ids)
            assert not seen[name] & set(ids)  # no day's ids are another's
            seen[name] |= set(ids)
            if number > 1:
                assert all(f"-d{number}-" in item_id for item_id in ids)
            assert {item["customer_id"] for item in later[name]} <= customer_ids  # the same customers
        if number > 1:
            # stored already, or monthly: they came on the first day
            assert later["customers"] == later["preferences"] == later["bills"] == later["corrections"] == []
    assert "cb-00001" in seen["callbacks"]  # the first day's ids are as they were


def test_later_days_are_for_the_first_days_customers(days: list[dict[str, Any]]) -> None:
    # Drawn again from the seed as the first day draws them: the same people, the same reachable
    # ones (the owners of each scenario's first occurrence)
    for customers, seed in ((300, 7), (3, 1)):
        generator = _Generator(random.Random(seed), customers, date(2026, 11, 24))
        generator.later_day(2, random.Random(f"{seed}/day2"))
        replayed = [{k: v for k, v in c.items() if k != "currency"} for c in generator.customers]
        assert replayed == busy_day(customers=customers, seed=seed)["customers"]


def test_every_scenario_occurs_on_every_day(days: list[dict[str, Any]]) -> None:
    for later in days:
        assert (len(later["callbacks"]), len(later["tickets"]), len(later["visits"])) == (60, 75, 45)
        statuses = {(c["table"], c["item"].get("status")) for c in later["changes"]}
        assert {
            ("CallbacksTable", "done"),
            ("CallbacksTable", "cancelled"),
            ("TicketsTable", "open"),
            ("TicketsTable", "solved"),
            ("VisitsTable", "en_route"),
            ("VisitsTable", "arrived"),
            ("VisitsTable", "done"),
            ("VisitsTable", "cancelled"),
        } <= statuses
        assert any(
            c["table"] == "CallbacksTable" and c["item"]["status"] == "pending" for c in later["changes"]
        )
        assert {t["status"] for t in later["tickets"]} == {"open", "solved", "pending", "closed"}
    for tiny in busy_days(customers=3, seed=1, days=3):
        assert (len(tiny["callbacks"]), len(tiny["tickets"]), len(tiny["visits"])) == SCENARIO_COUNTS


def test_later_days_events_and_changes_fall_inside_their_window(days: list[dict[str, Any]]) -> None:
    for previous, later in itertools.pairwise(days):
        start, end = (datetime.fromisoformat(later["day"][edge]) for edge in ("start", "end"))
        assert start == datetime.fromisoformat(previous["day"]["end"])  # the previous day's last sweep
        times = [datetime.fromisoformat(change["at"]) for change in later["changes"]]
        assert times == sorted(times)
        assert all(start < at < end for at in times)
        ids = {name: {item[field] for item in later[name]} for name, field in ID_FIELDS.items()}
        table_of = {"CallbacksTable": "callbacks", "TicketsTable": "tickets", "VisitsTable": "visits"}
        for change in later["changes"]:
            assert MODEL_OF[change["table"]].from_item(change["item"]) is not None
            name = table_of[change["table"]]
            assert change["item"][ID_FIELDS[name]] in ids[name]  # a change to one of the day's own
        zones = {c["customer_id"]: c.get("timezone", "America/New_York") for c in days[0]["customers"]}
        for item in later["callbacks"]:
            callback = Callback.from_item(item)
            assert start < callback.promised_at < end
            local = callback.promised_at.astimezone(ZoneInfo(zones[callback.customer_id]))
            assert 9 <= local.hour < 19 or local.time() == EVENING_PROMISE  # working hours, or an evening's
        for item in later["visits"]:
            visit = Visit.from_item(item)
            assert start < visit.window_start < visit.window_end < end
            assert 8 <= visit.window_start.astimezone(ZoneInfo(zones[visit.customer_id])).hour < 17
        for item in later["tickets"]:
            assert Ticket.from_item(item).updated_at <= start  # tickets come with their history
