"""Count the AWS API calls the functions make, and time their invocations (shared by the benchmarks).

`counting_calls()` subscribes to the emulator's call hook (`emulator.calls`), which sits on
botocore's single entry point for API calls, so no client can slip past the count; each call
comes attributed to the function whose invocation made it, and each invocation is counted and
timed, with what it called and, given the stream the functions write to, how many bytes it wrote.
Calls made outside an invocation (the benchmark putting data, the emulated event sources polling
streams and queues, as Lambda's own pollers would) are not counted.
"""

import io
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from botocore.exceptions import ClientError

from emulator.calls import ApiCall, Proceed, subscribed


class OutputBytes(io.StringIO):
    """A stream for the functions' output (`sim.pipeline.lambda_output_to`) that keeps only how
    many bytes were written to it, as CloudWatch Logs would bill them."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def write(self, text: str) -> int:
        self.total += len(text.encode())
        return len(text)


@dataclass
class Invocation:
    """One invocation: its function, wall seconds, calls (by `call_label`) and output bytes."""

    function: str
    seconds: float
    calls: Counter[str] = field(default_factory=Counter)
    output_bytes: int = 0


@dataclass
class CallLog:
    # (function logical id, service, operation) -> calls
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    # function logical id -> wall seconds per invocation, in process (moto's work included)
    durations: dict[str, list[float]] = field(default_factory=dict)
    # Every invocation, in order, with what it called: what tells fixed work from the rest.
    runs: list[Invocation] = field(default_factory=list)
    # An observer's own failures: kept here, never raised into the function it watches.
    observer_errors: list[str] = field(default_factory=list)

    def by_operation(self) -> Counter[tuple[str, str]]:
        """(function, "service.Operation") -> calls, as bench.notice_cost prints them."""
        merged: Counter[tuple[str, str]] = Counter()
        for (function, service, operation), n in self.calls.items():
            merged[(function, f"{service}.{operation}")] += n
        return merged

    def by_label(self) -> Counter[tuple[str, str]]:
        """(function, `call_label`) -> calls, over every invocation."""
        merged: Counter[tuple[str, str]] = Counter()
        for run in self.runs:
            for label, n in run.calls.items():
                merged[(run.function, label)] += n
        return merged

    def total(self) -> int:
        return sum(self.calls.values())


def call_label(service: str, operation: str, params: dict[str, Any]) -> str:
    """`service.Operation`, with the index a DynamoDB call reads, "(next page)" for a page after the
    first, and "SMS" for a publish to a phone number: `dynamodb.Query DueIndex`, `sns.Publish SMS`."""
    label = f"{service}.{operation}"
    if service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
        label += " SMS"  # billed as the message itself, not as an SNS request
    if params.get("IndexName"):
        label += f" {params['IndexName']}"
    if params.get("ExclusiveStartKey"):
        label += " (next page)"
    return label


# Sees each counted call's function, service, operation, parameters and response (for a call AWS
# refused, the error response: a failed conditional write is still billed).
Observer = Callable[[str, str, str, dict[str, Any], Any], None]


@runtime_checkable
class Watcher(Protocol):
    """An observer that also looks before each call is made (at the state the call will change):
    what `before` returns is handed to `after` with the call's response."""

    def before(self, function: str, service: str, operation: str, params: dict[str, Any]) -> Any: ...

    def after(  # noqa: PLR0913 - the call, its response and what `before` saw
        self, function: str, service: str, operation: str, params: dict[str, Any], response: Any, seen: Any
    ) -> None: ...


@contextmanager
def counting_calls(
    observer: Observer | Watcher | None = None, *, output: OutputBytes | None = None
) -> Iterator[CallLog]:
    """Count (and with `observer`, inspect) the AWS calls made inside function invocations.

    With `output` (the stream the functions write to), each invocation's `output_bytes` is what it
    wrote there. An observer's exception is kept in `observer_errors`, never raised into the call.
    """
    log = CallLog()
    current: list[Invocation] = []  # the invocations under way, innermost last
    observing = _Observing(observer, log)

    counted = threading.Lock()  # the sweep's workers call from threads: no count may be lost

    def count(call: ApiCall, proceed: Proceed) -> Any:
        with counted:
            log.calls[(call.function, call.service, call.operation)] += 1
            if current:
                current[-1].calls[call_label(call.service, call.operation, call.params)] += 1
        seen = observing.before(call)
        try:
            response = proceed()
        except ClientError as error:
            observing.after(call, error.response, seen)
            raise
        observing.after(call, response, seen)
        return response

    def time_invocation(function_logical_id: str, proceed: Proceed) -> Any:
        run = Invocation(function_logical_id, 0.0)
        current.append(run)
        written = output.total if output is not None else 0
        started = time.perf_counter()
        try:
            return proceed()
        finally:
            run.seconds = time.perf_counter() - started
            run.output_bytes = (output.total if output is not None else 0) - written
            current.pop()
            log.runs.append(run)
            log.durations.setdefault(function_logical_id, []).append(run.seconds)
            log.invocations[function_logical_id] += 1

    with subscribed(calls=count, invocations=time_invocation):
        yield log


class _Observing:
    """Hands each call to the observer; what the observer raises goes to the log, not to the call."""

    def __init__(self, observer: Observer | Watcher | None, log: CallLog) -> None:
        self._watcher = observer if isinstance(observer, Watcher) else None
        self._plain = observer if self._watcher is None and callable(observer) else None
        self._log = log

    def before(self, call: ApiCall) -> Any:
        watcher = self._watcher
        if watcher is None:
            return None
        return self._guarded(call, "before", lambda: watcher.before(*_described(call)))

    def after(self, call: ApiCall, response: Any, seen: Any) -> None:
        watcher, plain = self._watcher, self._plain
        if watcher is not None:
            self._guarded(call, "after", lambda: watcher.after(*_described(call), response, seen))
        elif plain is not None:
            self._guarded(call, "observe", lambda: plain(*_described(call), response))

    def _guarded(self, call: ApiCall, step: str, look: Callable[[], Any]) -> Any:
        try:
            return look()
        except Exception as exc:  # noqa: BLE001 - the function must not see the benchmark's failure
            self._log.observer_errors.append(
                f"{call.function} {call.service}.{call.operation} {step}: {exc!r}"
            )
            return None


def _described(call: ApiCall) -> tuple[str, str, str, dict[str, Any]]:
    return call.function, call.service, call.operation, call.params
