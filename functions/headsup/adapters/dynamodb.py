"""How every table adapter talks to DynamoDB: item conversion, update expressions, conditional
writes and batch reads, written once.

Batch reads: delivery reads each notice's customer and preferences; for an SQS batch of ten that
is twenty GetItem calls, or two BatchGetItem calls. The result is kept only for the invocation
that fetched it (see PrefetchCache), so nothing read is older than the batch being processed.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_MAX_KEYS = 100  # BatchGetItem's limit per request
_MAX_ROUNDS = 5  # for UnprocessedKeys, which DynamoDB returns when it throttles part of a batch

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_python(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB returns it (`{"S": ...}`...) as plain values (numbers as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def aware_time(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, as headsup writes times; None for anything else (a time
    written by hand without an offset, or not a time at all)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values (str, int, bool, None, sets) as DynamoDB attribute values, by name."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


class ConditionFailed(Exception):
    """A conditional write whose condition did not hold: nothing was written."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        self.item = item  # as it was (plain values), when the write asked for it
        super().__init__("the write's condition did not hold")


@contextmanager
def condition_checked() -> Iterator[None]:
    """Raise ConditionFailed for DynamoDB's ConditionalCheckFailedException; any other error as is."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        # The item as it was, when the write asked for it (ReturnValuesOnConditionCheckFailure).
        old = cast("Mapping[str, Any] | None", exc.response.get("Item"))
        raise ConditionFailed(None if old is None else to_python(old)) from exc


@dataclass
class Update:
    """One UpdateItem's clauses and the placeholders they use.

    Placeholders are the caller's (`:now`), not generated: a value can serve two clauses, and what
    watches AWS calls (fault injection, the cost model) recognises a write by them.
    """

    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # plain values, by placeholder
    names: dict[str, str] = field(default_factory=dict)

    def set_or_remove(self, attributes: Mapping[str, Any]) -> Self:
        """Set each attribute to its value, or remove it where the value is None. Names go through
        placeholders: some (like `level`) are DynamoDB reserved words."""
        for name, value in attributes.items():
            self.names[f"#{name}"] = name
            if value is None:
                self.removes.append(f"#{name}")
            else:
                self.sets.append(f"#{name} = :{name}")
                self.values[f":{name}"] = value
        return self

    def request(self) -> dict[str, Any]:
        """UpdateItem's UpdateExpression, ExpressionAttributeValues and ExpressionAttributeNames."""
        clauses = (("SET", self.sets), ("REMOVE", self.removes), ("ADD", self.adds))
        request: dict[str, Any] = {
            "UpdateExpression": " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)
        }
        if self.values:
            request["ExpressionAttributeValues"] = to_item(self.values)
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        return request


class DynamoTable:
    """What every table adapter starts from: its table, a client (boto3's default unless one is
    given: tests pass moto's or a stubbed one), and item reads and updates in plain values."""

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        """The item at `key`, strongly consistent; None if there is none."""
        response = self._client.get_item(TableName=self._table, Key=to_item(key), ConsistentRead=True)
        raw = response.get("Item")
        return None if raw is None else to_python(raw)

    def _update(self, key: Mapping[str, str], update: Update, **options: Any) -> dict[str, Any]:
        """Apply `update` to the item at `key`; the item's attributes if `options` ask for them.

        Raises ConditionFailed when a ConditionExpression in `options` does not hold.
        """
        with condition_checked():
            response = self._client.update_item(
                TableName=self._table, Key=to_item(key), **update.request(), **options
            )
        return to_python(response.get("Attributes", {}))


