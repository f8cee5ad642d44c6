"""Provision once, start every test from the same freshly provisioned state.

Provisioning template.yaml into moto takes most of a second (tables with streams and indexes, queues,
topics, secrets, the HTTP API, SES identities); a hundred stack tests paid it each. A `MotoSnapshot`
copies moto's in-memory state right after provisioning, and `restore` puts that copy back: the
resources exist with the same names and ARNs, and hold no data, no stream records, no sent mail.

It copies moto's backends (`BackendDict._instances`: every service moto has state for) in one deep
copy, so references between them (a stream to its table) stay consistent, while the BackendDicts
themselves, which moto's modules hold as globals, are kept as they are and refilled in place.
"""

import copy
import copyreg
import threading
from typing import Any

from moto.core.base_backend import BackendDict

# moto's SQS queues hold locks and conditions, which deepcopy cannot copy: a copy gets new, unlocked
# ones (a Condition is rebuilt whole: it keeps its lock's bound methods, which would still point at
# the original lock).
copyreg.pickle(type(threading.RLock()), lambda _lock: (threading.RLock, ()))
copyreg.pickle(type(threading.Lock()), lambda _lock: (threading.Lock, ()))
copyreg.pickle(threading.Condition, lambda _condition: (threading.Condition, ()))


def _live_backends() -> list[BackendDict[Any]]:
    return list(BackendDict._instances)


def _copy(state: dict[int, dict[str, Any]], backends: list[BackendDict[Any]]) -> dict[int, dict[str, Any]]:
    # The BackendDicts map to themselves, so a backend that refers to another service's BackendDict
    # goes on referring to the live one rather than to a detached copy of it.
    memo: dict[int, Any] = {id(backend): backend for backend in backends}
    return copy.deepcopy(state, memo)


class MotoSnapshot:
    """moto's state at one moment, to go back to as often as needed (within this process)."""

    def __init__(self) -> None:
        self._backends = _live_backends()
        self._state = _copy({id(backend): dict(backend) for backend in self._backends}, self._backends)

    def restore(self) -> None:
        """Put moto back as it was when the snapshot was taken; state of other services is dropped."""
        BackendDict.reset()
        state = _copy(self._state, self._backends)
        for backend in self._backends:
            dict.update(backend, state[id(backend)])
            # moto resets, at the end of a mock, only the BackendDicts it lists as in use.
            BackendDict._instances.append(backend)
