"""How an error is described in logs and in the ledger: what went wrong, never whose data."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:  # only named here: an error is described without loading pydantic
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails


def describe_error(exc: BaseException) -> str:
    """`ClientError Throttling` for AWS errors, `TypeName: message` for our own.

    AWS error messages can quote the request (an email address SES refused, a phone number SNS
    found invalid), so only their error code is kept. Our own exceptions carry ids, never
    personal data.
    """
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        return f"ClientError {code} ({exc.operation_name})"
    return f"{type(exc).__name__}: {exc}"


class InvalidRecord(ValueError):
    """A record the business wrote that breaks the data contract: its key and what is wrong."""

    kind = "record"

    def __init__(self, key: dict[str, Any], problems: list[str]) -> None:
        self.key = key
        self.problems = problems
        super().__init__(f"invalid {self.kind} {key}: {'; '.join(problems)}")


def contract_problems(exc: ValidationError) -> list[str]:
    """One line per field at fault, naming the field and the rule, never the value itself
    (which may be personal data and would end up in logs)."""
    return [_describe(error) for error in exc.errors()]


def _describe(error: ErrorDetails) -> str:
    where = ".".join(map(str, error["loc"])) or "item"
    if error["type"] == "is_instance_of" and "Decimal" in error["msg"]:
        # Name the DynamoDB type the value arrived as (S, BOOL...), not the value.
        return f"{where}: must be a DynamoDB number (N), got {dynamodb_type(error['input'])}"
    return f"{where}: {error['msg']}"


def dynamodb_type(value: object) -> str:
    """The DynamoDB type a deserialized value arrived as (`S`, `N`, `BOOL`...), for messages that
    must name what is wrong without quoting the value."""
    names = {
        str: "S",
        Decimal: "N",
        int: "N",
        float: "N",
        bool: "BOOL",
        list: "L",
        dict: "M",
        bytes: "B",
        type(None): "NULL",
    }
    return names.get(type(value), type(value).__name__)
