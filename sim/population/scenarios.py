"""What every source's scenario table is made of: a `Scenario` row, a `Source`, and the `Day` its
functions draw from and record changes in.

The seeded data is only the same for the same seed while every draw happens in the same order, so
a scenario's function draws in the order it is written, and the tables are drawn from in the
order they are listed.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

Record = dict[str, Any]
# template.yaml's QuietHoursStart and QuietHoursEnd: outside them a text waits for the morning.
MORNING, EVENING = time(8, 0), time(21, 0)
DEFAULT_TIMEZONE = "America/New_York"  # template.yaml's DefaultTimezone


@dataclass(frozen=True)
class Scenario[Play]:
    """One thing that can happen to a record, `weight` times in the source's total once every
    scenario has had its one guaranteed occurrence; `play` says what happens (its shape is the
    source's: see each source module).

    `fits(day, customer)`: whether the scenario can play out for that customer on that day (a
    story that happens at night on their clock needs a night inside the day); None, anyone.
    `texted`: its guaranteed occurrence is for a customer who gets texts first (one held for
    the morning is the point of it), if there is one it fits."""

    name: str
    weight: int
    play: Play
    fits: "Callable[[Day, Record], bool] | None" = None
    texted: bool = False


class Day(Protocol):
    """The simulated day a record's scenario plays out in."""

    rng: random.Random
    start: datetime
    end: datetime
    ids: str  # between an id's prefix and its number: "" on the first day, "d2-" on the second

    def change(self, at: datetime, table: str, item: Record) -> None:
        """The business writes `item` to `table` at `at`: dropped if that is after the day's last
        sweep, moved to just after its start if before it."""

    def local_slot(
        self, customer: Record, earliest: datetime, latest: datetime, hours: tuple[int, int]
    ) -> datetime:
        """A quarter hour in the customer's `hours`, between `earliest` and `latest` (UTC)."""

    def stamp(self, moment: datetime, customer: Record) -> str:
        """`moment` in UTC or on the customer's clock, as the business happens to write it."""


@dataclass(frozen=True)
class Source:
    """Records the business creates every day: `share` of them per customer (at least one of each
    scenario), each built by `record(day, k, scenario, owner)` for the k-th of the day."""

    name: str  # the day's key: "callbacks", "tickets", "visits"
    share: float
    scenarios: Sequence[Scenario[Any]]
    record: Callable[[Day, int, Scenario[Any], Record], Record]


def by_roll[Play](roll: float, scenarios: Sequence[Scenario[Play]]) -> Scenario[Play]:
    """The scenario a `random()` roll in [0, 1) falls on, the weights being percentages.

    `cumulative / 100` is the float nearest the decimal threshold it stands for (38 / 100 == 0.38),
    so a roll falls exactly where a comparison with that literal would put it.
    """
    cumulative = 0
    for scenario in scenarios:
        cumulative += scenario.weight
        if roll < cumulative / 100:
            return scenario
    return scenarios[-1]


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_of(customer: Record) -> ZoneInfo:
    """The customer's clock, as delivery reads it: their timezone, else the template's default."""
    return ZoneInfo(customer.get("timezone") or DEFAULT_TIMEZONE)


def on_clock(customer: Record, day: date, at: time) -> datetime:
    """`at` on `day` on the customer's clock, in UTC."""
    return datetime.combine(day, at, tzinfo=zone_of(customer)).astimezone(UTC)


def texts_wait(customer: Record, moment: datetime) -> bool:
    """Whether a text to the customer at `moment` waits for the morning (quiet hours)."""
    local = moment.astimezone(zone_of(customer)).time()
    return local >= EVENING or local < MORNING


def local_date(customer: Record, moment: datetime) -> date:
    """The date on the customer's clock at `moment`."""
    return moment.astimezone(zone_of(customer)).date()


def morning_after(customer: Record, moment: datetime) -> datetime:
    """The first 08:00 on the customer's clock after `moment` (UTC): when texts held overnight go."""
    local = local_date(customer, moment)
    return next(
        opening
        for offset in range(3)
        if (opening := on_clock(customer, local + timedelta(days=offset), MORNING)) > moment
    )


def night_before(customer: Record, morning: datetime) -> datetime:
    """21:00 on the customer's clock the evening before `morning` (their 08:00)."""
    return on_clock(customer, local_date(customer, morning) - timedelta(days=1), EVENING)


def quarter_between(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A quarter hour after `earliest` (itself one) at or before `latest`; `earliest` if none."""
    quarters = int((latest - earliest) / timedelta(minutes=15))
    return earliest + timedelta(minutes=15 * rng.randint(0, max(quarters, 0)))
