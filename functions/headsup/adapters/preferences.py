"""PreferencesTable: per customer, what they opted out of (topics, channels, a topic on one channel),
a pause, a preferred language, a suppressed email address (after a bounce or complaint), and the
history of how it came to be. headsup keeps it; delivery reads it before every send.

Every change appends one entry to the item's `changes` list (when, from where, what), so the
business can tell why a customer stopped getting a topic. A write that would change nothing (a
repeated one-click, a replayed bounce, the same choices saved twice) is not made at all: a replay
can neither grow the history nor push the entry that explains the opt-out out of it.
"""

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from headsup.adapters.dynamodb import (
    BatchReads,
    ConditionFailed,
    DynamoTable,
    PrefetchCache,
    Update,
    aware_time,
)
from headsup.domain.preferences import (
    MAX_CHANGES,
    Change,
    ChangeSource,
    Preferences,
    changes_between,
)
from headsup.platform.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A customer saving their choices while a one-click or a bounce lands for them: read again and
# re-apply their choices on what is there now, a few times, rather than overwrite it.
_SAVE_ATTEMPTS: Final = 3


class ConcurrentChange(RuntimeError):
    """The customer's item kept changing under a save: nothing of the save was written."""


class PreferenceStore(Protocol):
    def get(self, customer_id: str) -> Preferences: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None: ...

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class Saved:
    preferences: Preferences  # as they are now
    what: tuple[str, ...]  # what changed; empty when nothing did (and nothing was written)


