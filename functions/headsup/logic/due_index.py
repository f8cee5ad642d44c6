"""Keep DueItemsTable in step with CallbacksTable and TicketsTable, from their streams.

The indexer only says when an item is first worth a look; the sweep decides what is due then.
"""

from datetime import datetime
from typing import Any

from headsup.adapters.due_items import DueItemsIndex, ItemType
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.tickets import rules as ticket_rules
from headsup.domain.tickets.models import Ticket
from headsup.platform.batch import ChangeKind
from headsup.platform.errors import InvalidRecord
from headsup.platform.observability import logger


class DueIndexer:
    def __init__(
        self,
        index: DueItemsIndex,
        callback_policy: callback_rules.CallbackPolicy,
        ticket_policy: ticket_rules.TicketPolicy,
    ) -> None:
        self._index = index
        self._callback_policy = callback_policy
        self._ticket_policy = ticket_policy

    def on_change(
        self,
        change: ChangeKind,
        keys: dict[str, Any],
        new_image: dict[str, Any],
        old_image: dict[str, Any] | None = None,
    ) -> None:
        """Raises InvalidCallback / InvalidTicket for a record that breaks the contract.

        A change that leaves what the indexer writes as it was (when the item is first due, and
        the promise its state belongs to) writes nothing: most changes to a callback or ticket
        (a new note, a reassignment) move neither, and the sweep's own schedule for the item stands.
        """
        item_type: ItemType
        if "callback_id" in keys:
            item_type, item_id = "callback", str(keys["callback_id"])
        elif "ticket_id" in keys:
            item_type, item_id = "ticket", str(keys["ticket_id"])
        else:
            raise ValueError(f"stream record from an unknown table (keys {sorted(keys)})")
        if change == "REMOVE":
            self._index.unschedule(item_type, item_id)
            return
        due, promise = self._first_due(item_type, new_image)
        if change == "MODIFY" and self._was(item_type, old_image) == (due, promise):
            logger.debug(f"{item_type.capitalize()} not re-indexed", extra={f"{item_type}_id": item_id})
            return
        if due is None:
            self._index.unschedule(item_type, item_id)
        else:
            self._index.schedule(item_type, item_id, due, promise=promise)
        logger.debug(f"{item_type.capitalize()} indexed", extra={f"{item_type}_id": item_id, "due": due})

    def _was(
        self, item_type: ItemType, old_image: dict[str, Any] | None
    ) -> tuple[datetime | None, datetime | None] | None:
        """What the indexer wrote for the item's previous version; None if that is not known (no
        old image, or one that broke the contract: its record failed, so nothing was written).
        A record that failed for any other reason is retried before the next one is handled, and
        one that never succeeds is set aside (DetectorFailureQueue) for an operator to redrive."""
        if not old_image:
            return None
        try:
            return self._first_due(item_type, old_image)
        except InvalidRecord:
            return None

    def _first_due(
        self, item_type: ItemType, new_image: dict[str, Any]
    ) -> tuple[datetime | None, datetime | None]:
        """When the item is first worth a look, and the promise its state belongs to (callbacks)."""
        if item_type == "callback":
            callback = Callback.from_item(new_image)
            return callback_rules.first_due(callback, self._callback_policy), callback.promised_at
        return ticket_rules.first_due(Ticket.from_item(new_image), self._ticket_policy), None
