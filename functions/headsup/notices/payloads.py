"""Kind-specific facts carried by a notice request; the templates render exactly these."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from headsup.notices.request import NoticeKind

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class LineItemChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    previous_amount: Decimal | None  # None: the item is new on this bill
    new_amount: Decimal

    @property
    def change(self) -> Decimal:
        return self.new_amount - (self.previous_amount or Decimal(0))

    @property
    def is_new(self) -> bool:
        return self.previous_amount is None


class BillIncreasePayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    period: Period
    # The period compared against; equal to `period` when a bill was corrected upwards.
    compared_period: Period
    is_correction: bool
    currency: CurrencyCode
    previous_amount: Decimal
    new_amount: Decimal
    difference: Decimal
    percent: Decimal  # e.g. 20.5 for +20.5 %
    due_date: date | None
    changed_items: list[LineItemChange]  # new or grown items, largest change first


PAYLOAD_MODELS: dict[NoticeKind, type[BaseModel]] = {NoticeKind.BILL_INCREASE: BillIncreasePayload}
