"""What every source's scenario table is made of: a `Scenario` row, a `Source`, and the `Day` its
functions draw from and record changes in.

The seeded data is only the same for the same seed while every draw happens in the same order, so
a scenario's function draws in the order it is written, and the tables are drawn from in the
order they are listed.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

Record = dict[str, Any]


@dataclass(frozen=True)
class Scenario[Play]:
    """One thing that can happen to a record, `weight` times in the source's total once every
    scenario has had its one guaranteed occurrence; `play` says what happens (its shape is the
    source's: see each source module)."""

    name: str
    weight: int
    play: Play


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
