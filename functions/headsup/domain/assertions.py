"""What a notice asserts about the business's data, so that it can be checked again when it is sent.

A notice is decided when a detector sees a change, but it may go out hours later (held for quiet
hours or the daily cap, retried by the queue). Each notice therefore names its source item (table
and key) and the facts it states about it, in canonical text. Delivery compares those with the
item as it is at send time (domain/recheck.py): a notice whose facts no longer hold is skipped as
`no_longer_true`, never sent.

`told` says how a notice relates to what the customer was already told about the same thing (its
*story*: the same bill, the same visit's lateness): most go whatever came before; a bill judged
afresh after a correction goes only if nothing about the bill reached the customer yet; a
correction goes only if something did, and names the figure the customer was given.
"""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Fact = str | Decimal | datetime  # a value a notice states, before it is made canonical text


class SourceTable(StrEnum):
    """The business's tables a notice can be about (template.yaml: BillsTable, CallbacksTable...)."""

    BILLS = "bills"
    CALLBACKS = "callbacks"
    TICKETS = "tickets"
    VISITS = "visits"


class Told(StrEnum):
    ANY = "any"  # goes whatever the customer was told before
    FIRST = "first"  # only if nothing of its story about this item has reached the customer
    AFTER = "after"  # only as a correction of what of its story has, when that differs


_Text = Annotated[str, StringConstraints(max_length=200)]


class Assertion(BaseModel):
    """The source item a notice is about and the facts it states about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: SourceTable
    key: dict[_Text, _Text]  # the item's key attributes, in the table's key order
    facts: dict[_Text, _Text]  # canonical text, compared with the item at send time
    told: Told = Told.ANY

    @property
    def subject(self) -> str:
        """The item, as one string: `bills/c-1/2026-06`, `callbacks/cb-7`."""
        return "/".join([self.table.value, *self.key.values()])


def canonical(fact: Fact) -> str:
    """The text a fact is compared and identified by: equal facts give equal text."""
    if isinstance(fact, Decimal):
        # 120, 120.0 and 120.00 are the same amount.
        return format(fact.normalize(), "f")
    if isinstance(fact, datetime):
        # The same moment written with another offset is the same fact.
        return fact.astimezone(UTC).isoformat()
    return fact
