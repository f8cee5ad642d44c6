"""Running busy days through a `LocalPipeline`: the bills at 07:30 UTC, then the day's sweeps with
the business's changes at their times."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import time_machine

from sim.population.bills import BILLS_ARRIVE

if TYPE_CHECKING:
    from sim.pipeline import LocalPipeline

__all__ = ["BILLS_ARRIVE", "simulate_day", "simulate_days"]


def simulate_day(
    pipeline: "LocalPipeline", data: dict[str, Any], on_tick: Callable[[datetime], None] | None = None
) -> list[datetime]:
    """Run a busy day through `pipeline`: customers and their preferences, the bills at 07:30 UTC
    (then the corrections), and the day's sweeps with the business's changes at their times
    (`on_tick(tick)` after each, e.g. to show progress).

    Returns the sweep ticks. Provision the pipeline at or before 07:30 UTC of the day: moto's
    queues keep their own timestamps, so the clock must only move forward. This is a first day;
    `simulate_days` runs the days after it.
    """
    start = datetime.fromisoformat(data["day"]["start"])
    pipeline.put_customers(data["customers"])
    pipeline.put_items("PreferencesTable", data["preferences"])
    bills_at = datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC)
    with time_machine.travel(bills_at, tick=True):
        _put_bills(pipeline, data)
    return _run_day(pipeline, data, start, on_tick)


def simulate_days(
    pipeline: "LocalPipeline",
    days_data: Sequence[dict[str, Any]],
    on_tick: Callable[[datetime], None] | None = None,
) -> list[datetime]:
    """Run `busy_days`' days through `pipeline`, one after the other; returns every sweep tick.

    The first day runs as `simulate_day` runs it. Each later day continues from the previous
    day's last sweep, which is never run again: its sweeps are its schedule's ticks after that
    one, up to its `end` (with `busy_days`' windows, `start` + one interval to `end`). Its
    records (customers, preferences and bills too, if it has any) are put halfway between the
    previous day's last sweep and its own first: after the one, as the clock only moves
    forward, and before the other, so its first sweep sees them as the first day's does.
    """
    ticks: list[datetime] = []
    for data in days_data:
        if ticks:
            ticks += _next_day(pipeline, data, ticks[-1], on_tick)
        else:
            ticks = simulate_day(pipeline, data, on_tick)
    return ticks


def _next_day(
    pipeline: "LocalPipeline",
    data: dict[str, Any],
    previous_sweep: datetime,
    on_tick: Callable[[datetime], None] | None,
) -> list[datetime]:
    """A later day, after `previous_sweep` (see `simulate_days`)."""
    start, end = (datetime.fromisoformat(data["day"][edge]) for edge in ("start", "end"))
    if start < previous_sweep:
        raise ValueError(
            f"the day from {start:%Y-%m-%d %H:%M} starts before the last sweep, {previous_sweep}"
        )
    first = start
    while first <= previous_sweep:
        first += pipeline.sweep.interval()
    if first > end:
        raise ValueError(f"the day from {start:%Y-%m-%d %H:%M} has no sweep after {previous_sweep}")
    with time_machine.travel(previous_sweep + (first - previous_sweep) / 2, tick=True):
        pipeline.put_customers(data["customers"])
        pipeline.put_items("PreferencesTable", data["preferences"])
        if data["bills"] or data["corrections"]:
            _put_bills(pipeline, data)
        return _run_day(pipeline, data, first, on_tick)


def _put_bills(pipeline: "LocalPipeline", data: dict[str, Any]) -> None:
    """The bills, detected and their notices delivered; then the corrections, after the first detection."""
    pipeline.put_bills(data["bills"])
    pipeline.run()
    pipeline.put_bills(data["corrections"])
    pipeline.run()


def _run_day(
    pipeline: "LocalPipeline",
    data: dict[str, Any],
    first_sweep: datetime,
    on_tick: Callable[[datetime], None] | None,
) -> list[datetime]:
    """The day's callbacks, tickets and visits, then its sweeps from `first_sweep` to its end,
    each followed by the business's changes up to its time (a bill's with the bill detector's run)."""
    pipeline.put_callbacks(data["callbacks"])
    pipeline.put_tickets(data["tickets"])
    pipeline.put_visits(data["visits"])
    changes = list(data["changes"])

    def business(tick: datetime) -> None:
        tables = set()
        while changes and datetime.fromisoformat(changes[0]["at"]) <= tick:
            change = changes.pop(0)
            pipeline.put_items(change["table"], [change["item"]])
            tables.add(change["table"])
        if "BillsTable" in tables:
            pipeline.run_detectors()  # a corrected bill: its stream's detector, as Lambda would run it
        if on_tick is not None:
            on_tick(tick)

    ticks = pipeline.run_schedule(first_sweep, datetime.fromisoformat(data["day"]["end"]), on_tick=business)
    if changes:
        raise RuntimeError(f"{len(changes)} change(s) fell after the day's last sweep")
    return ticks
