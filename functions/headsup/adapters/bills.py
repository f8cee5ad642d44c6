"""Reading earlier bills from BillsTable."""

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from headsup.adapters.dynamodb import DynamoTable, PrefetchCache, to_item, to_python
from headsup.domain.bills.models import Bill

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

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


class DynamoBillsRepository(DynamoTable):
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table_name, client)
        self._month_before = PrefetchCache("customer_id", "period")

    def prefetch(self, bills: Iterable[tuple[str, str]]) -> None:
        """Read the month before each (customer_id, period) of a batch in one call.

        Bills are monthly, so the month before is almost always the previous bill, and one
        BatchGetItem replaces a Query per record; when it is missing, `previous_bill` queries.
        """
        wanted = ((customer, before) for customer, period in bills if (before := month_before(period)))
        self._month_before.fill(self._client, self._table, wanted)

    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
        """The customer's most recent bill for a period before `before_period` (YYYY-MM sorts)."""
        before = month_before(before_period)
        _, prefetched = self._month_before.lookup(customer_id, before) if before else (False, None)
        if prefetched is not None:
            return Bill.from_item(prefetched)
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="customer_id = :customer AND period < :period",
            ExpressionAttributeValues=to_item({":customer": customer_id, ":period": before_period}),
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return Bill.from_item(to_python(items[0])) if items else None
