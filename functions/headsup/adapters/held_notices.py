"""Where held notices wait: in DueItemsTable, due at the time they may go, for the sweep to release.

A held notice is kept under its story key (the same bill, the same visit's lateness...), so a newer
notice of the same story held later takes the older one's place: only the newer can go (the older
is then settled in the ledger as superseded, by delivery). A notice without a story is kept under
its own id.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from headsup.adapters.due_items import DynamoDueItems
from headsup.adapters.dynamodb import ConditionFailed
from headsup.domain.notices import NoticeRequest


@dataclass(frozen=True)
class Superseded:
    """Of two held notices of one story, the older, which may no longer go, and the newer."""

    older: NoticeRequest
    by: NoticeRequest


class HeldNotices(Protocol):
    def hold(self, request: NoticeRequest, until: datetime) -> Superseded | None:
        """Hold `request` until `until`, unless a newer notice of its story is held already;
        say which of the two is superseded, if there were two."""
        ...


class DueItemsHeldNotices:
    def __init__(self, due_items: DynamoDueItems) -> None:
        self._due_items = due_items

    def hold(self, request: NoticeRequest, until: datetime) -> Superseded | None:
        # Holding the same notice again (a replay) moves the one record. Versioned by detection
        # time, so of two notices of a story delivered out of order the newer stays held.
        try:
            replaced = self._due_items.track(
                "held",
                request.story_key or request.notice_id,
                until,
                {"request": request.model_dump_json()},
                version=request.detected_at.astimezone(UTC).isoformat(),
            )
        except ConditionFailed as newer_held:
            held = (newer_held.item or {}).get("request")
            if held is None:
                raise
            return Superseded(older=request, by=NoticeRequest.model_validate_json(held))
        if "request" not in replaced:
            return None
        older = NoticeRequest.model_validate_json(replaced["request"])
        return None if older.notice_id == request.notice_id else Superseded(older=older, by=request)
