"""A promised callback as the business writes it to CallbacksTable (docs/data-contract.md)."""

from typing import Annotated, Literal

from pydantic import Field

from headsup.domain.assertions import SourceTable
from headsup.domain.contract import ContractRecord, IsoDateTime
from headsup.platform.errors import InvalidRecord


class InvalidCallback(InvalidRecord):
    kind = "callback"


class Callback(ContractRecord):
    invalid = InvalidCallback
    source_table = SourceTable.CALLBACKS
    key_fields = ("callback_id",)

    callback_id: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)]
    promised_at: IsoDateTime  # a time without an offset is ambiguous: rejected, not guessed
    status: Literal["pending", "done", "cancelled"]
    topic: Annotated[str, Field(min_length=1)]
    agent_name: str | None = None
    team: str | None = None
