"""PreferencesTable: per customer, the topics and channels they opted out of, and a suppressed
email address (after a bounce or complaint). headsup keeps it; delivery reads it before every send."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import boto3

from headsup.adapters.dynamodb import PrefetchCache
from headsup.domain.preferences import Preferences

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class PreferenceStore(Protocol):
    def get(self, customer_id: str) -> Preferences: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None: ...

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None: ...


class DynamoPreferenceStore:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._prefetched = PrefetchCache("customer_id")

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Read the batch's preferences in one call; `get` then serves them (this batch only)."""
        self._prefetched.fill(self._client, self._table, ((i,) for i in customer_ids))

    def get(self, customer_id: str) -> Preferences:
        fetched, prefetched = self._prefetched.lookup(customer_id)
        if fetched:
            item = prefetched or {}
        else:
            response = self._client.get_item(
                TableName=self._table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True
            )
            item = response.get("Item", {})
        return Preferences(
            customer_id=customer_id,
            opted_out_topics=frozenset(item.get("opted_out_topics", {}).get("SS", [])),
            opted_out_channels=frozenset(item.get("opted_out_channels", {}).get("SS", [])),
            suppressed_email=item.get("suppressed_email", {}).get("S"),
        )

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        """Idempotent: adding a topic to a set it is already in changes nothing."""
        self._prefetched.forget(customer_id)
        self._client.update_item(
            TableName=self._table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression="ADD opted_out_topics :topic SET updated_at = :now, last_change = :source",
            ExpressionAttributeValues={
                ":topic": {"SS": [topic]},
                ":now": {"S": now.isoformat()},
                ":source": {"S": source},
            },
        )

    def opt_out_channel(self, customer_id: str, channel: str, *, source: str, now: datetime) -> None:
        self._prefetched.forget(customer_id)
        self._client.update_item(
            TableName=self._table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression="ADD opted_out_channels :channel SET updated_at = :now, last_change = :source",
            ExpressionAttributeValues={
                ":channel": {"SS": [channel]},
                ":now": {"S": now.isoformat()},
                ":source": {"S": source},
            },
        )

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        self._prefetched.forget(customer_id)
        self._client.update_item(
            TableName=self._table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression=(
                "SET suppressed_email = :address, suppressed_reason = :reason, updated_at = :now"
            ),
            ExpressionAttributeValues={
                ":address": {"S": address},
                ":reason": {"S": reason},
                ":now": {"S": now.isoformat()},
            },
        )
