"""Build a handler's dependencies once per execution environment, on first use.

Reading settings and creating clients lazily (not at import) lets tests import handlers freely
and start moto before anything talks to AWS; `reset()` gives each test a fresh cold start.
"""

from collections.abc import Callable
from functools import cache

from headsup.platform.settings import EnvSettings

_cached: list[Callable[[], object]] = []


def once[T](build: Callable[[], T]) -> Callable[[], T]:
    cached = cache(build)
    _cached.append(cached)
    return cached


def once_from[S: EnvSettings, T](settings: type[S]) -> Callable[[Callable[[S], T]], Callable[[], T]]:
    """`once`, for a builder that takes the function's settings: read from the environment and
    validated at the same first use (a deployment error then fails the first call, not the import)."""

    def decorate(build: Callable[[S], T]) -> Callable[[], T]:
        return once(lambda: build(settings.from_env()))

    return decorate


def reset() -> None:
    for cached in _cached:
        cached.cache_clear()  # type: ignore[attr-defined]
