"""The customer's sent log (domain/sent_log.py) on their PreferencesTable item.

Two attributes beside the preferences: `sent_log` (notice id -> ISO time of the send) and
`sent_log_version` (a number; absent until the first send). Read from the item delivery already
prefetches with the customer; written only as part of a claim's transaction (the ledger builds
it from `admit`), or to give a place back when an admitted notice did not reach the customer.
The preference page's saves never touch either attribute, and these writes never touch `revision`,
so a save and a send for the same customer never make each other retry.
"""

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol

from headsup.adapters.dynamodb import ConditionFailed, DynamoTable, Update, aware_time, to_item
from headsup.domain.sent_log import SentLog
from headsup.platform.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SENT_LOG: Final = "sent_log"
SENT_LOG_VERSION: Final = "sent_log_version"


class CustomerItems(Protocol):
    """The customer's PreferencesTable item as this invocation read it (DynamoPreferenceStore)."""

    def item(self, customer_id: str) -> Mapping[str, Any] | None: ...

    def forget(self, customer_id: str) -> None: ...


class DynamoSentLogs(DynamoTable):
    def __init__(
        self,
        table_name: str,
        items: CustomerItems,
        *,
        keep: int,
        client: "DynamoDBClient | None" = None,
    ) -> None:
        super().__init__(table_name, client)
        self._items = items
        self._keep = keep  # the daily cap: the newest `keep` sends decide when a place frees

    def read(self, customer_id: str) -> SentLog:
        return sent_log_from_item(customer_id, self._items.item(customer_id) or {})

    def changed(self, customer_id: str) -> None:
        """The log read for this customer is stale: the next read goes to the table."""
        self._items.forget(customer_id)

    def admit(self, customer_id: str, log: SentLog, notice_id: str, at: datetime) -> dict[str, Any]:
        """The TransactWriteItems entry that records `notice_id` in the customer's log, on
        condition that the log is still at the version it was read at."""
        entries = log.admitting(notice_id, at, keep=self._keep)
        update = Update(
            sets=[f"{SENT_LOG} = :log", f"{SENT_LOG_VERSION} = :next"],
            values={
                ":log": {notice: sent.isoformat() for notice, sent in entries.items()},
                ":next": log.version + 1,
            },
        )
        if log.version:
            condition = f"{SENT_LOG_VERSION} = :read"
            update.values[":read"] = log.version
        else:
            condition = f"attribute_not_exists({SENT_LOG_VERSION})"
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item({"customer_id": customer_id}),
                "ConditionExpression": condition,
                **update.request(),
            }
        }

    def give_back(self, customer_id: str, notice_id: str) -> None:
        """Take `notice_id` out of the log: it was admitted but did not reach the customer (it
        failed, was dead-lettered, or will be decided again). The version moves on, so a delivery
        that read the log with it decides again rather than write it back."""
        update = Update(
            removes=[f"{SENT_LOG}.#notice"],
            adds=[f"{SENT_LOG_VERSION} :one"],
            values={":one": 1},
            names={"#notice": notice_id},
        )
        self._items.forget(customer_id)
        with suppress(ConditionFailed):  # not in the log (given back already, or aged out)
            self._update(
                {"customer_id": customer_id},
                update,
                ConditionExpression=f"attribute_exists({SENT_LOG}.#notice)",
            )


def sent_log_from_item(customer_id: str, item: Mapping[str, Any]) -> SentLog:
    """The log as stored; an entry that is not a readable time is left out (logged with the id)."""
    raw = item.get(SENT_LOG)
    entries: dict[str, datetime] = {}
    if isinstance(raw, Mapping):
        for notice_id, value in raw.items():
            sent = aware_time(value)
            if sent is None:
                logger.warning("Unreadable sent-log entry ignored", extra={"customer_id": customer_id})
                continue
            entries[str(notice_id)] = sent
    version = item.get(SENT_LOG_VERSION)  # a Decimal, as boto3 reads numbers
    return SentLog(entries, int(version) if isinstance(version, Decimal | int) else 0)
