"""Keep DueItemsTable in step with CallbacksTable and TicketsTable, from their streams.

The indexer only says when an item is first worth a look; the sweep decides what is due then.
"""

from typing import Any, Literal

from headsup.adapters.due_items import DueItemsIndex
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.tickets import rules as ticket_rules
from headsup.domain.tickets.models import Ticket
from headsup.platform.observability import logger

ChangeKind = Literal["INSERT", "MODIFY", "REMOVE"]


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

    def on_change(self, change: ChangeKind, keys: dict[str, Any], new_image: dict[str, Any]) -> None:
        """Raises InvalidCallback / InvalidTicket for a record that breaks the contract."""
        if "callback_id" in keys:
            self._on_callback(change, str(keys["callback_id"]), new_image)
        elif "ticket_id" in keys:
            self._on_ticket(change, str(keys["ticket_id"]), new_image)
        else:
            raise ValueError(f"stream record from an unknown table (keys {sorted(keys)})")

    def _on_callback(self, change: ChangeKind, callback_id: str, new_image: dict[str, Any]) -> None:
        if change == "REMOVE":
            self._index.unschedule("callback", callback_id)
            return
        callback = Callback.from_item(new_image)
        due = callback_rules.first_due(callback, self._callback_policy)
        if due is None:
            self._index.unschedule("callback", callback_id)
        else:
            self._index.schedule("callback", callback_id, due, promise=callback.promised_at)
        logger.debug("Callback indexed", extra={"callback_id": callback_id, "due": due})

    def _on_ticket(self, change: ChangeKind, ticket_id: str, new_image: dict[str, Any]) -> None:
        if change == "REMOVE":
            self._index.unschedule("ticket", ticket_id)
            return
        ticket = Ticket.from_item(new_image)
        due = ticket_rules.first_due(ticket, self._ticket_policy)
        if due is None:
            self._index.unschedule("ticket", ticket_id)
        else:
            self._index.schedule("ticket", ticket_id, due)
        logger.debug("Ticket indexed", extra={"ticket_id": ticket_id, "due": due})
