"""Where held notices wait: in DueItemsTable, due at the time they may go, for the sweep to release.

A held notice is kept under its story key (the same bill, the same visit's lateness...), so a newer
notice of the same story held later takes the older one's place: only the newer can go (the older
is then settled in the ledger as superseded, by delivery). A notice without a story is kept under
its own id.
"""

from datetime import datetime
from typing import Protocol

from headsup.adapters.due_items import DynamoDueItems
from headsup.domain.notices import NoticeRequest


class HeldNotices(Protocol):
    def hold(self, request: NoticeRequest, until: datetime) -> NoticeRequest | None:
        """Hold `request` until `until`; return the other notice it replaced, if any."""
        ...


class DueItemsHeldNotices:
    def __init__(self, due_items: DynamoDueItems) -> None:
        self._due_items = due_items

    def hold(self, request: NoticeRequest, until: datetime) -> NoticeRequest | None:
        # Holding the same notice again (a replay) moves the one record.
        replaced = self._due_items.track(
            "held", request.story_key or request.notice_id, until, {"request": request.model_dump_json()}
        )
        if "request" not in replaced:
            return None
        older = NoticeRequest.model_validate_json(replaced["request"])
        return None if older.notice_id == request.notice_id else older
