"""Count the AWS API calls the functions make, and time their invocations (shared by the benchmarks).

`counting_calls()` subscribes to the emulator's call hook (`emulator.calls`), which sits on
botocore's single entry point for API calls, so no client can slip past the count; each call
comes attributed to the function whose invocation made it, and each invocation is counted and
timed. Calls made outside an invocation (the benchmark putting data, the emulated event sources
polling streams and queues, as Lambda's own pollers would) are not counted.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from emulator.calls import ApiCall, Proceed, subscribed


@dataclass
class CallLog:
    # (function logical id, service, operation) -> calls
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    # function logical id -> wall seconds per invocation, in process (moto's work included)
    durations: dict[str, list[float]] = field(default_factory=dict)
    # An observer's own failures: kept here, never raised into the function it watches.
    observer_errors: list[str] = field(default_factory=list)

    def by_operation(self) -> Counter[tuple[str, str]]:
        """(function, "service.Operation") -> calls, as bench.notice_cost prints them."""
        merged: Counter[tuple[str, str]] = Counter()
        for (function, service, operation), n in self.calls.items():
            merged[(function, f"{service}.{operation}")] += n
        return merged

    def total(self) -> int:
        return sum(self.calls.values())


# Sees each counted call's function, service, operation, parameters and response (for a call AWS
# refused, the error response: a failed conditional write is still billed).
Observer = Callable[[str, str, str, dict[str, Any], Any], None]


@contextmanager
def counting_calls(observer: Observer | None = None) -> Iterator[CallLog]:
    """Count (and with `observer`, inspect) the AWS calls made inside function invocations."""
    log = CallLog()

    def count(call: ApiCall, proceed: Proceed) -> Any:
        log.calls[(call.function, call.service, call.operation)] += 1
        try:
            response = proceed()
        except ClientError as error:
            observe(call, error.response)
            raise
        observe(call, response)
        return response

    def observe(call: ApiCall, response: Any) -> None:
        if observer is None:
            return
        try:
            observer(call.function, call.service, call.operation, call.params, response)
        except Exception as exc:  # noqa: BLE001 - the function must not see the benchmark's failure
            log.observer_errors.append(f"{call.function} {call.service}.{call.operation}: {exc!r}")

    def time_invocation(function_logical_id: str, proceed: Proceed) -> Any:
        started = time.perf_counter()
        try:
            return proceed()
        finally:
            log.durations.setdefault(function_logical_id, []).append(time.perf_counter() - started)
            log.invocations[function_logical_id] += 1

    with subscribed(calls=count, invocations=time_invocation):
        yield log
