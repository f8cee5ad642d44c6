"""Sending at the account's own pace: the rules, without AWS.

SES allows an account a maximum sending rate (emails per second) and a 24-hour quota, both read
from the account itself (GetAccount). Every concurrent delivery shares them, so the pace is a
bucket all of them draw from (adapters/pace.py keeps it in DynamoDB). Two lanes share the rate:
the *urgent* lane (a technician on the way or late, a callback that is late) never waits behind a
billing run, which goes in the *bulk* lane.

A send the provider refuses for its rate, and a send whose place in the pace is too far off to
wait for in the function, go back to the queue with a delay: a wait, never a failure (it does not
count towards the queue's maxReceiveCount). When the 24-hour quota is nearly spent, notices are
held (recorded, released later), the urgent kinds last: each topic may use the quota only up to
its share, so what is left is kept for what cannot wait.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from headsup.domain.kinds import KINDS, NoticeKind, Topic

# SQS holds a message back at most this long (DelaySeconds).
MAX_QUEUE_DELAY = timedelta(seconds=900)
# A batch waits in the function for a place in the pace that is at most this far off; further,
# its messages go back to the queue until then (a Lambda invocation that sleeps is billed).
WAIT_IN_FUNCTION = timedelta(seconds=5)
# A provider's refusal for its rate: first delay, then doubled per wait (jittered), up to the most
# SQS allows. AWS's advice for SES's "Maximum sending rate exceeded" is to wait up to 10 minutes.
FIRST_BACKOFF = timedelta(seconds=2)
# How long a notice held for the 24-hour quota waits before it is looked at again: SES does not
# say when its rolling window frees, so it is read again then.
QUOTA_RECHECK = timedelta(hours=1)
QUOTA_HOLD_REASON = "daily_quota"


class Lane(StrEnum):
    URGENT = "urgent"
    BULK = "bulk"


# Each lane's share of the account's sending rate. Together they never exceed it.
LANE_SHARE: dict[Lane, float] = {Lane.URGENT: 0.05, Lane.BULK: 0.95}
_URGENT_TOPICS = frozenset({Topic.VISITS, Topic.CALLBACKS})
# How much of the 24-hour quota each topic may use: billing stops first, so that what is left
# goes to tickets, then callbacks, then a technician on the way (who may use all of it).
QUOTA_SHARE: dict[Topic, float] = {
    Topic.VISITS: 1.0,
    Topic.CALLBACKS: 0.98,
    Topic.TICKETS: 0.95,
    Topic.BILLING: 0.90,
}


def lane_of(kind: NoticeKind) -> Lane:
    return Lane.URGENT if KINDS[kind].topic in _URGENT_TOPICS else Lane.BULK


@dataclass(frozen=True)
class SendQuota:
    """The account's limits as SES states them (GetAccount's SendQuota), and when they were read."""

    max_send_rate: float  # emails per second
    max_24_hour_send: float  # emails in any 24 hours
    sent_last_24_hours: float
    read_at: datetime

    def lane_rate(self, lane: Lane) -> float:
        return self.max_send_rate * LANE_SHARE[lane]

    def allows(self, kind: NoticeKind, *, sent_since_read: int) -> bool:
        """Whether one more email of `kind` stays within its topic's share of the 24-hour quota,
        counting what this function sent since the quota was read."""
        share = QUOTA_SHARE.get(KINDS[kind].topic, min(QUOTA_SHARE.values()))
        return self.sent_last_24_hours + sent_since_read + 1 <= self.max_24_hour_send * share


@dataclass(frozen=True)
class RateWaits:
    """How often and how long a notice has waited for the sending rate so far (carried on its
    queue message, and recorded with its outcome)."""

    count: int = 0
    seconds: int = 0
    # A place in the pace already reserved for it (a batch's slot further off than it could wait
    # for): it is sent then, without reserving again.
    slot: datetime | None = None

    def then(self, delay: timedelta, *, slot: datetime | None = None) -> "RateWaits":
        # Whole seconds, as the queue holds the message back (DelaySeconds).
        return RateWaits(self.count + 1, self.seconds + math.ceil(delay.total_seconds()), slot)


def backoff(waits: int, rng: random.Random | None = None) -> timedelta:
    """The delay before a send the provider refused for its rate is tried again: doubling from
    FIRST_BACKOFF with each wait, "equal jitter" (half fixed, half random), at most
    MAX_QUEUE_DELAY. Spread out, the refused sends do not come back together."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    ceiling = min(MAX_QUEUE_DELAY.total_seconds(), FIRST_BACKOFF.total_seconds() * 2 ** min(waits, 20))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


def queue_delay(until: datetime, now: datetime) -> timedelta:
    """How long a message waits in the queue for `until`: at most what SQS allows (it comes back
    and waits again if that is not enough)."""
    return min(max(until - now, timedelta(0)), MAX_QUEUE_DELAY)
