"""Count the AWS API calls the functions make, and time their invocations (shared by the benchmarks).

`counting_calls()` wraps botocore's single entry point for API calls (`BaseClient._make_api_call`),
so no client can slip past the count; each call is attributed to the function whose invocation
made it (`emulator.invoking`, set by `Deployment.invoke`, which is also wrapped here to
count and time invocations). Calls made outside an invocation (the benchmark putting data,
the emulated event sources polling streams and queues, as Lambda's own pollers would) are not
counted.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from emulator import Deployment, invoking


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
    original_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    original_invoke = Deployment.invoke

    def count(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = invoking.get()
        if function is None:
            return original_call(self, operation_name, api_params)
        service = self.meta.service_model.service_name
        log.calls[(function, service, operation_name)] += 1
        try:
            response = original_call(self, operation_name, api_params)
        except ClientError as error:
            observe(function, service, operation_name, api_params, error.response)
            raise
        observe(function, service, operation_name, api_params, response)
        return response

    def observe(function: str, service: str, operation: str, params: dict[str, Any], response: Any) -> None:
        if observer is None:
            return
        try:
            observer(function, service, operation, params, response)
        except Exception as exc:  # noqa: BLE001 - the function must not see the benchmark's failure
            log.observer_errors.append(f"{function} {service}.{operation}: {exc!r}")

    def invoke(self: Deployment, function_logical_id: str, event: dict[str, Any], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_invoke(self, function_logical_id, event, **kwargs)
        finally:
            log.durations.setdefault(function_logical_id, []).append(time.perf_counter() - started)
            log.invocations[function_logical_id] += 1

    BaseClient._make_api_call = count  # type: ignore[attr-defined]
    Deployment.invoke = invoke  # type: ignore[method-assign]
    try:
        yield log
    finally:
        Deployment.invoke = original_invoke  # type: ignore[method-assign]
        BaseClient._make_api_call = original_call  # type: ignore[attr-defined]
