"""CustomersTable: the business's customers, read (in batches) for delivery and the sweep."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

import boto3
from boto3.dynamodb.types import TypeDeserializer

from headsup.adapters.dynamodb import PrefetchCache
from headsup.domain.customer import Customer, customer_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_deserializer = TypeDeserializer()


class CustomerDirectory(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...


class DynamoCustomerDirectory:
    def __init__(
        self,
        table_name: str,
        *,
        default_locale: str,
        default_timezone: str,
        client: "DynamoDBClient | None" = None,
    ) -> None:
        self._table_name = table_name
        self._default_locale = default_locale
        self._default_timezone = default_timezone
        self._client = client or boto3.client("dynamodb")
        self._prefetched = PrefetchCache("customer_id")

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Read the batch's customers in one call; `get` then serves them (this batch only)."""
        self._prefetched.fill(self._client, self._table_name, ((i,) for i in customer_ids))

    def get(self, customer_id: str) -> Customer | None:
        fetched, raw = self._prefetched.lookup(customer_id)
        if not fetched:
            response = self._client.get_item(
                TableName=self._table_name, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True
            )
            raw = response.get("Item")
        if raw is None:
            return None
        item = {key: _deserializer.deserialize(value) for key, value in raw.items()}
        return customer_from_item(
            item, default_locale=self._default_locale, default_timezone=self._default_timezone
        )
