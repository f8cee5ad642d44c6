"""DynamoDB transactions on moto without a copy of every table they touch.

moto's `transact_write_items` deep-copies each table a transaction names before applying it, so
that it can put the tables back if an item's condition fails part-way. Delivery claims every notice
it sends in a transaction (the ledger item and the customer's sent log): on a busy day that is a
copy of the whole ledger per notice, quadratic time, and over a gigabyte for a 1,000-record batch.

DynamoDB checks every condition of a transaction before it writes anything. Doing the same here
first, a transaction whose conditions fail is cancelled exactly as moto would cancel it (same
reasons, same old items), having written nothing; one whose conditions all hold is then applied by
moto itself, with the copy taken out (nothing will need putting back). What is written, the
stream records and the errors are moto's own. One difference is left: an item whose expression is
invalid, after items already applied, leaves those applied (moto would put them back); that is a
programming error, which fails the call either way.
"""

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

_original = DynamoDBBackend.transact_write_items
_lock = threading.Lock()


class _NoCopy:
    """Stands in for the `copy` module inside moto's transaction: a table is not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value


@contextmanager
def _tables_not_copied() -> Iterator[None]:
    with _lock:
        dynamodb_models.copy = _NoCopy  # type: ignore[attr-defined,assignment]
        try:
            yield
        finally:
            dynamodb_models.copy = copy  # type: ignore[attr-defined]


def _conditions_first(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    reasons: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for entry in transact_items:
        if len(entry) != 1:
            return _original(self, transact_items)  # moto's own error for a malformed entry
        kind, operation = next(iter(entry.items()))
        table = self.get_table(operation["TableName"])
        if kind == "Put":
            attributes = operation["Item"]
            key = {table.hash_key_attr: attributes[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attributes[table.range_key_attr]
        else:
            key = operation["Key"]
        condition = operation.get("ConditionExpression")
        current = self.get_item(operation["TableName"], key)
        if condition is not None and not get_filter_expression(
            condition, operation.get("ExpressionAttributeNames"), operation.get("ExpressionAttributeValues")
        ).expr(current):
            old = (
                current.to_json()["Attributes"]
                if current and operation.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                else None
            )
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))  # type: ignore[arg-type]
        else:
            reasons.append((None, None, None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    with _tables_not_copied():
        return _original(self, transact_items)


def install() -> None:
    """Idempotent: every local run (tests, `headsup simulate`, the benchmarks) uses it."""
    DynamoDBBackend.transact_write_items = _conditions_first  # type: ignore[method-assign]
