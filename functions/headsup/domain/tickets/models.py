"""A support ticket as the business writes it to TicketsTable (docs/data-contract.md)."""

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from headsup.domain.assertions import SourceTable
from headsup.domain.contract import ContractRecord, IsoDateTime
from headsup.platform.errors import InvalidRecord

Priority = Literal["urgent", "high", "normal", "low"]
ACTIVE_STATUSES = frozenset({"new", "open", "on_hold"})  # "pending" waits on the customer, not on us


class InvalidTicket(InvalidRecord):
    kind = "ticket"


class Ticket(ContractRecord):
    invalid = InvalidTicket
    source_table = SourceTable.TICKETS
    key_fields = ("ticket_id",)

    ticket_id: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)]
    subject: Annotated[str, Field(min_length=1)]
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"]
    priority: Priority = "normal"
    created_at: IsoDateTime
    updated_at: IsoDateTime
    solved_at: IsoDateTime | None = None

    @model_validator(mode="after")
    def _solved_has_a_time(self) -> Self:
        if self.status == "solved" and self.solved_at is None:
            raise ValueError("a solved ticket needs solved_at")
        return self

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
