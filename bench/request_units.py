"""The DynamoDB request units the functions' calls consume, by DynamoDB's own rules, from the items'
real sizes (shared by the benchmarks; docs/cost.md, "Method", states the rules).

`RequestUnits` is a `bench.calls.Watcher`: before each write it reads the items the write will
change straight from moto's backend (not through boto3, so the read is neither counted nor billed),
and after it reads them again. Then, as DynamoDB bills on-demand writes:

- the table: ceil(max(size before, size after) / 1 KB) write units, at least one, for each item a
  PutItem, UpdateItem, DeleteItem or BatchWriteItem request writes; twice that for each item of a
  TransactWriteItems (DynamoDB prepares and commits every item, a ConditionCheck's included);
  a write refused by its condition (or a transaction cancelled) is billed by the item as it is,
  at least one unit (twice for each item of a transaction), and writes no index;
- each secondary index, from the table's definition (its keys and projection): the item's entry
  before and after, which exists only while the item has every key attribute of the index and
  holds the table's keys, the index's keys and the projected attributes (KEYS_ONLY: none more,
  INCLUDE: its NonKeyAttributes, ALL: the whole item). No entry before nor after: nothing; an
  entry appears or disappears: one write of its size; same index key and the entry changed: one
  write of the larger; the index key changed: two, deleting the old entry and putting the new;
  nothing projected changed: nothing.

Reads are billed from what they return: GetItem ceil(size / 4 KB), at least one unit; Query and
Scan the sum of the sizes of the items read, rounded up per request; BatchGetItem each key on its
own (a key not found costs the minimum); all halved when eventually consistent (a query on a
global secondary index always is), doubled in TransactGetItems. The observer never raises into the
function it watches (bench.calls keeps its failures).
"""

import base64
import copy
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from emulator import Deployment

Item = dict[str, Any]  # attribute name -> typed value, {"S": "..."}

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
# What AWS bills although it refused the request: a write whose condition failed, and a transaction
# cancelled (each of its items is still prepared). Other refusals (validation) are not billed.
BILLED_REFUSALS = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
# Parameters after which a read's answer holds less than it read (filtered, projected, counted).
_PARTIAL_ANSWER = ("FilterExpression", "ProjectionExpression", "AttributesToGet", "Select")


# ---------------------------------------------------------------------- item sizes


def _number_size(text: str) -> int:
    """One byte per two significant digits (leading and trailing zeros trimmed), plus one."""
    digits = Decimal(text).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def _binary_size(data: Any) -> int:
    """The raw bytes: boto3 and moto hold them; on the wire they are base64."""
    return len(data) if isinstance(data, bytes | bytearray) else len(base64.b64decode(data))


# Type descriptor -> the bytes DynamoDB counts for a value of that type (its item size rules: a
# list or map costs 3 bytes, and each of its elements 1 more; a map's element also its name).
_SIZE_OF: dict[str, Callable[[Any], int]] = {
    "S": lambda data: len(str(data).encode()),
    "N": lambda data: _number_size(str(data)),
    "B": _binary_size,
    "BOOL": lambda data: 1,
    "NULL": lambda data: 1,
    "SS": lambda data: sum(len(item.encode()) for item in data),
    "NS": lambda data: sum(_number_size(item) for item in data),
    "BS": lambda data: sum(_binary_size(item) for item in data),
    "L": lambda data: 3 + sum(1 + attribute_size(item) for item in data),
    "M": lambda data: 3 + sum(len(name.encode()) + 1 + attribute_size(item) for name, item in data.items()),
}


def attribute_size(value: dict[str, Any]) -> int:
    """What DynamoDB counts for a typed value, e.g. {"S": "abc"} (its item size rules)."""
    ((kind, data),) = value.items()
    if kind not in _SIZE_OF:
        raise ValueError(f"unknown DynamoDB type {kind}")
    return _SIZE_OF[kind](data)


