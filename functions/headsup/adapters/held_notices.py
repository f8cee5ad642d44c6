"""Where held notices wait: in DueItemsTable, due at the time they may go, for the sweep to release."""

from datetime import datetime
from typing import Protocol

from headsup.adapters.due_items import DynamoDueItems
from headsup.domain.notices import NoticeRequest


class HeldNotices(Protocol):
    def hold(self, request: NoticeRequest, until: datetime) -> None: ...


class DueItemsHeldNotices:
    def __init__(self, due_items: DynamoDueItems) -> None:
        self._due_items = due_items

    def hold(self, request: NoticeRequest, until: datetime) -> None:
        # Keyed by notice id: holding the same notice again (a replay) moves the one record.
        self._due_items.track("held", request.notice_id, until, {"request": request.model_dump_json()})
