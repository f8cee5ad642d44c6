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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headsup.platform.settings import EnvSettings

_cached: list[Callable[[], object]] = []


def once[T](build: Callable[[], T]) -> Callable[[], T]:
    cached = cache(build)
    _cached.append(cached)
    return cached


def once_from[S: "EnvSettings", T](settings: type[S]) -> Callable[[Callable[[S], T]], Callable[[], T]]:
    """`once`, for a builder that takes the function's settings: read from the environment and
    validated at the same first use (a deployment error then fails the first call, not the import).
    It needs the settings class, and so pydantic, at import: a handler reads its settings inside
    its builder instead (see headsup.handlers)."""

    def decorate(build: Callable[[S], T]) -> Callable[[], T]:
        return once(lambda: build(settings.from_env()))

    return decorate


def reset() -> None:
    for cached in _cached:
        cached.cache_clear()  # type: ignore[attr-defined]
