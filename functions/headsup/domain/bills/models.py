"""A bill as the business writes it to BillsTable (docs/data-contract.md), validated."""

from decimal import Decimal
from typing import Annotated

from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, Field, field_validator

from headsup.domain.assertions import SourceTable
from headsup.domain.contract import ContractRecord, IsoDate
from headsup.domain.payloads import CurrencyCode, Period
from headsup.platform.errors import InvalidRecord

_KNOWN_CURRENCIES = frozenset(list_currencies())

# DynamoDB numbers arrive as Decimal; strict rejects an amount stored as a string or bool
# instead of guessing what the business meant. No bill is a quadrillion in any currency: an
# amount that large is a data error (units, a stray exponent), not something to tell a customer.
AMOUNT_LIMIT = Decimal("1e15")
Amount = Annotated[Decimal, Field(strict=True, allow_inf_nan=False, gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)]


class InvalidBill(InvalidRecord):
    kind = "bill"


class LineItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    description: Annotated[str, Field(min_length=1)]
    amount: Amount


class Bill(ContractRecord):
    invalid = InvalidBill
    source_table = SourceTable.BILLS
    key_fields = ("customer_id", "period")

    customer_id: Annotated[str, Field(min_length=1)]
    period: Period
    amount: Amount
    currency: CurrencyCode = "USD"
    due_date: IsoDate | None = None
    line_items: tuple[LineItem, ...] = ()

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in _KNOWN_CURRENCIES:
            raise ValueError(f"unknown ISO 4217 currency {value!r}")
        return value
