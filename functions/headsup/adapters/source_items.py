"""Reading the business's own items: one CallbacksTable or TicketsTable item by its key (the
sweep), and the items a batch of notices makes claims about (delivery's re-check)."""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from headsup.adapters.dynamodb import BatchReads, DynamoTable, PrefetchCache, to_item, to_python
from headsup.domain.assertions import Assertion, SourceTable
from headsup.domain.recheck import source_key_fields

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSourceItems(DynamoTable):
    def __init__(self, table_name: str, key_name: str, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table_name, client)
        self._key = key_name

    def get(self, item_id: str) -> dict[str, Any] | None:
        # Consistent: the index may lag the table by a stream hop, the item itself must not.
        return self._get({self._key: item_id})


class SourceReader(Protocol):
    def prefetch(self, assertions: Iterable[Assertion]) -> None: ...

    def get(self, assertion: Assertion) -> dict[str, Any] | None: ...


class DynamoSourceReader:
    """The items notices are about, across the business's tables (by their template names)."""

    def __init__(
        self,
        tables: Mapping[SourceTable, str],
        client: "DynamoDBClient | None" = None,
        reads: BatchReads | None = None,
    ) -> None:
        self._tables = dict(tables)
        self._client = client or boto3.client("dynamodb")
        self._reads = reads  # prefetches go with other tables' (customers, preferences) when given
        self._prefetched = {table: PrefetchCache(*source_key_fields(table)) for table in SourceTable}

    def prefetch(self, assertions: Iterable[Assertion]) -> None:
        """Read the items of a batch's notices together (one BatchGetItem, whatever their tables,
        and with the other tables' prefetches when `reads` is shared); `get` then serves them,
        for this batch only, so nothing read is older than the batch."""
        wanted: dict[SourceTable, set[tuple[str, ...]]] = {table: set() for table in SourceTable}
        for assertion in assertions:
            wanted[assertion.table].add(tuple(assertion.key.values()))
        reads = self._reads or BatchReads(self._client)
        for table, keys in wanted.items():
            self._prefetched[table].fill(self._client, self._tables[table], keys, reads)
        if self._reads is None:
            reads.flush()

    def get(self, assertion: Assertion) -> dict[str, Any] | None:
        fetched, item = self._prefetched[assertion.table].lookup(*assertion.key.values())
        if fetched:
            return item
        response = self._client.get_item(
            TableName=self._tables[assertion.table], Key=to_item(assertion.key), ConsistentRead=True
        )
        raw = response.get("Item")
        return None if raw is None else to_python(raw)