def item_size(item: Item) -> int:
    """An item's size: each attribute's name in UTF-8 bytes plus its value's size."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(*items: Item | None) -> int:
    """The write units of writing the largest of `items` (None: no item), at least one."""
    largest = max((item_size(item) for item in items if item is not None), default=0)
    return max(1, math.ceil(largest / WRITE_UNIT_BYTES))


def read_units(size: int) -> int:
    return max(1, math.ceil(size / READ_UNIT_BYTES))


# ---------------------------------------------------------------------- tables and their indexes


@dataclass(frozen=True)
class Index:
    """A secondary index as its table defines it: what an item's entry in it holds."""

    name: str
    keys: tuple[str, ...]
    projected: frozenset[str] | None  # the attributes an entry holds; None: all (ProjectionType ALL)

    def entry(self, item: Item | None) -> Item | None:
        """The item's entry in the index; None when it has not all the index's keys (sparse)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projected is None:
            return item
        return {name: value for name, value in item.items() if name in self.projected}

    def write_units(self, before: Item | None, after: Item | None) -> int:
        old, new = self.entry(before), self.entry(after)
        if old is None and new is None:
            return 0
        if old is None or new is None:  # the entry appears or disappears
            return write_units(old, new)
        if any(old[key] != new[key] for key in self.keys):  # moved: a delete and a put
            return write_units(old) + write_units(new)
        return 0 if old == new else write_units(old, new)


@dataclass(frozen=True)
class Table:
    logical_id: str
    keys: tuple[str, ...]  # the partition key, then the sort key if any
    indexes: tuple[Index, ...]

    def key_of(self, item_or_key: Item) -> Item:
        return {name: item_or_key[name] for name in self.keys}


def _indexes(table: Any) -> tuple[Index, ...]:
    """moto's table's secondary indexes (global and local), as the template defined them."""
    indexes = []
    for index in [*table.global_indexes, *table.indexes]:
        keys = tuple(key["AttributeName"] for key in index.schema)
        projection = index.projection or {}
        kind = projection.get("ProjectionType", "ALL")
        projected = None
        if kind != "ALL":
            extra = projection.get("NonKeyAttributes", []) if kind == "INCLUDE" else []
            projected = frozenset([*table.table_key_attrs, *keys, *extra])
        indexes.append(Index(index.name, keys, projected))
    return tuple(indexes)


@dataclass(frozen=True)
class _Write:
    """One item a write request touches, as it was before the request."""

    table: str  # physical name
    key: Item
    check_only: bool  # a ConditionCheck: billed, changes nothing
    factor: int  # 2 in a transaction
    before: Item | None


# ---------------------------------------------------------------------- the estimator


class RequestUnits:
    """Read and write request units of the functions' DynamoDB calls, by table and by index."""

    def __init__(self, deployment: Deployment) -> None:
        self._backend = dynamodb_backends[deployment.account_id][deployment.region]
        self._logical_of = {
            deployment.ref(logical_id): logical_id
            for logical_id, resource in deployment.resources.items()
            if resource.get("Type") == "AWS::DynamoDB::Table"
        }
        self._tables: dict[str, Table] = {}
        self.read_units: defaultdict[str, float] = defaultdict(float)  # table or "table.index" -> RRU
        self.write_units: Counter[str] = Counter()  # table -> WRU
        self.index_units: Counter[str] = Counter()  # "table.index" -> WRU
        self.items_written: Counter[str] = Counter()  # table -> items billed a write
        # "function Operation" -> units, what each call of each function costs
        self.read_units_by_call: defaultdict[str, float] = defaultdict(float)
        self.write_units_by_call: Counter[str] = Counter()
        self.refused_unbilled: Counter[str] = Counter()  # "Operation ErrorCode"
        self.partial_answers: Counter[str] = Counter()  # reads sized from an answer that holds less
        self.unpriced: Counter[str] = Counter()  # operations with no rule here (reported)

    # -------------------------------------------------------------- bench.calls.Watcher

    def before(self, function: str, service: str, operation: str, params: dict[str, Any]) -> Any:
        if service != "dynamodb" or operation not in WRITES:
            return None
        return [
            _Write(name, key, check_only, factor, self._stored(name, key))
            for name, key, check_only, factor in self._touched(operation, params)
        ]

    def after(  # noqa: PLR0913 - bench.calls.Watcher's signature
        self, function: str, service: str, operation: str, params: dict[str, Any], response: Any, seen: Any
    ) -> None:
        if service != "dynamodb":
            return
        error = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        if operation in WRITES:
            self._charge_writes(f"{function} {operation}", operation, response, error, seen)
        elif operation not in READS:
            self.unpriced[operation] += 1
        elif error is not None:
            self.refused_unbilled[f"{operation} {error}"] += 1
        else:
            self._charge_reads(f"{function} {operation}", operation, params, response)

    # -------------------------------------------------------------- writes

    def _touched(self, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, Item, bool, int]]:
        """(table, key, condition check only, factor) of each item the write request names."""
        if operation == "PutItem":
            yield params["TableName"], self._table(params["TableName"]).key_of(params["Item"]), False, 1
        elif operation in ("UpdateItem", "DeleteItem"):
            yield params["TableName"], self._table(params["TableName"]).key_of(params["Key"]), False, 1
        elif operation == "BatchWriteItem":
            for name, requests in params["RequestItems"].items():
                for request in requests:
                    yield name, self._table(name).key_of(_named(request)), False, 1
        else:  # TransactWriteItems
            for entry in params["TransactItems"]:
                ((action, body),) = entry.items()
                named = body.get("Item") or body["Key"]
                yield (
                    body["TableName"],
                    self._table(body["TableName"]).key_of(named),
                    action == "ConditionCheck",
                    2,
                )

    def _charge_writes(
        self, call: str, operation: str, response: Any, error: str | None, seen: list[_Write] | None
    ) -> None:
        if seen is None:
            raise ValueError(f"{operation}: the items were not read before the write")
        if error is not None and error not in BILLED_REFUSALS:
            self.refused_unbilled[f"{operation} {error}"] += 1
            return
        unprocessed = self._unprocessed(response) if error is None else set()
        for write in seen:
            if (write.table, _key_text(write.key)) in unprocessed:
                continue
            table = self._table(write.table)
            if error is None and not write.check_only:
                after = self._stored(write.table, write.key)
                units = write_units(write.before, after)
                for index in table.indexes:
                    index_units = index.write_units(write.before, after)
                    self.index_units[f"{table.logical_id}.{index.name}"] += index_units
                    self.write_units_by_call[call] += index_units
            else:  # a condition check, or a write refused by its condition: billed as the item is
                units = write_units(write.before)
            self.write_units[table.logical_id] += write.factor * units
            self.write_units_by_call[call] += write.factor * units
            self.items_written[table.logical_id] += 1

    def _unprocessed(self, response: Any) -> set[tuple[str, str]]:
        """(table, key) of each item a BatchWriteItem left unprocessed: not written, not billed."""
        return {
            (name, _key_text(self._table(name).key_of(_named(request))))
            for name, requests in (response.get("UnprocessedItems") or {}).items()
            for request in requests
        }

    def _stored(self, physical_name: str, key: Item) -> Item | None:
        """The item as moto holds it now, read from its backend (no API call), copied."""
        table = self._backend.get_table(physical_name)
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_key, range_key)
        return None if item is None else copy.deepcopy(item.to_json()["Attributes"])

    def _table(self, physical_name: str) -> Table:
        if physical_name not in self._tables:
            table = self._backend.get_table(physical_name)
            self._tables[physical_name] = Table(
                self._logical_of.get(physical_name, physical_name),
                tuple(table.table_key_attrs),
                _indexes(table),
            )
        return self._tables[physical_name]

    # -------------------------------------------------------------- reads

    def _charge_reads(self, call: str, operation: str, params: dict[str, Any], response: Any) -> None:
        if any(params.get(name) for name in _PARTIAL_ANSWER):
            self.partial_answers[operation] += 1
        if operation == "BatchGetItem":
            for name, request in params.get("RequestItems", {}).items():
                self._charge_batch_read(call, name, request, response)
            return
        if operation == "TransactGetItems":
            for entry, answer in zip(params["TransactItems"], response.get("Responses", []), strict=False):
                units = 2.0 * read_units(item_size(answer.get("Item", {})))
                self._charge_read(call, self._table(entry["Get"]["TableName"]).logical_id, units)
            return
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        if operation == "GetItem":
            units = read_units(item_size(response.get("Item", {})))
        else:  # Query, Scan: the items read, as one request
            units = read_units(sum(item_size(item) for item in response.get("Items", [])))
        where = self._table(params["TableName"]).logical_id
        if params.get("IndexName"):
            where += f".{params['IndexName']}"
        self._charge_read(call, where, units * factor)

    def _charge_batch_read(self, call: str, name: str, request: dict[str, Any], response: Any) -> None:
        """Each key on its own: an item found by its size, a key not found at the minimum."""
        items = response.get("Responses", {}).get(name, [])
        unprocessed = len(response.get("UnprocessedKeys", {}).get(name, {}).get("Keys", []))
        missing = max(0, len(request.get("Keys", [])) - len(items) - unprocessed)
        units = sum(read_units(item_size(item)) for item in items) + missing
        factor = 1.0 if request.get("ConsistentRead") else 0.5
        self._charge_read(call, self._table(name).logical_id, units * factor)

    def _charge_read(self, call: str, where: str, units: float) -> None:
        self.read_units[where] += units
        self.read_units_by_call[call] += units

    # -------------------------------------------------------------- totals

    def totals(self) -> tuple[float, float, dict[str, Any]]:
        """(RRU, WRU, detail)."""
        detail = {
            "read_units_by_table_or_index": dict(self.read_units),
            "write_units_by_table": dict(self.write_units),
            "write_units_by_index": {name: n for name, n in self.index_units.items() if n},
            "items_written_by_table": dict(self.items_written),
            "read_units_by_call": dict(self.read_units_by_call),
            "write_units_by_call": dict(self.write_units_by_call),
            "refused_and_not_billed": dict(self.refused_unbilled),
            "reads_sized_from_a_partial_answer": dict(self.partial_answers),
            "operations_without_a_unit_rule": dict(self.unpriced),
        }
        wru = sum(self.write_units.values()) + sum(self.index_units.values())
        return sum(self.read_units.values()), float(wru), detail


def _key_text(key: Item) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _named(request: dict[str, Any]) -> Item:
    """What a BatchWriteItem request names: the item it puts or the key it deletes."""
    if "PutRequest" in request:
        named: Item = request["PutRequest"]["Item"]
        return named
    key: Item = request["DeleteRequest"]["Key"]
    return key