def batch_get_items(
    client: "DynamoDBClient", table: str, keys: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The items at `keys` (distinct keys, strongly consistent); keys with no item give nothing."""
    return batch_get_tables(client, {table: keys}).get(table, [])


def batch_get_tables(
    client: "DynamoDBClient", keys: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The items at `keys` by table, read together: one BatchGetItem for up to 100 keys whatever
    their tables (distinct keys, strongly consistent; keys with no item give nothing)."""
    wanted = [(table, key) for table, table_keys in keys.items() for key in table_keys]
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), _MAX_KEYS):
        pending: dict[str, Any] = {}
        for table, key in wanted[start : start + _MAX_KEYS]:
            pending.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        for _ in range(_MAX_ROUNDS):
            response: dict[str, Any] = dict(client.batch_get_item(RequestItems=pending))
            for table, items in response.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            unprocessed = response.get("UnprocessedKeys", {})
            pending = {t: {"Keys": r["Keys"], "ConsistentRead": True} for t, r in unprocessed.items()}
            if not pending:
                break
        else:
            left = sum(len(request["Keys"]) for request in pending.values())
            raise RuntimeError(f"BatchGetItem on {sorted(pending)} left {left} keys unprocessed")
    return found


class BatchReads:
    """Keys that several adapters prefetch for one batch, read together: one BatchGetItem across
    their tables (up to 100 keys), made when the first of them is looked up.

    Delivery prefetches a batch's customers, their preferences and the business's items its
    waiting notices state facts about: three tables, one call.
    """

    def __init__(self, client: "DynamoDBClient | None" = None) -> None:
        self._client = client or boto3.client("dynamodb")
        self._pending: list[tuple[PrefetchCache, str, set[tuple[str, ...]]]] = []

    def add(self, cache: "PrefetchCache", table: str, keys: set[tuple[str, ...]]) -> None:
        self._pending.append((cache, table, keys))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        wanted = [(cache, table, keys) for cache, table, keys in pending if keys]
        if not wanted:
            return
        request: dict[str, list[dict[str, Any]]] = {}
        for cache, table, keys in wanted:
            request.setdefault(table, []).extend(cache.key_items(keys))
        try:
            found = batch_get_tables(self._client, request)
        except Exception as exc:  # noqa: BLE001 - each record then reads its own item, as before
            logger.warning("Prefetch failed; reading per record", extra={"error": describe_error(exc)})
            metrics.add_metric(name="PrefetchFailures", unit="Count", value=1)
            return
        for cache, table, keys in wanted:
            cache.take(keys, found.get(table, []))


class PrefetchCache:
    """What the current invocation prefetched (plain values), by key (the values of the table's
    string key attributes): a hit, a known miss (no item), or not fetched."""

    def __init__(self, *key_names: str) -> None:
        self._key_names = key_names
        self._items: dict[tuple[str, ...], dict[str, Any] | None] = {}
        self._reads: BatchReads | None = None  # reads still to make, with other tables'

    def fill(
        self,
        client: "DynamoDBClient",
        table: str,
        keys: Iterable[tuple[str, ...]],
        together: BatchReads | None = None,
    ) -> None:
        """Prefetch `keys` of `table`: now, or with `together`'s other tables on first lookup."""
        self._items = {}
        reads = together or BatchReads(client)
        reads.add(self, table, set(keys))
        if together is None:
            reads.flush()
        else:
            self._reads = together

    def key_items(self, keys: set[tuple[str, ...]]) -> list[dict[str, Any]]:
        """`keys` as BatchGetItem's Keys (distinct, in a stable order)."""
        return [to_item(dict(zip(self._key_names, key, strict=True))) for key in sorted(keys)]

    def take(self, keys: set[tuple[str, ...]], found: Iterable[Mapping[str, Any]]) -> None:
        """What BatchGetItem returned for `keys` (attribute values): hits and known misses."""
        by_key = {tuple(item[name] for name in self._key_names): item for item in map(to_python, found)}
        self._items = {key: by_key.get(key) for key in keys}
        self._reads = None

    def lookup(self, *key: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, item or None) when prefetched; (False, None) when it must be read."""
        if self._reads is not None:
            reads, self._reads = self._reads, None
            reads.flush()  # the batch's reads, for every table, in one call
        if key in self._items:
            return True, self._items[key]
        return False, None

    def forget(self, *key: str) -> None:
        self._items.pop(key, None)
