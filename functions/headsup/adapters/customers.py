"""CustomersTable: the business's customers, read (in batches) for delivery and the sweep."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from headsup.adapters.dynamodb import BatchReads, DynamoTable, PrefetchCache
from headsup.domain.customer import Customer, customer_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CustomerDirectory(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...


class DynamoCustomerDirectory(DynamoTable):
    def __init__(
        self,
        table_name: str,
        *,
        default_locale: str,
        default_timezone: str,
        client: "DynamoDBClient | None" = None,
        reads: BatchReads | None = None,
    ) -> None:
        super().__init__(table_name, client)
        self._reads = reads  # prefetches go with other tables' when given
        self._default_locale = default_locale
        self._default_timezone = default_timezone
        self._prefetched = PrefetchCache("customer_id")

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Read the batch's customers in one call; `get` then serves them (this batch only)."""
        self._prefetched.fill(self._client, self._table, ((i,) for i in customer_ids), self._reads)

    def get(self, customer_id: str) -> Customer | None:
        fetched, item = self._prefetched.lookup(customer_id)
        if not fetched:
            item = self._get({"customer_id": customer_id})
        if item is None:
            return None
        return customer_from_item(
            item, default_locale=self._default_locale, default_timezone=self._default_timezone
        )
