"""Technician visits booked for the day, and what the technicians' app reports during each: the
`VISIT_SCENARIOS`."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sim.population.scenarios import Day, Record, Scenario, Source, utc

TABLE = "VisitsTable"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
SLIP = 15 * MINUTE  # template.yaml's VisitSlipMinutes: an ETA moved less than this is no news
TECHNICIANS = ("Carlos Mendes", "Dana Lee", "Lukas Braun", "Keiko Mori", "Tom Walsh", "Inés Romero")
DELAY_REASONS = (
    "previous job ran over",
    "traffic on the motorway",
    "waiting for a part from the depot",
    "road closed, taking a detour",
    "",  # the app sent no reason
)
ADDRESS_HINTS = ("side gate, the bell is broken", "flat 3B, buzzer on the left", "back door", None, None)

Update = tuple[datetime, dict[str, Any]]  # (when, the fields the app changes then)
# (day, window start, window end) -> the app's updates to the visit, in the order it sends them
type VisitPlay = Callable[[Day, datetime, datetime], list[Update]]


def _arrives(eta: datetime) -> list[Update]:
    """At `eta`, and done an hour later."""
    return [(eta, {"status": "arrived"}), (eta + HOUR, {"status": "done"})]


def _on_time(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    eta = window_start + 5 * MINUTE * day.rng.randint(0, 12)
    arrived = max(eta, window_start - 5 * MINUTE)
    return [
        (window_start - 20 * MINUTE, {"status": "en_route", "eta": eta}),
        (arrived, {"status": "arrived"}),
        (arrived + 5 * MINUTE * day.rng.randint(9, 24), {"status": "done"}),
    ]


def _running_late(day: Day, window_start: datetime, window_end: datetime) -> tuple[list[Update], datetime]:
    """On the way a quarter hour into the window, then an ETA past its end, with the reason the
    app gave (if any); and that ETA."""
    eta = window_end + 5 * MINUTE * day.rng.randint(4, 9)
    reason = day.rng.choice(DELAY_REASONS)
    slip: dict[str, Any] = {"eta": eta} | ({"delay_reason": reason} if reason else {})
    on_the_way = {"status": "en_route", "eta": window_start + 60 * MINUTE}
    return [(window_start + 15 * MINUTE, on_the_way), (window_end - 30 * MINUTE, slip)], eta


def _late(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    """Late, then a small further slip: not worth another message."""
    updates, eta = _running_late(day, window_start, window_end)
    eta += 5 * MINUTE
    return [*updates, (window_end - 10 * MINUTE, {"eta": eta}), *_arrives(eta)]


def _late_twice(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    """Late, then slips again by at least VisitSlipMinutes: the customer is told again."""
    updates, eta = _running_late(day, window_start, window_end)
    eta += 5 * MINUTE * day.rng.randint(4, 6)
    slip = {"eta": eta, "delay_reason": "the first job took longer"}
    return [*updates, (window_end + 5 * MINUTE, slip), *_arrives(eta)]


def _sooner_in_the_window(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    """Late (the customer is told), then the first job ends early: ten minutes later the app's
    ETA is back inside the window, SLIP or more before the one told. The better news, once."""
    updates, _told = _running_late(day, window_start, window_end)
    sooner = window_end - 5 * MINUTE * day.rng.randint(0, 2)
    return [*updates, (window_end - 20 * MINUTE, {"eta": sooner}), *_arrives(sooner)]


def _sooner_still_late(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    """Late (the customer is told), then the ETA moves SLIP or more earlier, still past the window."""
    updates, eta = _running_late(day, window_start, window_end)
    spare = int((eta - SLIP - window_end) / (5 * MINUTE)) - 1  # five-minute steps still past the end
    sooner = eta - SLIP - 5 * MINUTE * day.rng.randint(0, spare)
    return [*updates, (window_end - 20 * MINUTE, {"eta": sooner}), *_arrives(sooner)]


def _no_show(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    """Nothing from the app until after the window: the sweep notices."""
    eta = window_end + 50 * MINUTE
    return [(window_end + 20 * MINUTE, {"status": "en_route", "eta": eta}), *_arrives(eta)]


def _cancelled(day: Day, window_start: datetime, window_end: datetime) -> list[Update]:
    return [(window_start - HOUR * day.rng.randint(1, 3), {"status": "cancelled"})]


VISIT_SCENARIOS: tuple[Scenario[VisitPlay], ...] = (
    Scenario("on_time", 34, _on_time),
    Scenario("late", 20, _late),
    Scenario("late_twice", 10, _late_twice),
    Scenario("no_show", 15, _no_show),
    Scenario("cancelled", 15, _cancelled),
    Scenario("sooner_in_the_window", 3, _sooner_in_the_window),
    Scenario("sooner_still_late", 3, _sooner_still_late),
)


def visit(day: Day, k: int, scenario: Scenario[VisitPlay], customer: Record) -> Record:
    """The day's `k`-th visit, for `customer`, its window in their working hours; `scenario`'s
    updates go to the day, each with the visit as it then stands."""
    rng = day.rng
    window_start = day.local_slot(customer, day.start + 2 * HOUR, day.end - 7 * HOUR, (8, 17))
    window_end = window_start + HOUR * rng.choice([2, 2, 3])
    record: Record = {
        "visit_id": f"v-{day.ids}{k + 1:05d}",
        "customer_id": customer["customer_id"],
        "window_start": utc(window_start),
        "window_end": utc(window_end),
        "eta": utc(window_start + 30 * MINUTE),
        "status": "scheduled",
        "technician_name": rng.choice(TECHNICIANS),
    }
    if hint := rng.choice(ADDRESS_HINTS):
        record["address_hint"] = hint
    current = record
    for at, fields in scenario.play(day, window_start, window_end):
        current = {
            **current,
            **{name: utc(v) if isinstance(v, datetime) else v for name, v in fields.items()},
        }
        day.change(at, TABLE, current)
    return record


VISITS = Source("visits", 0.15, VISIT_SCENARIOS, visit)
