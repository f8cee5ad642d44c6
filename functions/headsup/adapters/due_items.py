"""DueItemsTable: one record per watched callback or ticket, and the sparse index of what is due.

`due_shard` and `due_at` are present only while something is due, so DueIndex holds exactly
the items a sweep may have to act on. Each shard is queried for `due_at <= now`: a sweep reads
the due items and nothing else, however large the tables grow. Items are spread over
`DUE_INDEX_SHARDS` partitions by a hash of their key, so no single partition runs hot.
"""

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ItemType = Literal["callback", "ticket", "visit", "held"]
_deserializer = TypeDeserializer()
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


class DueItemsIndex(Protocol):
    """What the indexer needs: set or clear an item's first due time."""

    def schedule(
        self, item_type: ItemType, item_id: str, due_at: datetime, *, promise: datetime | None = None
    ) -> None: ...

    def unschedule(self, item_type: ItemType, item_id: str) -> None: ...


class DynamoDueItems:
    def __init__(
        self,
        table_name: str,
        shards: int,
        index_name: str = "DueIndex",
        client: "DynamoDBClient | None" = None,
    ) -> None:
        self._table = table_name
        self._shards = shards
        self._index = index_name
        self._client = client or boto3.client("dynamodb")

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
        values: dict[str, Any] = {
            ":type": {"S": item_type},
            ":id": {"S": item_id},
            ":shard": {"S": self.shard_of(key)},
            ":due": {"S": format_due(due_at)},
        }
        condition = None
        if promise is not None:
            # In UTC, so the same moment written with another offset is the same promise.
            values[":promise"] = {"S": promise.astimezone(UTC).isoformat()}
            condition = "attribute_not_exists(promise) OR promise = :promise"
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"item_key": {"S": key}},
            "UpdateExpression": (
                "SET item_type = :type, item_id = :id, due_shard = :shard, due_at = :due"
                + (", promise = :promise" if promise is not None else "")
                + " REMOVE quarantined"
            ),
            "ExpressionAttributeValues": values,
        }
        if condition:
            request["ConditionExpression"] = condition
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = {
                "item_key": {"S": key},
                "item_type": values[":type"],
                "item_id": values[":id"],
                "due_shard": values[":shard"],
                "due_at": values[":due"],
                "promise": values[":promise"],
            }
            self._client.put_item(TableName=self._table, Item=item)

    def unschedule(self, item_type: ItemType, item_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key={"item_key": {"S": item_key(item_type, item_id)}})

    def state_of(self, item_type: ItemType, item_id: str) -> dict[str, Any]:
        """What the sweep or a detector recorded about the item (e.g. a visit's `late_eta`)."""
        response = self._client.get_item(
            TableName=self._table, Key={"item_key": {"S": item_key(item_type, item_id)}}, ConsistentRead=True
        )
        raw = response.get("Item", {})
        return {k: _deserializer.deserialize(v) for k, v in raw.items() if k in _STATE_ATTRIBUTES}

    def track(
        self, item_type: ItemType, item_id: str, due_at: datetime | None, state: dict[str, Any]
    ) -> None:
        """Record the item's state and when it is next due (None: not due, out of the index)."""
        key = item_key(item_type, item_id)
        names = {f"#{name}": name for name in state}
        sets = ["item_type = :type", "item_id = :id"]
        sets += [f"#{name} = :{name}" for name, value in state.items() if value is not None]
        removes = [f"#{name}" for name, value in state.items() if value is None]
        values: dict[str, Any] = {":type": {"S": item_type}, ":id": {"S": item_id}}
        values.update({f":{name}": _attribute(value) for name, value in state.items() if value is not None})
        if due_at is None:
            removes += ["due_at", "due_shard"]
        else:
            sets += ["due_at = :due", "due_shard = :shard"]
            values[":due"] = {"S": format_due(due_at)}
            values[":shard"] = {"S": self.shard_of(key)}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"item_key": {"S": key}},
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        self._client.update_item(**request)

    # -- the sweep's side --------------------------------------------------------------------

    def due(self, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        bound = format_due(now)
        for shard in range(self._shards):
            paginator = self._client.get_paginator("query")
            pages = paginator.paginate(
                TableName=self._table,
                IndexName=self._index,
                KeyConditionExpression="due_shard = :shard AND due_at <= :now",
                ExpressionAttributeValues={":shard": {"S": str(shard)}, ":now": {"S": bound}},
            )
            for page in pages:
                stats.queries += 1
                stats.items_read += page.get("ScannedCount", 0)
                for raw in page.get("Items", []):
                    item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
                    yield DueRecord(
                        item_key=item["item_key"],
                        item_type=item["item_type"],
                        item_id=item["item_id"],
                        due_at=item["due_at"],
                        state={k: v for k, v in item.items() if k in _STATE_ATTRIBUTES},
                    )

    def advance(self, record: DueRecord, next_due: datetime | None, state: dict[str, Any]) -> bool:
        """Record the sweep's work; False if the indexer re-scheduled the item meanwhile."""
        # Names go through placeholders: some (like `level`) are DynamoDB reserved words.
        names = {f"#{name}": name for name in state}
        sets = [f"#{name} = :{name}" for name, value in state.items() if value is not None]
        removes = [f"#{name}" for name, value in state.items() if value is None]
        values: dict[str, Any] = {
            f":{name}": _attribute(value) for name, value in state.items() if value is not None
        }
        values[":read_due"] = {"S": record.due_at}
        if next_due is None:
            removes += ["due_at", "due_shard"]
        else:
            sets += ["due_at = :next_due"]
            values[":next_due"] = {"S": format_due(next_due)}
        return self._conditional_update(record, sets, removes, values, names)

    def quarantine(self, record: DueRecord, reason: str) -> None:
        """Take an item that breaks the contract out of the index until the business changes it."""
        self._conditional_update(
            record,
            ["quarantined = :reason"],
            ["due_at", "due_shard"],
            {":reason": {"S": reason}, ":read_due": {"S": record.due_at}},
        )

    def forget(self, record: DueRecord) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"item_key": {"S": record.item_key}},
                ConditionExpression="due_at = :read_due",
                ExpressionAttributeValues={":read_due": {"S": record.due_at}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _conditional_update(
        self,
        record: DueRecord,
        sets: list[str],
        removes: list[str],
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"item_key": {"S": record.item_key}},
            "UpdateExpression": expression.strip(),
            # The indexer may have re-scheduled the item since we read it (the business changed
            # it); its newer due time wins.
            "ConditionExpression": "due_at = :read_due",
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True


_STATE_ATTRIBUTES = frozenset({"promise", "level", "deadline", "late_eta", "request"})


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}
