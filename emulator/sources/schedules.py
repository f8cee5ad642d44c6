"""EventBridge's part for a function's ``Type: Schedule`` events: build the scheduled event for a tick,
and fire the function at each tick of a ``rate(...)`` schedule."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from emulator.cfn import PARTITION, cfn_string
from emulator.deployment import Deployment, LambdaHandler
from emulator.sources.base import EventSource

_RATE: Final = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_RATE_UNITS: Final = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


def parse_rate(expression: str) -> timedelta:
    """The interval of an EventBridge ``rate(...)`` expression, checked as EventBridge checks it."""
    expression = expression.strip()
    if expression.startswith("cron("):
        raise NotImplementedError(
            f"Schedule {expression!r}: cron expressions are not emulated locally; "
            "use a rate(...) expression, or fire the ScheduleSource at the times you need"
        )
    match = _RATE.fullmatch(expression)
    if match is None:
        raise ValueError(f"Schedule {expression!r} is not rate(N minute(s)|hour(s)|day(s)) or cron(...)")
    count, unit = int(match.group(1)), match.group(2)
    # EventBridge rejects "rate(1 minutes)" and "rate(5 minute)": a template doing so would fail to deploy.
    if count < 1 or (count == 1) != (not unit.endswith("s")):
        raise ValueError(f"Schedule {expression!r}: the unit must be singular for 1 and plural otherwise")
    return count * _RATE_UNITS[unit.removesuffix("s")]


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} is naive: pass an aware datetime (EventBridge schedules run in UTC)")
    return at.astimezone(UTC)


def _is_true(value: Any) -> bool:
    return cfn_string(value).lower() != "false"


class ScheduleSource(EventSource):
    """EventBridge's part for one of a function's ``Type: Schedule`` events: invoke it at each tick.

    The clock is not moved: a handler that is to be driven through time should read ``event["time"]``.
    """

    event_type = "Schedule"

    def __init__(self, deployment: Deployment, function_logical_id: str, event_name: str) -> None:
        super().__init__(deployment, function_logical_id, event_name)
        self.schedule: str = str(self.properties["Schedule"])
        if "InputTransformer" in self.properties:
            raise NotImplementedError(f"{function_logical_id}.{event_name}: InputTransformer is not emulated")

    @property
    def enabled(self) -> bool:
        """Whether EventBridge would fire the rule (SAM's ``Enabled``, or ``State`` which replaces it)."""
        if "State" in self.properties:
            return str(self.properties["State"]) != "DISABLED"
        return _is_true(self.properties.get("Enabled", True))

    @property
    def rule_name(self) -> str:
        name = self.properties.get("Name")
        if name:
            return str(name)
        return f"{self.deployment.stack_name}-{self.function_logical_id}-{self.event_name}"

    @property
    def rule_arn(self) -> str:
        deployment = self.deployment
        return f"arn:{PARTITION}:events:{deployment.region}:{deployment.account_id}:rule/{self.rule_name}"

    def interval(self) -> timedelta:
        return parse_rate(self.schedule)

    def scheduled_event(self, at: datetime) -> dict[str, Any]:
        """The event EventBridge builds for the tick at ``at`` (whole seconds, UTC)."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.deployment.account_id,
            "time": _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.deployment.region,
            "resources": [self.rule_arn],
            "detail": {},
        }

    def event(self, at: datetime) -> Any:
        """What the function receives at ``at``: the scheduled event, or the template's ``Input`` JSON."""
        scheduled = self.scheduled_event(at)  # built either way, so a naive ``at`` is refused either way
        if "Input" not in self.properties:
            return scheduled
        constant = self.properties["Input"]
        if not isinstance(constant, str):
            raise ValueError(f"{self.function_logical_id}.{self.event_name}: Input must be a JSON string")
        # The target's constant input replaces the event entirely: the tick time is not passed on.
        return json.loads(constant)

    def fire(self, at: datetime, *, handler: LambdaHandler | None = None) -> Any:
        """Invoke the function for the tick at ``at`` and return its response (whether or not ``enabled``).

        A handler exception propagates: EventBridge's asynchronous invoke would retry it and then drop it.
        """
        return self.invoke(self.event(at), handler)

    def run_between(
        self,
        start: datetime,
        end: datetime,
        *,
        between_ticks: Callable[[datetime], None] | None = None,
        handler: LambdaHandler | None = None,
    ) -> list[datetime]:
        """Fire at ``start`` and each ``interval()`` after, up to ``end`` (inclusive); return the UTC ticks.

        ``between_ticks(tick)`` runs after each fire: the place to drain queues and deliver streams, so the
        next sweep sees what this one caused.
        """
        # Stepped in UTC: adding hours to a local time with DST moves wall-clock time, not elapsed time.
        tick, last = _utc(start), _utc(end)
        step = self.interval()
        ticks: list[datetime] = []
        while tick <= last:
            self.fire(tick, handler=handler)
            if between_ticks is not None:
                between_ticks(tick)
            ticks.append(tick)
            tick += step
        return ticks


# ------------------------------------------------------------------------------------------- HTTP API
