"""A support ticket as the business writes it to TicketsTable (docs/data-contract.md)."""

from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from headsup.shared.errors import InvalidRecord, contract_problems

Priority = Literal["urgent", "high", "normal", "low"]
ACTIVE_STATUSES = frozenset({"new", "open", "on_hold"})  # "pending" waits on the customer, not on us


class InvalidTicket(InvalidRecord):
    kind = "ticket"


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)]
    subject: Annotated[str, Field(min_length=1)]
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"]
    priority: Priority = "normal"
    created_at: AwareDatetime
    updated_at: AwareDatetime
    solved_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _solved_has_a_time(self) -> Self:
        if self.status == "solved" and self.solved_at is None:
            raise ValueError("a solved ticket needs solved_at")
        return self

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(item)
        except ValidationError as exc:
            raise InvalidTicket({"ticket_id": item.get("ticket_id")}, contract_problems(exc)) from exc
