"""One BatchGetItem for a whole batch's items instead of one GetItem per record.

Delivery reads each notice's customer and preferences; for an SQS batch of ten that is twenty
GetItem calls, or two BatchGetItem calls. The result is kept only for the invocation that
fetched it (see PrefetchCache), so nothing read is older than the batch being processed.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics

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


class PrefetchCache:
    """What the current invocation prefetched, by key (the values of the table's string key
    attributes): a hit, a known miss (no item), or not fetched."""

    def __init__(self, *key_names: str) -> None:
        self._key_names = key_names
        self._items: dict[tuple[str, ...], dict[str, Any] | None] = {}

    def fill(self, client: "DynamoDBClient", table: str, keys: Iterable[tuple[str, ...]]) -> None:
        wanted = set(keys)
        self._items = {}
        if not wanted:
            return
        requested = [
            {name: {"S": value} for name, value in zip(self._key_names, key, strict=True)}
            for key in sorted(wanted)
        ]
        try:
            found = batch_get_items(client, table, requested)
        except Exception as exc:  # noqa: BLE001 - each record then reads its own item, as before
            logger.warning("Prefetch failed; reading per record", extra={"error": describe_error(exc)})
            metrics.add_metric(name="PrefetchFailures", unit="Count", value=1)
            return
        by_key = {tuple(item[name]["S"] for name in self._key_names): item for item in found}
        self._items = {key: by_key.get(key) for key in wanted}

    def lookup(self, *key: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, item or None) when prefetched; (False, None) when it must be read."""
        if key in self._items:
            return True, self._items[key]
        return False, None

    def forget(self, *key: str) -> None:
        self._items.pop(key, None)
