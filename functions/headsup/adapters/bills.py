"""Reading earlier bills from BillsTable."""

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from boto3.dynamodb.types import TypeDeserializer

from headsup.adapters.dynamodb import PrefetchCache
from headsup.domain.bills.models import Bill

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_deserializer = TypeDeserializer()


_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def month_before(period: object) -> str | None:
    """`2026-01` -> `2025-12`; None for anything that is not a YYYY-MM period."""
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        return None
    year, month = int(match[1]), int(match[2])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


class BillsRepository(Protocol):
    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None: ...

    def prefetch(self, bills: Iterable[tuple[str, str]]) -> None: ...


class DynamoBillsRepository:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table_name = table_name
        self._client = client or boto3.client("dynamodb")
        self._month_before = PrefetchCache("customer_id", "period")

    def prefetch(self, bills: Iterable[tuple[str, str]]) -> None:
        """Read the month before each (customer_id, period) of a batch in one call.

        Bills are monthly, so the month before is almost always the previous bill, and one
        BatchGetItem replaces a Query per record; when it is missing, `previous_bill` queries.
        """
        wanted = ((customer, before) for customer, period in bills if (before := month_before(period)))
        self._month_before.fill(self._client, self._table_name, wanted)

    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
        """The customer's most recent bill for a period before `before_period` (YYYY-MM sorts)."""
        before = month_before(before_period)
        _, prefetched = self._month_before.lookup(customer_id, before) if before else (False, None)
        if prefetched is not None:
            return Bill.from_item({key: _deserializer.deserialize(v) for key, v in prefetched.items()})
        response = self._client.query(
            TableName=self._table_name,
            KeyConditionExpression="customer_id = :customer AND period < :period",
            ExpressionAttributeValues={":customer": {"S": customer_id}, ":period": {"S": before_period}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return None
        item: dict[str, Any] = {key: _deserializer.deserialize(value) for key, value in items[0].items()}
        return Bill.from_item(item)
