"""Build a handler's dependencies once per execution environment, on first use.

Reading settings and creating clients lazily (not at import) lets tests import handlers freely
and start moto before anything talks to AWS; `reset()` gives each test a fresh cold start.

A builder also imports what it builds (the function's settings, adapters and logic, and with
them pydantic, the rules, the templates): a handler module loads only its entry point, so each
function pays at import for no more than the AWS SDK and Powertools (bench/cold_start.py), and
at its first invocation for its own path only.
"""

from collections.abc import Callable
from functools import cache

_cached: list[Callable[[], object]] = []


def once[T](build: Callable[[], T]) -> Callable[[], T]:
    cached = cache(build)
    _cached.append(cached)
    return cached


def reset() -> None:
    for cached in _cached:
        cached.cache_clear()  # type: ignore[attr-defined]
