"""Base for records the business writes: validated on the way in, failing with their key."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from headsup.domain.assertions import SourceTable
from headsup.platform.errors import InvalidRecord, contract_problems, dynamodb_type


def _not_a_number(value: Any) -> Any:
    """Dates and times are ISO 8601 strings (S). Pydantic would read a number as epoch seconds or
    milliseconds, whichever its size suggests: a guess, so it is rejected instead."""
    if isinstance(value, bool | int | float | Decimal):
        raise PydanticCustomError(
            "iso_8601_string", "must be an ISO 8601 string (S), got {type}", {"type": dynamodb_type(value)}
        )
    return value


# An instant with its offset ("2026-11-24T16:00:00Z"); without one it is ambiguous and rejected.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
IsoDate = Annotated[date, BeforeValidator(_not_a_number)]


class ContractRecord(BaseModel):
    """A record from one of the business's tables (see docs/data-contract.md).

    Unknown attributes are ignored (the business's tables hold more than headsup reads); a
    record that breaks the contract raises `invalid` naming its key and the fields at fault.
    """

    # Compiled when a record of the kind is first read: a function reads one or two kinds.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    invalid: ClassVar[type[InvalidRecord]] = InvalidRecord
    key_fields: ClassVar[tuple[str, ...]] = ()
    source_table: ClassVar[SourceTable]  # for the records notices are about

    @property
    def key(self) -> tuple[str, ...]:
        """The record's key in its table, in `key_fields` order."""
        return tuple(getattr(self, name) for name in self.key_fields)

    @property
    def key_attributes(self) -> dict[str, str]:
        """The record's key as its table's key attributes, in `key_fields` order."""
        return {name: getattr(self, name) for name in self.key_fields}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(item)
        except ValidationError as exc:
            raise cls.invalid(
                {name: item.get(name) for name in cls.key_fields}, contract_problems(exc)
            ) from exc
