"""One BatchGetItem for a whole batch's items instead of one GetItem per record.

Delivery reads each notice's customer and preferences; for an SQS batch of ten that is twenty
GetItem calls, or two BatchGetItem calls. The result is kept only for the invocation that
fetched it (see PrefetchCache), so nothing read is older than the batch being processed.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from headsup.shared.errors import describe_error
from headsup.shared.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_MAX_KEYS = 100  # BatchGetItem's limit per request
_MAX_ROUNDS = 5  # for UnprocessedKeys, which DynamoDB returns when it throttles part of a batch


def batch_get_items(
    client: "DynamoDBClient", table: str, keys: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The items at `keys` (distinct keys, strongly consistent); keys with no item give nothing."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), _MAX_KEYS):
        pending = list(keys[start : start + _MAX_KEYS])
        for _ in range(_MAX_ROUNDS):
            response: dict[str, Any] = dict(
                client.batch_get_item(RequestItems={table: {"Keys": pending, "ConsistentRead": True}})
            )
            found += response.get("Responses", {}).get(table, [])
            pending = list(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
            if not pending:
                break
        else:
            raise RuntimeError(f"BatchGetItem on {table} left {len(pending)} keys unprocessed")
    return found


def batch_get(
    client: "DynamoDBClient", table: str, key_name: str, ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Items of a table keyed by one string attribute, by id; ids with no item are absent."""
    keys = [{key_name: {"S": i}} for i in sorted(set(ids))]
    return {item[key_name]["S"]: item for item in batch_get_items(client, table, keys)}


class PrefetchCache:
    """What the current invocation prefetched: a hit, a known miss (no item), or not fetched."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any] | None] = {}

    def fill(self, client: "DynamoDBClient", table: str, key_name: str, ids: Iterable[str]) -> None:
        wanted = set(ids)
        self._items = {}
        if not wanted:
            return
        try:
            found = batch_get(client, table, key_name, wanted)
        except Exception as exc:  # noqa: BLE001 - each record then reads its own item, as before
            logger.warning("Prefetch failed; reading per record", extra={"error": describe_error(exc)})
            metrics.add_metric(name="PrefetchFailures", unit="Count", value=1)
            return
        self._items = {i: found.get(i) for i in wanted}

    def lookup(self, key: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, item or None) when prefetched; (False, None) when it must be read."""
        if key in self._items:
            return True, self._items[key]
        return False, None

    def forget(self, key: str) -> None:
        self._items.pop(key, None)