class PreferenceEditor(PreferenceStore, Protocol):
    """The preference page's store: it also saves a customer's choices as a whole."""

    def change(
        self, customer_id: str, edit: Callable[[Preferences], Preferences], *, source: str, now: datetime
    ) -> Saved: ...


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
        return preferences_from_item(customer_id, self.item(customer_id) or {})

    def item(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's item as this batch read it (or now, strongly consistent, if it did not):
        their preferences, and their sent log (adapters/sent_log.py)."""
        fetched, item = self._prefetched.lookup(customer_id)
        if not fetched:
            item = self._get({"customer_id": customer_id})
        return item

    def forget(self, customer_id: str) -> None:
        """What this batch read of the customer changed: the next `item` reads it again."""
        self._prefetched.forget(customer_id)

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        """Idempotent: a topic already opted out of is not written again."""
        self._opt_out(customer_id, "opted_out_topics", topic, Change(now, source, (f"{topic}: off",)))

    def opt_out_channel(self, customer_id: str, channel: str, *, source: str, now: datetime) -> None:
        self._opt_out(customer_id, "opted_out_channels", channel, Change(now, source, (f"{channel}: off",)))

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        """Idempotent: the same address for the same reason is not written again. `reason` is SES's
        (`complaint`, `bounce:Permanent`); its first word is the change's source."""
        source = ChangeSource.COMPLAINT if reason.startswith("complaint") else ChangeSource.BOUNCE
        update = Update(
            sets=["suppressed_email = :address", "suppressed_reason = :reason"],
            values={":address": address, ":reason": reason},
        )
        self._record(
            customer_id,
            update,
            Change(now, source, (f"email suppressed ({reason})",)),  # the reason, never the address
            condition=(
                "attribute_not_exists(suppressed_email) OR attribute_not_exists(suppressed_reason)"
                " OR suppressed_email <> :address OR suppressed_reason <> :reason"
            ),
        )

    def change(
        self, customer_id: str, edit: Callable[[Preferences], Preferences], *, source: str, now: datetime
    ) -> Saved:
        """Save `edit(preferences as they are)` in one write, if it changes anything.

        Read, edit and write under a condition on the item's `revision`, which every write bumps:
        a change that lands in between (a one-click, a bounce) makes the write fail, and the edit
        is applied again to what is there now. Raises ConcurrentChange after a few such attempts.
        """
        for _ in range(_SAVE_ATTEMPTS):
            item = self._get({"customer_id": customer_id}) or {}
            before = preferences_from_item(customer_id, item)
            after = edit(before)
            what = changes_between(before, after, now)
            if not what:
                return Saved(before, ())
            seen = item.get("revision")
            update = Update(values={} if seen is None else {":seen": seen}).set_or_remove(_state(after))
            condition = "attribute_not_exists(revision)" if seen is None else "revision = :seen"
            if self._record(customer_id, update, Change(now, source, what), condition=condition):
                return Saved(after, what)
        raise ConcurrentChange(f"preferences of customer {customer_id} kept changing during a save")

    def _opt_out(self, customer_id: str, attribute: str, entry: str, change: Change) -> None:
        """Add `entry` to the customer's opted-out set `attribute`, unless it is there already."""
        update = Update(adds=[f"{attribute} :entry"], values={":entry": {entry}, ":entry_name": entry})
        self._record(customer_id, update, change, condition=f"NOT contains({attribute}, :entry_name)")

    def _record(self, customer_id: str, update: Update, change: Change, *, condition: str) -> bool:
        """Write `update` with `change` appended to the history, if `condition` holds; False if not
        (nothing was written)."""
        update.sets += [
            "updated_at = :now",
            "last_change = :source",
            "changes = list_append(if_not_exists(changes, :no_changes), :change)",
        ]
        update.adds.append("revision :one")
        update.values |= {
            ":now": change.at.isoformat(),
            ":source": change.source,
            ":no_changes": [],
            ":change": [{"at": change.at.isoformat(), "source": change.source, "what": list(change.what)}],
            ":one": 1,
        }
        # What this batch prefetched no longer holds for this customer.
        self._prefetched.forget(customer_id)
        try:
            written = self._update(
                {"customer_id": customer_id},
                update,
                ConditionExpression=condition,
                ReturnValues="UPDATED_NEW",
            )
        except ConditionFailed:
            return False
        self._trim(customer_id, len(written.get("changes", ())))
        return True

    def _trim(self, customer_id: str, length: int) -> None:
        """Drop the oldest entries beyond MAX_CHANGES. Only if the list is still as long as this
        write left it: two writers trimming at once must not both drop the same number of entries."""
        excess = length - MAX_CHANGES
        if excess <= 0:
            return
        update = Update(removes=[f"changes[{i}]" for i in range(excess)], values={":length": length})
        # If another write changed the list meanwhile, the next write trims it.
        with contextlib.suppress(ConditionFailed):
            self._update({"customer_id": customer_id}, update, ConditionExpression="size(changes) = :length")


def _state(preferences: Preferences) -> dict[str, Any]:
    """The attributes a save writes; None removes one (DynamoDB has no empty sets)."""
    return {
        "opted_out_topics": set(preferences.opted_out_topics) or None,
        "opted_out_channels": set(preferences.opted_out_channels) or None,
        "opted_out_topic_channels": set(preferences.opted_out_topic_channels) or None,
        "paused_until": None if preferences.paused_until is None else preferences.paused_until.isoformat(),
        "language": preferences.language,
    }


def preferences_from_item(customer_id: str, item: Mapping[str, Any]) -> Preferences:
    """An item as read (plain values). Attributes the item lacks mean what they meant before they
    existed; one that is unreadable (written by hand) is ignored, with the customer id logged."""
    return Preferences(
        customer_id=customer_id,
        opted_out_topics=_strings(item.get("opted_out_topics")),
        opted_out_channels=_strings(item.get("opted_out_channels")),
        suppressed_email=item.get("suppressed_email"),
        opted_out_topic_channels=_strings(item.get("opted_out_topic_channels")),
        paused_until=_instant(item.get("paused_until"), customer_id),
        language=item.get("language") if isinstance(item.get("language"), str) else None,
    )


def _strings(value: object) -> frozenset[str]:
    if isinstance(value, set | frozenset | list | tuple):
        return frozenset(str(entry) for entry in value)
    return frozenset()  # a string here is not a set of its letters


def _instant(value: object, customer_id: str) -> datetime | None:
    if value is None:
        return None
    instant = aware_time(value)
    if instant is None:
        logger.warning("Unreadable paused_until ignored", extra={"customer_id": customer_id})
        return None
    return instant
