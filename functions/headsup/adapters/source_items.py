"""Reading the business's own items: one CallbacksTable or TicketsTable item by its key (the
sweep), and the items a batch of notices makes claims about (delivery's re-check)."""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from headsup.adapters.dynamodb import DynamoTable, batch_get_tables, to_item, to_python
from headsup.domain.assertions import Assertion, SourceTable
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics

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


_Key = tuple[SourceTable, tuple[tuple[str, str], ...]]


class DynamoSourceReader:
    """The items notices are about, across the business's tables (by their template names)."""

    def __init__(self, tables: Mapping[SourceTable, str], client: "DynamoDBClient | None" = None) -> None:
        self._tables = dict(tables)
        self._client = client or boto3.client("dynamodb")
        self._prefetched: dict[_Key, dict[str, Any] | None] = {}

    def prefetch(self, assertions: Iterable[Assertion]) -> None:
        """Read the items of a batch's notices in one BatchGetItem, whatever their tables; `get`
        then serves them (this batch only, so nothing read is older than the batch)."""
        wanted = {_key_of(assertion): assertion for assertion in assertions}
        self._prefetched = {}
        if not wanted:
            return
        by_table: dict[str, list[dict[str, Any]]] = {}
        for assertion in wanted.values():
            by_table.setdefault(self._tables[assertion.table], []).append(to_item(assertion.key))
        try:
            found = batch_get_tables(self._client, by_table)
        except Exception as exc:  # noqa: BLE001 - each notice then reads its own item, as before
            logger.warning("Prefetch failed; reading per record", extra={"error": describe_error(exc)})
            metrics.add_metric(name="PrefetchFailures", unit="Count", value=1)
            return
        items = {table: list(map(to_python, raw)) for table, raw in found.items()}
        for key, assertion in wanted.items():
            self._prefetched[key] = _find(items.get(self._tables[assertion.table], []), assertion.key)

    def get(self, assertion: Assertion) -> dict[str, Any] | None:
        key = _key_of(assertion)
        if key in self._prefetched:
            return self._prefetched[key]
        response = self._client.get_item(
            TableName=self._tables[assertion.table], Key=to_item(assertion.key), ConsistentRead=True
        )
        raw = response.get("Item")
        return None if raw is None else to_python(raw)


def _key_of(assertion: Assertion) -> _Key:
    return assertion.table, tuple(sorted(assertion.key.items()))


def _find(items: list[dict[str, Any]], key: Mapping[str, str]) -> dict[str, Any] | None:
    return next((item for item in items if all(item.get(k) == v for k, v in key.items())), None)
