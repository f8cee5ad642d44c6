"""Callbacks the business promised for the day, and what became of each: the `CALLBACK_SCENARIOS`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sim.population.scenarios import Day, Record, Scenario, Source, local_date, morning_after, on_clock

TABLE = "CallbacksTable"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
GRACE = 15 * MINUTE  # template.yaml's CallbackGraceMinutes: a callback is overdue this long after its time
EVENING_PROMISE = time(20, 45)  # overdue at 21:00, when texts wait for the morning
CALLBACK_TOPICS = (
    "internet drops every evening",
    "question about the last bill",
    "moving my contract to a new address",
    "router lights blinking red",
    "wants to upgrade the plan",
    "refund for the outage last week",
    "porting a number from another provider",
)
TEAMS = ("broadband", "billing", "moves", "mobile", None)
AGENTS = ("Sam", "Priya (Team Lead)", "Marco", "Aiko", None, None)

# (day, the callback as promised, when it was promised for, its customer) -> the business's
# changes to it, as (when, the callback then)
type CallbackPlay = Callable[[Day, Record, datetime, Record], list[tuple[datetime, Record]]]


def _settled(
    status: str, offsets: tuple[int, int], unit: timedelta = MINUTE, *, before: bool = False
) -> CallbackPlay:
    """Set to `status` a random number (`offsets`) of `unit`s after (or `before`) the promised time."""

    def play(
        day: Day, callback: Record, promised: datetime, customer: Record
    ) -> list[tuple[datetime, Record]]:
        offset = unit * day.rng.randint(*offsets)
        return [(promised - offset if before else promised + offset, {**callback, "status": status})]

    return play


def _moved(day: Day, callback: Record, promised: datetime, customer: Record) -> list[tuple[datetime, Record]]:
    """A new promise two hours later, made half an hour before the first; then kept or not."""
    later = promised + 2 * HOUR
    moved = {**callback, "promised_at": day.stamp(later, customer)}
    changes = [(promised - 30 * MINUTE, moved)]
    if day.rng.random() < 0.5:
        changes.append((later + 5 * MINUTE, {**moved, "status": "done"}))
    return changes


def _evening(day: Day, customer: Record) -> datetime | None:
    """20:45 on the customer's clock the evening before their first morning in the day, if that is
    well after the day starts (in Europe, Asia and Australia): the apology for a callback promised
    then is due at 21:00, when a text waits for 08:00."""
    morning = morning_after(customer, day.start)
    promised = on_clock(customer, local_date(customer, morning) - timedelta(days=1), EVENING_PROMISE)
    return promised if promised >= day.start + 40 * MINUTE else None


@dataclass(frozen=True)
class Evening:
    """Promised for the customer's evening (`_evening`) and still pending at 21:00; an agent calls
    back the next morning, between the `call` times on the customer's clock, and marks it done."""

    call: tuple[time, time]

    def __call__(
        self, day: Day, callback: Record, promised: datetime, customer: Record
    ) -> list[tuple[datetime, Record]]:
        morning = local_date(customer, morning_after(customer, promised))
        earliest, latest = (on_clock(customer, morning, at) for at in self.call)
        called = earliest + 5 * MINUTE * day.rng.randint(0, int((latest - earliest) / (5 * MINUTE)))
        return [(called, {**callback, "status": "done"})]


def _has_evening(day: Day, customer: Record) -> bool:
    return _evening(day, customer) is not None


CALLBACK_SCENARIOS: tuple[Scenario[CallbackPlay], ...] = (
    Scenario("kept", 40, _settled("done", (-45, 10))),  # called back before the grace period ends
    Scenario("late_then_done", 15, _settled("done", (25, 50))),  # after the apology, before the new deadline
    # past the new deadline too; someone calls at last, hours later (if still in the day)
    Scenario("missed", 20, _settled("done", (2, 4), HOUR)),
    Scenario("cancelled", 10, _settled("cancelled", (20, 120), before=True)),
    Scenario("moved", 10, _moved),
    # The apology texted at 21:00 waits for 08:00: called back before it goes (so it must not go) ...
    Scenario("evening_called_early", 3, Evening((time(7, 30), time(7, 55))), _has_evening, texted=True),
    # ... or not: it goes at 08:00, with a new "we will call you by" (and the call comes after it)
    Scenario("evening_called_late", 2, Evening((time(8, 20), time(8, 45))), _has_evening, texted=True),
)


def callback(day: Day, k: int, scenario: Scenario[CallbackPlay], customer: Record) -> Record:
    """The day's `k`-th callback, for `customer`, promised in their working hours (or evening, for
    an `Evening` scenario); `scenario`'s changes to it go to the day."""
    rng = day.rng
    promised = _evening(day, customer) if isinstance(scenario.play, Evening) else None
    if promised is None:  # in their working hours (an evening scenario's owner with no evening too)
        promised = day.local_slot(customer, day.start + 40 * MINUTE, day.end - 3 * HOUR, (9, 19))
    record: Record = {
        "callback_id": f"cb-{day.ids}{k + 1:05d}",
        "customer_id": customer["customer_id"],
        "promised_at": day.stamp(promised, customer),
        "status": "pending",
        "topic": rng.choice(CALLBACK_TOPICS),
    }
    if agent := rng.choice(AGENTS):
        record["agent_name"] = agent
    if team := rng.choice(TEAMS):
        record["team"] = team
    for at, item in scenario.play(day, record, promised, customer):
        day.change(at, TABLE, item)
    return record


CALLBACKS = Source("callbacks", 0.2, CALLBACK_SCENARIOS, callback)
