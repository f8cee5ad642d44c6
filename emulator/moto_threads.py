"""moto answering one call at a time, as the functions' threads may call it at once.

The sweep works its DueIndex shards in threads (logic/sweep.py). AWS serves concurrent calls;
moto's in-memory backends are not made for them (a Query iterating a table while another thread's
DeleteItem removes an item from it). Every call moto answers goes through its botocore stubber:
holding one lock there makes moto's answers atomic, while the functions' own work between calls
still runs in parallel.
"""

import threading
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

_lock = threading.RLock()
_answer = BotocoreStubber.__call__


def _one_at_a_time(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
    with _lock:
        return _answer(self, event_name, request, **kwargs)


def install() -> None:
    """Idempotent: every local run uses it."""
    BotocoreStubber.__call__ = _one_at_a_time  # type: ignore[method-assign]
