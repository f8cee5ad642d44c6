"""DueItemsTable: one record per watched callback or ticket, and the sparse index of what is due.

`due_shard` and `due_at` are present only while something is due, so DueIndex holds exactly
the items a sweep may have to act on. Each shard is queried for `due_at <= now`: a sweep reads
the due items and nothing else, however large the tables grow. Items are spread over
`DUE_INDEX_SHARDS` partitions by a hash of their key, so no single partition runs hot.
"""

import hashlib
import math
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, runtime_checkable

from headsup.adapters.dynamodb import (
    ConditionFailed,
    DynamoTable,
    PrefetchCache,
    Update,
    condition_checked,
    to_item,
    to_python,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ItemType = Literal["callback", "ticket", "visit", "held"]
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_due(moment: datetime) -> str:
    """UTC, whole seconds, rounded up: sorts as text, and never makes anything due early."""
    seconds = math.ceil(moment.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(seconds, UTC).strftime(_TIME_FORMAT)


def parse_due(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def item_key(item_type: ItemType, item_id: str) -> str:
    return f"{item_type}#{item_id}"


@dataclass(frozen=True)
class DueRecord:
    item_key: str
    item_type: ItemType
    item_id: str
    due_at: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadStats:
    queries: int = 0
    items_read: int = 0  # DynamoDB's ScannedCount: what the sweep paid to find due items


class DueItems(Protocol):
    def due(self, now: datetime, stats: ReadStats) -> Iterator[DueRecord]: ...

    def advance(self, record: DueRecord, next_due: datetime | None, state: dict[str, Any]) -> bool: ...

    def quarantine(self, record: DueRecord, reason: str) -> None: ...

    def forget(self, record: DueRecord) -> None: ...


@runtime_checkable
class ShardedDueItems(DueItems, Protocol):
    """Due items read one DueIndex shard at a time, so that each shard can be swept by a worker of
    its own. `due` reads them all, shard after shard."""

    @property
    def shard_count(self) -> int: ...

    def due_in(self, shard: int, now: datetime, stats: ReadStats) -> Iterator[DueRecord]: ...


class DueItemsIndex(Protocol):
    """What the indexer needs: set or clear an item's first due time."""

    def schedule(
        self, item_type: ItemType, item_id: str, due_at: datetime, *, promise: datetime | None = None
    ) -> None: ...

    def unschedule(self, item_type: ItemType, item_id: str) -> None: ...


class DynamoDueItems(DynamoTable):
    def __init__(
        self,
        table_name: str,
        shards: int,
        index_name: str = "DueIndex",
        client: "DynamoDBClient | None" = None,
    ) -> None:
        super().__init__(table_name, client)
        self._shards = shards
        self._index = index_name
        self._prefetched = PrefetchCache("item_key")  # the states a batch reads, in one call

    def shard_of(self, key: str) -> str:
        return str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % self._shards)

    # -- the indexer's side ------------------------------------------------------------------

    def schedule(
        self, item_type: ItemType, item_id: str, due_at: datetime, *, promise: datetime | None = None
    ) -> None:
        """Make the item due at `due_at`, keeping what the sweep recorded about the same promise.

        A callback's state (apology sent, deadline) belongs to one `promised_at`; a new promise
        replaces the record and so starts again.
        """
        key = item_key(item_type, item_id)
        shard, due = self.shard_of(key), format_due(due_at)
        update = Update(
            sets=["item_type = :type", "item_id = :id", "due_shard = :shard", "due_at = :due"],
            removes=["quarantined"],
            values={":type": item_type, ":id": item_id, ":shard": shard, ":due": due},
        )
        if promise is None:
            self._update({"item_key": key}, update)
            return
        # In UTC, so the same moment written with another offset is the same promise.
        promised = promise.astimezone(UTC).isoformat()
        update.sets.append("promise = :promise")
        update.values[":promise"] = promised
        try:
            self._update(
                {"item_key": key},
                update,
                ConditionExpression="attribute_not_exists(promise) OR promise = :promise",
            )
        except ConditionFailed:
            fresh = {"item_key": key, "item_type": item_type, "item_id": item_id}
            fresh |= {"due_shard": shard, "due_at": due, "promise": promised}
            self._client.put_item(TableName=self._table, Item=to_item(fresh))

    def unschedule(self, item_type: ItemType, item_id: str) -> None:
        self._client.delete_item(
            TableName=self._table, Key=to_item({"item_key": item_key(item_type, item_id)})
        )

    def prefetch_states(self, item_type: ItemType, item_ids: Iterable[str]) -> None:
        """Read the items of a batch in one BatchGetItem (strongly consistent); `state_of` then
        serves them, for this batch only. A GetItem per record otherwise."""
        keys = {(item_key(item_type, item_id),) for item_id in item_ids}
        self._prefetched.fill(self._client, self._table, keys)

    def state_of(self, item_type: ItemType, item_id: str) -> dict[str, Any]:
        """What the sweep or a detector recorded about the item (e.g. a visit's `late_eta`)."""
        key = item_key(item_type, item_id)
        fetched, item = self._prefetched.lookup(key)
        if not fetched:
            item = self._get({"item_key": key})
        return {k: v for k, v in (item or {}).items() if k in _STATE_ATTRIBUTES}

    def track(
        self,
        item_type: ItemType,
        item_id: str,
        due_at: datetime | None,
        state: dict[str, Any],
        *,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Record the item's state and when it is next due (None: not due, out of the index).
        Returns the state it replaced (in the same call: UpdateItem's UPDATED_OLD).

        With `version` (text that sorts by age), the write only replaces a record of the same or
        an older version; otherwise it raises ConditionFailed with the record as it is."""
        key = item_key(item_type, item_id)
        update = Update(
            sets=["item_type = :type", "item_id = :id"], values={":type": item_type, ":id": item_id}
        )
        update.set_or_remove(state)
        if due_at is None:
            update.removes += ["due_at", "due_shard"]
        else:
            update.sets += ["due_at = :due", "due_shard = :shard"]
            update.values.update({":due": format_due(due_at), ":shard": self.shard_of(key)})
        options: dict[str, Any] = {"ReturnValues": "UPDATED_OLD"}
        if version is not None:
            # `held_version`: a name of our own (a bare `version` may be a reserved word one day).
            update.sets.append("held_version = :version")
            update.values[":version"] = version
            options["ConditionExpression"] = "attribute_not_exists(held_version) OR held_version <= :version"
            options["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            old = self._update({"item_key": key}, update, **options)
        except ConditionFailed as failed:
            # moto and older SDKs may not return the item with the failure.
            raise ConditionFailed(failed.item or self._get({"item_key": key})) from failed
        return {k: v for k, v in old.items() if k in _STATE_ATTRIBUTES}

    # -- the sweep's side --------------------------------------------------------------------

    @property
    def shard_count(self) -> int:
        return self._shards

    def due(self, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        for shard in range(self._shards):
            yield from self.due_in(shard, now, stats)

    def due_in(self, shard: int, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        """What is due at `now` in one shard. It uses nothing but the client, which boto3 makes
        thread-safe: several workers may read their shards at once."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=self._index,
            KeyConditionExpression="due_shard = :shard AND due_at <= :now",
            ExpressionAttributeValues=to_item({":shard": str(shard), ":now": format_due(now)}),
        )
        for page in pages:
            stats.queries += 1
            stats.items_read += page.get("ScannedCount", 0)
            for item in map(to_python, page.get("Items", [])):
                # DueIndex projects the keys and SWEPT_STATE only (template.yaml): the type and id
                # are read from the key, which is made of them.
                item_type, _, item_id = str(item["item_key"]).partition("#")
                yield DueRecord(
                    item_key=item["item_key"],
                    item_type=cast(ItemType, item_type),
                    item_id=item_id,
                    due_at=item["due_at"],
                    state={k: v for k, v in item.items() if k in SWEPT_STATE},
                )

    def advance(self, record: DueRecord, next_due: datetime | None, state: dict[str, Any]) -> bool:
        """Record the sweep's work; False if the indexer re-scheduled the item meanwhile."""
        update = Update(values={":read_due": record.due_at}).set_or_remove(state)
        if next_due is None:
            update.removes += ["due_at", "due_shard"]
        else:
            update.sets.append("due_at = :next_due")
            update.values[":next_due"] = format_due(next_due)
        return self._update_as_read(record, update)

    def quarantine(self, record: DueRecord, reason: str) -> None:
        """Take an item that breaks the contract out of the index until the business changes it."""
        update = Update(
            sets=["quarantined = :reason"],
            removes=["due_at", "due_shard"],
            values={":reason": reason, ":read_due": record.due_at},
        )
        self._update_as_read(record, update)

    def forget(self, record: DueRecord) -> None:
        """Delete the item, unless it changed since the sweep read it.

        One conditional DeleteItem per item, not BatchWriteItem (25 a call): a batch delete takes
        no condition. A released held notice may be held again before its delete (delivery takes
        it off the queue at once, and a cap or a newer notice of its story holds it, later); the
        condition keeps that hold, an unconditional delete would lose its notice."""
        with suppress(ConditionFailed), condition_checked():
            self._client.delete_item(
                TableName=self._table,
                Key=to_item({"item_key": record.item_key}),
                ConditionExpression=_AS_READ,
                ExpressionAttributeValues=to_item({":read_due": record.due_at}),
            )

    def _update_as_read(self, record: DueRecord, update: Update) -> bool:
        """Apply `update` only if the item is still due when the sweep read it."""
        try:
            self._update({"item_key": record.item_key}, update, ConditionExpression=_AS_READ)
        except ConditionFailed:
            return False
        return True


# The indexer may have re-scheduled the item since the sweep read it (the business changed it);
# its newer due time wins.
_AS_READ = "due_at = :read_due"
_STATE_ATTRIBUTES = frozenset(
    {"promise", "level", "deadline", "late_eta", "late_news", "stream_seq", "request"}
)
# What the sweep reads of each due item: DueIndex's NonKeyAttributes in template.yaml (a test keeps
# the two in step). `stream_seq` is left out: the visit detector rewrites it with every record,
# and an index projecting it would be written each time too.
SWEPT_STATE = _STATE_ATTRIBUTES - {"stream_seq"}
