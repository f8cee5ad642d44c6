"""Base for records the business writes: validated on the way in, failing with their key."""

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from headsup.shared.errors import InvalidRecord, contract_problems


class ContractRecord(BaseModel):
    """A record from one of the business's tables (see docs/data-contract.md).

    Unknown attributes are ignored (the business's tables hold more than headsup reads); a
    record that breaks the contract raises `invalid` naming its key and the fields at fault.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    invalid: ClassVar[type[InvalidRecord]] = InvalidRecord
    key_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(item)
        except ValidationError as exc:
            raise cls.invalid(
                {name: item.get(name) for name in cls.key_fields}, contract_problems(exc)
            ) from exc
