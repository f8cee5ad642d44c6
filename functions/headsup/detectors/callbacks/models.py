"""A promised callback as the business writes it to CallbacksTable (docs/data-contract.md)."""

from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from headsup.shared.errors import InvalidRecord, contract_problems


class InvalidCallback(InvalidRecord):
    kind = "callback"


class Callback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    callback_id: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)]
    promised_at: AwareDatetime  # a time without an offset is ambiguous: rejected, not guessed
    status: Literal["pending", "done", "cancelled"]
    topic: Annotated[str, Field(min_length=1)]
    agent_name: str | None = None
    team: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(item)
        except ValidationError as exc:
            raise InvalidCallback({"callback_id": item.get("callback_id")}, contract_problems(exc)) from exc
