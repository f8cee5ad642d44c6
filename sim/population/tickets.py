"""Support tickets as they stand when the day starts, and what the agents do with them during it:
the `TICKET_SCENARIOS`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.population.scenarios import (
    Day,
    Record,
    Scenario,
    Source,
    morning_after,
    night_before,
    quarter_between,
    utc,
)

TABLE = "TicketsTable"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
SLA_HIGH = timedelta(hours=24)  # template.yaml's SlaHoursHigh
FOLLOW_UP = timedelta(hours=24)  # template.yaml's FollowUpHours
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


# (day, the ticket's customer) -> the ticket as it stands when the day starts, and what the agents do
type TicketPlay = Callable[[Day, Record], Opened]


def _before(day: Day, low: int, high: int) -> datetime:
    """A quarter hour `low` to `high` hours before the day starts."""
    return day.start - 15 * MINUTE * day.rng.randint(low * 4, high * 4)


def _urgent_breach(day: Day, customer: Record) -> Opened:
    """Warned, breached, then answered and solved."""
    updated = _before(day, 0, 2)
    return Opened(updated, "urgent", later=((HOUR * day.rng.randint(5, 6), "open"), (8 * HOUR, "solved")))


def _urgent_saved(day: Day, customer: Record) -> Opened:
    """Warned, answered before the breach."""
    return Opened(
        _before(day, 0, 2), "urgent", later=((3 * HOUR + 30 * MINUTE, "open"), (5 * HOUR, "solved"))
    )


def _high_warned(day: Day, customer: Record) -> Opened:
    """Warned in the day, answered before the breach."""
    return Opened(_before(day, 10, 16), "high", later=((22 * HOUR, "open"),))


def _follow_up(day: Day, customer: Record) -> Opened:
    """Solved yesterday: asked today whether all is well."""
    updated = _before(day, 1, 22)
    return Opened(updated, day.rng.choice(["high", "normal", "low"]), "solved", solved=True)


def _solved_today(day: Day, customer: Record) -> Opened:
    updated = _before(day, 4, 30)
    return Opened(updated, later=((day.start - updated + 15 * MINUTE * day.rng.randint(4, 48), "solved"),))


def _quiet(day: Day, customer: Record) -> Opened:
    """Inside its SLA all day."""
    priority = day.rng.choice(["normal", "low"])  # drawn before the update time, as it always was
    return Opened(_before(day, 0, 20), priority)


def _at_night(day: Day, customer: Record, before_morning: timedelta) -> tuple[datetime, datetime]:
    """A quarter hour in the customer's night (from 21:00, or the day's start, to 08:00) that is
    `before_morning` or more before their first morning in the day; and that morning."""
    morning = morning_after(customer, day.start)
    earliest = max(night_before(customer, morning), day.start + 15 * MINUTE)
    return quarter_between(day.rng, earliest, morning - before_morning), morning


def _breached_at_night_solved(day: Day, customer: Record) -> Opened:
    """High priority, its SLA breached at night: the update texted to the customer waits for 08:00,
    and an agent solves the ticket before then (so it must not go)."""
    breach, morning = _at_night(day, customer, 2 * HOUR)
    updated = breach - SLA_HIGH
    solved = quarter_between(day.rng, breach + 30 * MINUTE, morning - 15 * MINUTE)
    return Opened(updated, "high", later=((solved - updated, "solved"),))


def _follow_up_at_night_reopened(day: Day, customer: Record) -> Opened:
    """Solved a day before a night: the follow-up texted then waits for 08:00, and the customer
    writes back (the ticket is open again) before it goes."""
    follow_up, morning = _at_night(day, customer, HOUR)
    solved = follow_up - FOLLOW_UP
    reopened = quarter_between(day.rng, follow_up + 30 * MINUTE, morning - 15 * MINUTE)
    priority = day.rng.choice(["high", "normal"])
    return Opened(solved, priority, "solved", later=((reopened - solved, "open"),), solved=True)


TICKET_SCENARIOS: tuple[Scenario[TicketPlay], ...] = (
    Scenario("urgent_breach", 6, _urgent_breach),
    Scenario("urgent_saved", 6, _urgent_saved),
    Scenario("high_breach", 8, lambda day, customer: Opened(_before(day, 20, 23), "high")),
    Scenario("high_warned", 8, _high_warned),
    Scenario("normal_stale", 10, lambda day, customer: Opened(_before(day, 60, 70))),
    Scenario("low_stale", 6, lambda day, customer: Opened(_before(day, 150, 165), "low")),
    Scenario("follow_up", 10, _follow_up),
    Scenario("solved_today", 10, _solved_today),
    Scenario("quiet", 14, _quiet),
    Scenario("breached_at_night_solved", 3, _breached_at_night_solved, texted=True),
    Scenario("follow_up_at_night_reopened", 3, _follow_up_at_night_reopened, texted=True),
    Scenario(
        "pending", 8, lambda day, customer: Opened(_before(day, 30, 60), "high", "pending")
    ),  # on the customer: no clock
    Scenario("closed", 8, lambda day, customer: Opened(_before(day, 30, 200), status="closed")),
)


def ticket(day: Day, k: int, scenario: Scenario[TicketPlay], customer: Record) -> Record:
    """The day's `k`-th ticket, for `customer`, with the history `scenario` gives it; the agents'
    updates during the day go to the day."""
    rng = day.rng
    opened = scenario.play(day, customer)
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
        else:
            current.pop("solved_at", None)  # reopened
        day.change(at, TABLE, current)
    return record


TICKETS = Source("tickets", 0.25, TICKET_SCENARIOS, ticket)
