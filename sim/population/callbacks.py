"""Callbacks the business promised for the day, and what became of each: the `CALLBACK_SCENARIOS`."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sim.population.scenarios import Day, Record, Scenario, Source

TABLE = "CallbacksTable"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
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


CALLBACK_SCENARIOS: tuple[Scenario[CallbackPlay], ...] = (
    Scenario("kept", 45, _settled("done", (-45, 10))),  # called back before the grace period ends
    Scenario("late_then_done", 15, _settled("done", (25, 50))),  # after the apology, before the new deadline
    # past the new deadline too; someone calls at last, hours later (if still in the day)
    Scenario("missed", 20, _settled("done", (2, 4), HOUR)),
    Scenario("cancelled", 10, _settled("cancelled", (20, 120), before=True)),
    Scenario("moved", 10, _moved),
)


def callback(day: Day, k: int, scenario: Scenario[CallbackPlay], customer: Record) -> Record:
    """The day's `k`-th callback, for `customer`, promised in their working hours; `scenario`'s
    changes to it go to the day."""
    rng = day.rng
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
