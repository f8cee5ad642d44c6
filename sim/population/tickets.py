"""Support tickets as they stand when the day starts, and what the agents do with them during it:
the `TICKET_SCENARIOS`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.population.scenarios import Day, Record, Scenario, Source, utc

TABLE = "TicketsTable"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
TICKET_SUBJECTS = (
    "Router replacement not delivered",
    "Cannot log in to the app",
    "Charged twice for October",
    "Slow speeds since Tuesday",
    "SIM card not activated",
    "Wrong address on the invoice",
    "TV channels missing",
)


@dataclass(frozen=True)
class Opened:
    """A ticket at the start of the day: last `updated`, and the agents' `later` updates, each
    (after `updated`, the new status); a solved ticket (`solved`) was solved at `updated`."""

    updated: datetime
    priority: str = "normal"
    status: str = "open"
    later: tuple[tuple[timedelta, str], ...] = ()
    solved: bool = False


type TicketPlay = Callable[[Day], Opened]


def _before(day: Day, low: int, high: int) -> datetime:
    """A quarter hour `low` to `high` hours before the day starts."""
    return day.start - 15 * MINUTE * day.rng.randint(low * 4, high * 4)


def _urgent_breach(day: Day) -> Opened:
    """Warned, breached, then answered and solved."""
    updated = _before(day, 0, 2)
    return Opened(updated, "urgent", later=((HOUR * day.rng.randint(5, 6), "open"), (8 * HOUR, "solved")))


def _urgent_saved(day: Day) -> Opened:
    """Warned, answered before the breach."""
    return Opened(
        _before(day, 0, 2), "urgent", later=((3 * HOUR + 30 * MINUTE, "open"), (5 * HOUR, "solved"))
    )


def _high_warned(day: Day) -> Opened:
    """Warned in the day, answered before the breach."""
    return Opened(_before(day, 10, 16), "high", later=((22 * HOUR, "open"),))


def _follow_up(day: Day) -> Opened:
    """Solved yesterday: asked today whether all is well."""
    updated = _before(day, 1, 22)
    return Opened(updated, day.rng.choice(["high", "normal", "low"]), "solved", solved=True)


def _solved_today(day: Day) -> Opened:
    updated = _before(day, 4, 30)
    return Opened(updated, later=((day.start - updated + 15 * MINUTE * day.rng.randint(4, 48), "solved"),))


def _quiet(day: Day) -> Opened:
    """Inside its SLA all day."""
    priority = day.rng.choice(["normal", "low"])  # drawn before the update time, as it always was
    return Opened(_before(day, 0, 20), priority)


TICKET_SCENARIOS: tuple[Scenario[TicketPlay], ...] = (
    Scenario("urgent_breach", 6, _urgent_breach),
    Scenario("urgent_saved", 6, _urgent_saved),
    Scenario("high_breach", 8, lambda day: Opened(_before(day, 20, 23), "high")),
    Scenario("high_warned", 8, _high_warned),
    Scenario("normal_stale", 10, lambda day: Opened(_before(day, 60, 70))),
    Scenario("low_stale", 6, lambda day: Opened(_before(day, 150, 165), "low")),
    Scenario("follow_up", 10, _follow_up),
    Scenario("solved_today", 10, _solved_today),
    Scenario("quiet", 20, _quiet),
    Scenario(
        "pending", 8, lambda day: Opened(_before(day, 30, 60), "high", "pending")
    ),  # on the customer: no clock
    Scenario("closed", 8, lambda day: Opened(_before(day, 30, 200), status="closed")),
)


def ticket(day: Day, k: int, scenario: Scenario[TicketPlay], customer: Record) -> Record:
    """The day's `k`-th ticket, for `customer`, with the history `scenario` gives it; the agents'
    updates during the day go to the day."""
    rng = day.rng
    opened = scenario.play(day)
    created = opened.updated - HOUR * rng.randint(1, 72)
    record: Record = {
        "ticket_id": f"t-{day.ids}{k + 1:05d}",
        "customer_id": customer["customer_id"],
        "subject": rng.choice(TICKET_SUBJECTS),
        "status": opened.status,
        "created_at": utc(created),
        "updated_at": utc(opened.updated),
    }
    if opened.priority != "normal" or rng.random() < 0.5:
        record["priority"] = opened.priority
    if opened.solved:
        record["solved_at"] = utc(opened.updated)
    current = record
    for after, status in opened.later:
        at = opened.updated + after
        current = {**current, "status": status, "updated_at": utc(at)}
        if status == "solved":
            current["solved_at"] = utc(at)
        day.change(at, TABLE, current)
    return record


TICKETS = Source("tickets", 0.25, TICKET_SCENARIOS, ticket)
