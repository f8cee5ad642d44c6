"""PreferencesTable: per customer, the topics and channels they opted out of, and a suppressed
email address (after a bounce or complaint). headsup keeps it; delivery reads it before every send."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from headsup.adapters.dynamodb import BatchReads, DynamoTable, PrefetchCache, Update
from headsup.domain.preferences import Preferences

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class PreferenceStore(Protocol):
    def get(self, customer_id: str) -> Preferences: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None: ...

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None: ...


class DynamoPreferenceStore(DynamoTable):
    def __init__(
        self, table_name: str, client: "DynamoDBClient | None" = None, reads: BatchReads | None = None
    ) -> None:
        super().__init__(table_name, client)
        self._prefetched = PrefetchCache("customer_id")
        self._reads = reads  # prefetches go with other tables' when given

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Read the batch's preferences in one call; `get` then serves them (this batch only)."""
        self._prefetched.fill(self._client, self._table, ((i,) for i in customer_ids), self._reads)

    def get(self, customer_id: str) -> Preferences:
        fetched, item = self._prefetched.lookup(customer_id)
        if not fetched:
            item = self._get({"customer_id": customer_id})
        item = item or {}
        return Preferences(
            customer_id=customer_id,
            opted_out_topics=frozenset(item.get("opted_out_topics", ())),
            opted_out_channels=frozenset(item.get("opted_out_channels", ())),
            suppressed_email=item.get("suppressed_email"),
        )

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        """Idempotent: adding a topic to a set it is already in changes nothing."""
        self._opt_out(customer_id, "opted_out_topics", topic, source=source, now=now)

    def opt_out_channel(self, customer_id: str, channel: str, *, source: str, now: datetime) -> None:
        self._opt_out(customer_id, "opted_out_channels", channel, source=source, now=now)

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        update = Update(
            sets=["suppressed_email = :address", "suppressed_reason = :reason", "updated_at = :now"],
            values={":address": address, ":reason": reason, ":now": now.isoformat()},
        )
        self._change(customer_id, update)

    def _opt_out(self, customer_id: str, attribute: str, entry: str, *, source: str, now: datetime) -> None:
        """Add `entry` to the customer's opted-out set `attribute`."""
        update = Update(
            sets=["updated_at = :now", "last_change = :source"],
            adds=[f"{attribute} :entry"],
            values={":entry": {entry}, ":now": now.isoformat(), ":source": source},
        )
        self._change(customer_id, update)

    def _change(self, customer_id: str, update: Update) -> None:
        # What this batch prefetched no longer holds for this customer.
        self._prefetched.forget(customer_id)
        self._update({"customer_id": customer_id}, update)
