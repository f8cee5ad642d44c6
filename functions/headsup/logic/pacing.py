"""A delivery batch's share of the account's sending pace (domain/pacing.py has the rules).

At the start of a batch the pacer knows how many of its notices each lane may send; at the first
email of a lane it reserves that many places in the shared pace at once (one write), then hands
them out in order. Each email then either waits for its place in the function (a few seconds at
most) or, if the place is further off, goes back to the queue until then with the place kept
(`RateWait`). What the batch did not use is given back at its end.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from headsup.adapters.pace import PaceBucket, Reservation, SendQuotaSource
from headsup.domain.kinds import NoticeKind
from headsup.domain.pacing import WAIT_IN_FUNCTION, Lane, RateWaits, lane_of, queue_delay

# A message back from the queue this long after its place (the consumers were busy) reserves a new
# one: sent at once, it would go on top of the places reserved since, over the rate.
_LATE = timedelta(seconds=1)
# No place is reserved further ahead than a message can wait in the queue (its retention): a
# message attribute that says otherwise was not written by delivery, and is not trusted.
_FURTHEST = timedelta(days=4)


class RateWait(Exception):
    """The notice goes back to the queue for `delay` (a wait, not a failure: see domain/pacing.py)."""

    def __init__(self, reason: str, delay: timedelta, waits: RateWaits) -> None:
        self.reason = reason  # "paced" (its place is further off) or "throttled" (the provider said so)
        self.delay = delay
        self.waits = waits  # including this one
        super().__init__(f"{reason}: back in {delay.total_seconds():.0f} s")


@dataclass
class SendPacer:
    quota_source: SendQuotaSource
    bucket: PaceBucket
    sleep: Callable[[float], None]
    _pending: Counter[Lane] = field(default_factory=Counter, init=False)
    _reservations: dict[Lane, Reservation] = field(default_factory=dict, init=False)
    _used: Counter[Lane] = field(default_factory=Counter, init=False)
    _sent_since_read: int = field(default=0, init=False)
    _read_at: datetime | None = field(default=None, init=False)

    def start_batch(self, kinds: Iterable[NoticeKind]) -> None:
        """The batch's notices (those for customers): how many places each lane may need."""
        self.finish_batch()
        self._pending = Counter(lane_of(kind) for kind in kinds)

    def finish_batch(self) -> None:
        """Give back the places reserved and not used (only possible while nobody reserved after)."""
        reservations, self._reservations = self._reservations, {}
        for lane, reservation in reservations.items():
            self.bucket.give_back(reservation, reservation.count - self._used[lane])
        self._used.clear()

    def quota_allows(self, kind: NoticeKind, now: datetime) -> bool:
        """Whether an email of `kind` fits its topic's share of the 24-hour quota (True when the
        quota cannot be read: SES's own refusal is then the limit)."""
        quota = self.quota_source.quota(now)
        if quota is None:
            return True
        if quota.read_at != self._read_at:  # a fresh reading counts this function's sends itself
            self._read_at, self._sent_since_read = quota.read_at, 0
        return quota.allows(kind, sent_since_read=self._sent_since_read)

    def sent(self) -> None:
        self._sent_since_read += 1

    def wait_for_place(self, kind: NoticeKind, waits: RateWaits, now: datetime) -> None:
        """Return when the email may go (after sleeping up to WAIT_IN_FUNCTION for its place);
        raise RateWait when its place is further off."""
        slot = waits.slot
        kept = slot if slot is not None and -_FURTHEST <= now - slot <= _LATE else None
        place = kept or self._place(lane_of(kind), now)
        if place is None:
            return  # no quota read: unpaced
        wait = place - now
        if wait > WAIT_IN_FUNCTION:
            delay = queue_delay(place, now)
            raise RateWait("paced", delay, waits.then(delay, slot=place))
        if wait > timedelta(0):
            self.sleep(wait.total_seconds())

    def _place(self, lane: Lane, now: datetime) -> datetime | None:
        reservation = self._reservations.get(lane)
        if reservation is None or self._used[lane] >= reservation.count:
            quota = self.quota_source.quota(now)
            if quota is None:
                return None
            if reservation is not None:  # more places than the batch counted: one at a time
                self._pending[lane] = 1
            count = max(1, self._pending[lane])
            reservation = self.bucket.reserve(lane, count, quota.lane_rate(lane), now)
            self._reservations[lane], self._used[lane] = reservation, 0
        place = reservation.place(self._used[lane])
        self._used[lane] += 1
        return place
