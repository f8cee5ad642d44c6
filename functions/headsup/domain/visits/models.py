"""A technician visit as the business writes it to VisitsTable (docs/data-contract.md)."""

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from headsup.domain.assertions import SourceTable
from headsup.domain.contract import ContractRecord, IsoDateTime
from headsup.platform.errors import InvalidRecord

VisitStatus = Literal["scheduled", "en_route", "arrived", "done", "cancelled"]
OPEN_STATUSES = frozenset({"scheduled", "en_route"})  # the technician has not arrived yet


class InvalidVisit(InvalidRecord):
    kind = "visit"


class Visit(ContractRecord):
    invalid = InvalidVisit
    source_table = SourceTable.VISITS
    key_fields = ("visit_id",)

    visit_id: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)]
    window_start: IsoDateTime
    window_end: IsoDateTime
    eta: IsoDateTime
    status: VisitStatus
    technician_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    delay_reason: str | None = None
    address_hint: str | None = None

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.window_end < self.window_start:
            raise ValueError("window_end is before window_start")
        return self

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def technician_first_name(self) -> str:
        # Customers are told who is coming, not the technician's full name.
        return self.technician_name.split()[0]
