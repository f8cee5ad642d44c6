"""A customer's sent log: when their notices of the last day reached them. Pure.

The daily cap (domain/policy.py, rule 4) counts it. It is kept on the customer's own record
(PreferencesTable, beside what they opted out of) so that delivery reads it in the batch's one
BatchGetItem with the customer, and it is written in the same transaction as the claim of the
notice it admits, on condition that it is still the version that was read: of two deliveries for
one customer deciding at once, only one can take the last place under the cap; the other reads
the log again and decides again (held until a place frees). See docs/decisions.md.

It is bounded: a send older than a day no longer counts, and of the sends within the day only
the newest `keep` (the cap) decide when the next place frees.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class SentLog:
    """The log as read: notice id -> when it was sent, and the version it was read at."""

    entries: Mapping[str, datetime] = field(default_factory=dict)
    # 0: never written. Each write adds one, and is conditional on the version it read.
    version: int = 0

    def sent_within_day(self, now: datetime) -> list[datetime]:
        """When the sends of the last 24 hours went out, oldest first."""
        return sorted(sent for sent in self.entries.values() if now - sent < DAY)

    def admitting(self, notice_id: str, at: datetime, *, keep: int) -> dict[str, datetime]:
        """The entries once `notice_id` is sent at `at`: the sends of the day before `at`, newest
        `keep` of them (the notice itself always among them). Admitting the same notice twice (a
        retry) gives the same log, not a second place."""
        within = {notice: sent for notice, sent in self.entries.items() if at - sent < DAY}
        within[notice_id] = at
        newest = sorted(within.items(), key=lambda entry: (entry[1], entry[0]), reverse=True)
        kept = dict(newest[: max(keep, 1)])
        kept[notice_id] = at
        return kept


class SentLogChanged(RuntimeError):
    """The customer's sent log changed between the read and the claim: another delivery for the
    same customer was admitted (or a place was given back). Read it again and decide again."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        super().__init__(f"the sent log of customer {customer_id} changed before the claim")
