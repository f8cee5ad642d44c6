"""A bill as the business writes it to BillsTable (docs/data-contract.md), validated."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self

from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from headsup.notices.payloads import CurrencyCode, Period

_KNOWN_CURRENCIES = frozenset(list_currencies())

# DynamoDB numbers arrive as Decimal; strict rejects an amount stored as a string or bool
# instead of guessing what the business meant.
Amount = Annotated[Decimal, Field(strict=True, allow_inf_nan=False)]


class InvalidBill(ValueError):
    """A bill record that does not meet the data contract. Carries its key and what is wrong."""

    def __init__(self, key: dict[str, Any], problems: list[str]) -> None:
        self.key = key
        self.problems = problems
        super().__init__(f"invalid bill {key}: {'; '.join(problems)}")


class LineItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    description: Annotated[str, Field(min_length=1)]
    amount: Amount


class Bill(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    customer_id: Annotated[str, Field(min_length=1)]
    period: Period
    amount: Amount
    currency: CurrencyCode = "USD"
    due_date: date | None = None
    line_items: tuple[LineItem, ...] = ()

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in _KNOWN_CURRENCIES:
            raise ValueError(f"unknown ISO 4217 currency {value!r}")
        return value

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        """Validate a deserialized DynamoDB item; raise InvalidBill naming the fields at fault.

        Only field names and pydantic's message are kept: never the input values, which may be
        personal data and end up in logs.
        """
        try:
            return cls.model_validate(item)
        except ValidationError as exc:
            key = {name: item.get(name) for name in ("customer_id", "period")}
            raise InvalidBill(key, [_describe(error) for error in exc.errors()]) from exc


def _describe(error: ErrorDetails) -> str:
    where = ".".join(map(str, error["loc"])) or "item"
    if error["type"] == "is_instance_of" and "Decimal" in error["msg"]:
        # Name the DynamoDB type the value arrived as (S, BOOL...), not the value itself.
        return f"{where}: must be a DynamoDB number (N), got {_dynamodb_type(error['input'])}"
    return f"{where}: {error['msg']}"


def _dynamodb_type(value: object) -> str:
    names = {str: "S", bool: "BOOL", list: "L", dict: "M", bytes: "B", type(None): "NULL"}
    return names.get(type(value), type(value).__name__)
