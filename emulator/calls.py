"""The one hook on the AWS calls the functions make in the local stack, and on their invocations.

Whatever observes or changes those calls (fault injection in emulator.faults, the benchmarks' call
counter in bench.calls) subscribes here rather than patching botocore itself, so two of them can be
active at once and each call is attributed to a function in one place.

Every API call of every botocore client goes through `BaseClient._make_api_call`. While anything is
subscribed, that method is wrapped: a call made inside a function invocation (`Deployment.invoke`
marks it in `invoking`) is handed to the call subscribers as an `ApiCall`; the emulator's own
calls (provisioning, the event sources polling streams and queues, as Lambda's pollers would, the
readers of what providers accepted) go straight through. Invocations go through the invocation
subscribers the same way.

A subscriber gets the call and `proceed`, which makes it (through the subscribers below it) and
returns AWS's answer: it may call `proceed` once, twice or never, raise instead, or look at the
answer. The most recent subscriber is the outermost, as if each had wrapped the method in turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

# The function whose invocation is running, so its AWS calls can be told from the emulator's own.
invoking: ContextVar[str | None] = ContextVar("invoking", default=None)


@dataclass(frozen=True)
class ApiCall:
    function: str  # logical id of the function whose invocation made the call
    service: str  # botocore service name: sesv2, sns, sqs, dynamodb
    operation: str  # API operation: SendEmail, Publish, UpdateItem...
    params: dict[str, Any]
    client: BaseClient


Proceed = Callable[[], Any]
CallSubscriber = Callable[[ApiCall, Proceed], Any]
# Gets the function's logical id and `proceed`, which runs the invocation and returns its response.
InvocationSubscriber = Callable[[str, Proceed], Any]

_call_subscribers: list[CallSubscriber] = []
_invocation_subscribers: list[InvocationSubscriber] = []
_lock = threading.Lock()
# botocore's own method, while the hook is in.
_unhooked: list[Callable[[BaseClient, str, dict[str, Any]], Any]] = []


@contextmanager
def subscribed(
    *, calls: CallSubscriber | None = None, invocations: InvocationSubscriber | None = None
) -> Iterator[None]:
    """Hand the functions' AWS calls to ``calls`` and their invocations to ``invocations`` meanwhile."""
    with _lock:
        if calls is not None:
            _call_subscribers.append(calls)
        if invocations is not None:
            _invocation_subscribers.append(invocations)
        if not _unhooked:
            _unhooked.append(BaseClient._make_api_call)  # type: ignore[attr-defined]
            BaseClient._make_api_call = _hooked  # type: ignore[attr-defined]
    try:
        yield
    finally:
        with _lock:
            if calls is not None:
                _call_subscribers.remove(calls)
            if invocations is not None:
                _invocation_subscribers.remove(invocations)
            if not _call_subscribers and not _invocation_subscribers:
                BaseClient._make_api_call = _unhooked.pop()  # type: ignore[attr-defined]


def _through(subscribers: list[Callable[[Any, Proceed], Any]], subject: Any, last: Proceed) -> Any:
    """Run ``last`` through ``subscribers``, the most recent outermost."""
    proceed = last
    for subscriber in subscribers:
        proceed = _bound(subscriber, subject, proceed)
    return proceed()


def _bound(subscriber: Callable[[Any, Proceed], Any], subject: Any, proceed: Proceed) -> Proceed:
    return lambda: subscriber(subject, proceed)


def _hooked(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    # A call already under way when the hook came out goes to botocore's method, back in place by then.
    make_api_call = _unhooked[0] if _unhooked else BaseClient._make_api_call  # type: ignore[attr-defined]
    function = invoking.get()
    if function is None or not _call_subscribers:
        return make_api_call(client, operation, params)
    call = ApiCall(function, client.meta.service_model.service_name, operation, params, client)
    return _through(list(_call_subscribers), call, lambda: make_api_call(client, operation, params))


def invocation(function_logical_id: str, run: Proceed) -> Any:
    """Run an invocation of the function through the invocation subscribers (``run`` does the work)."""
    if not _invocation_subscribers:
        return run()
    return _through(list(_invocation_subscribers), function_logical_id, run)


@contextmanager
def invoking_function(function_logical_id: str) -> Iterator[None]:
    """Attribute the AWS calls made meanwhile to the function."""
    token = invoking.set(function_logical_id)
    try:
        yield
    finally:
        invoking.reset(token)
