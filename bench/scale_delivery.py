"""NoticeQueue, its consumers and the providers for the scale model (bench.scale_model), one second
at a time: issue 18's pacing (a GCRA bucket shared by all deliveries), throttled sends deferred,
daily-quota holds, quiet-hours holds released by the due-item sweep, and the code before issue 18
(`Scenario.paced` off). Also `allocate`, the whole-notice split the model uses too."""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field, replace

from bench.scale_inputs import (
    DAY,
    EMAIL,
    MAX_DELAY_S,
    PACE_WAIT_S,
    QUOTA_SHARES,
    SMS,
    Scenario,
    TemplateSettings,
    bulk_rate,
    email_send_s,
    hold_pass_s,
    paced_email_s,
    per_message_overhead_s,
    requeue_s,
    reserve_share_s,
    sms_send_s,
    sweep_items_per_tick,
    sweep_rate,
)

RETRY_POINTS = 16  # a throttled group's jittered delays, spread evenly over this many seconds
MAX_THROTTLE_LEVEL = 16  # beyond this the retry delay is at its cap anyway
NO_LIMIT = 1 << 62


@dataclass
class Group:
    """Messages alike enough to be served together (a fluid model: counts, not messages)."""

    enqueued: int  # when this SQS message was sent (retention counts from here; merged: the oldest)
    channel: str
    count: int
    receives: int = 0  # ApproximateReceiveCount so far; only the old code receives a message twice
    throttles: int = 0  # refusals so far, which set the next retry's delay
    slot: float | None = None  # the first message's reserved send slot; None: not reserved yet
    step: float = 0.0  # seconds between the slots; 0: every slot is within the second `slot`
    quota_release: bool = False  # released by the sweep from a daily-quota hold


@dataclass
class DeliveryResult:
    notices: int
    by_channel: dict[str, int]
    sent: dict[str, int] = field(default_factory=lambda: {EMAIL: 0, SMS: 0})
    last_sent: dict[str, int] = field(default_factory=lambda: {EMAIL: -1, SMS: -1})
    throttled: dict[str, int] = field(default_factory=lambda: {EMAIL: 0, SMS: 0})  # provider refusals
    dead_lettered: int = 0
    requeues: int = 0  # paced re-queues: a slot more than PACE_WAIT_S away (new messages each)
    reservations: int = 0  # conditional UpdateItems on the pace bucket
    held: int = 0  # quiet-hours hold passes
    released: int = 0  # quiet-hours holds re-queued by the sweep
    release_ticks: int = 0
    release_done: int = -1
    quota_holds: int = 0  # notices held because the SES 24-hour quota would be exceeded
    quota_released: int = 0
    peak_depth: int = 0  # messages in NoticeQueue: visible, delayed, or waiting out a visibility timeout
    peak_depth_at: int = 0
    peak_after_opening: int = 0  # the same, once the quiet-hours window has opened
    max_age_s: int = 0  # the oldest SQS message, as old as it got when received
    max_receives: int = 0
    late: int = 0  # paced emails sent after their slot's second: the queue was busy when they came back
    peak_slots_per_s: int = 0  # send slots the pace reserved within one second
    peak_email_per_s: int = 0  # emails attempted at SES in one second (late ones included)
    peak_window_sent: int = 0  # emails sent in a 24-hour window (tracked when a quota is given)
    depth: list[int] = field(default_factory=list)  # visible + delayed/not visible, per second
    end: int = 0


class Delivery:
    """NoticeQueue, its consumers and the providers, one second at a time.

    Consumers have `MaximumConcurrency` invocation-seconds each second, spent on batches served first
    in, first out. Issue 18's behaviour (`Scenario.paced`): each batch of bills' emails reserves send
    slots at the bulk lane's pace in one shared bucket; slots within PACE_WAIT_S are waited for in the
    function (the wait occupies the invocation), later ones re-queue their messages with a delay to
    the slot (new messages, never counted toward maxReceiveCount). A send SES or the SMS provider
    refuses for rate is re-queued with a growing jittered delay, also uncounted; an email over the
    24-hour quota is held and released by the sweep as the window frees. With `paced=False` the
    model is the code before issue 18: every send is attempted at once and a refusal goes back after
    the visibility timeout, dead-lettered on its last receive."""

    def __init__(self, scenario: Scenario, s: TemplateSettings, arrivals: dict[str, list[int]]) -> None:
        self.a, self.s, self.sc = scenario.assumptions, s, scenario
        a = self.a
        self.concurrency = scenario.concurrency or s.delivery_max_concurrency
        self.batch = s.delivery_batch_size
        self.quiet_for_email = (
            s.quiet_for_email if scenario.quiet_for_email is None else scenario.quiet_for_email
        )
        self.arrivals = arrivals
        self.visible: deque[Group] = deque()
        self.visible_count = 0
        self.delayed: dict[int, dict[Hashable, Group]] = {}  # by the second they become visible
        self.delayed_count = 0
        self.held: dict[tuple[int, str], int] = {}  # quiet-hours holds by (due second, channel)
        self.releases: dict[int, list[Group]] = {}  # re-queued by the sweep, by second
        self.attempts: dict[int, dict[int, int]] = {}  # paced emails by send second: throttles -> count
        self.legacy_attempts: dict[str, list[Group]] = {EMAIL: [], SMS: []}
        self.tails = itertools.count()
        self.random = random.Random(0)  # the old code: which messages SES refuses
        self.budget = 0.0  # invocation-seconds left this second
        self.refill = {EMAIL: max(0.0, a.ses_rate - a.ses_other_send_rate), SMS: a.sms_rate}
        # A token bucket holding one second of the rate, and at least one send.
        self.capacity = {channel: max(1.0, rate) for channel, rate in self.refill.items()}
        self.tokens = dict(self.capacity)
        self.tat = 0.0  # the bulk lane's theoretical arrival time (GCRA), seconds from the run's start
        self.slot_second, self.slots_in_second = -1, 0  # the latest second holding reserved slots
        self.step = 1 / bulk_rate(a)
        overhead = per_message_overhead_s(a, s)
        self.send_cost = {EMAIL: paced_email_s(a, s), SMS: sms_send_s(a) + overhead}
        self.legacy_cost = {EMAIL: email_send_s(a) + overhead, SMS: sms_send_s(a) + overhead}
        self.hold_cost = hold_pass_s(a) + overhead
        self.requeue_cost = requeue_s(a, s)
        self.reserve_cost = reserve_share_s(a, s)
        # The daily quota: bills may use QUOTA_SHARES["bill"] of it; sends and reserved slots count.
        quota = a.ses_daily_quota
        self.quota_limit = None if quota is None else math.floor(quota * QUOTA_SHARES["bill"])
        self.window: deque[tuple[int, int]] = deque()  # (second, emails sent) within the last 24 h
        self.window_sent = 0
        self.reserved = 0  # slots reserved and not yet used
        self.quota_held = 0
        self.quota_pending = 0  # released from a quota hold, not yet reserved
        total = {channel: sum(counts) for channel, counts in arrivals.items()}
        self.result = DeliveryResult(notices=sum(total.values()), by_channel=total)

    # the customers' clock ------------------------------------------------------------------
    def local(self, t: int) -> int:
        return (self.a.billing_start_local_s + t) % DAY

    def window_open(self, t: int) -> bool:
        start, end, now = self.s.quiet_start_s, self.s.quiet_end_s, self.local(t)
        if start == end:
            return True
        return start <= now < end if start < end else (now >= start or now < end)

    def next_opening(self, t: int) -> int:
        return t if self.window_open(t) else t + (self.s.quiet_start_s - self.local(t)) % DAY

    def holds(self, channel: str, t: int) -> bool:
        return (channel == SMS or self.quiet_for_email) and not self.window_open(t)

    # one run -------------------------------------------------------------------------------
    def run(self, horizon_s: int = 30 * DAY) -> DeliveryResult:
        r = self.result
        last_arrival = max(len(counts) for counts in self.arrivals.values())
        opening = self.next_opening(0)
        t = 0
        while t < horizon_s:
            self._prune_window(t)
            self._enqueue(t)
            self._sweep(t)
            # Depth as the consumers find it at the start of the second: ApproximateNumberOfMessages
            # (visible) plus ...Delayed and ...NotVisible (waiting out a delay or a visibility timeout).
            waiting = self.visible_count + self.delayed_count
            if waiting > r.peak_depth:
                r.peak_depth, r.peak_depth_at = waiting, t
            if t >= opening:
                r.peak_after_opening = max(r.peak_after_opening, waiting)
            self._deliver(t)
            depth = self.visible_count + self.delayed_count
            r.depth.append(depth)
            if t < last_arrival or self.visible:
                t += 1
                continue
            if self._drained():
                r.end = t
                return r
            t = self._skip_to(t, depth)
        raise RuntimeError(f"not drained within {horizon_s} s")

    def _drained(self) -> bool:
        pending = self.held or self.releases or self.attempts or self.quota_held
        return not (pending or self.visible_count or self.delayed_count)

    def _skip_to(self, t: int, depth: int) -> int:
        """Nothing is visible: jump to the next second anything happens (consumers idle meanwhile)."""
        interval = self.s.sweep_interval_s
        if any(t + 1 in d for d in (self.delayed, self.releases, self.attempts)):
            return t + 1
        events = [min(d) for d in (self.delayed, self.releases, self.attempts) if d]
        if self.held or self.quota_held:
            events.append(t + 1 + (-self.local(t + 1)) % interval)
        upcoming = min(events)
        if upcoming > t + 1:
            self.result.depth.extend([depth] * (upcoming - t - 1))
            self.budget = 0.0
            self.tokens = dict(self.capacity)
        return upcoming

    def _push(self, group: Group) -> None:
        if group.count:
            self.visible.append(group)
            self.visible_count += group.count

    def _delay(self, group: Group, at: int, key: Hashable) -> None:
        """`group` becomes visible at second `at`; alike groups due the same second are merged."""
        bucket = self.delayed.setdefault(at, {})
        existing = bucket.get(key)
        if existing is None:
            bucket[key] = group
        else:
            existing.count += group.count
            existing.enqueued = min(existing.enqueued, group.enqueued)
        self.delayed_count += group.count

    def _enqueue(self, t: int) -> None:
        for channel, counts in self.arrivals.items():
            if t < len(counts):
                self._push(Group(t, channel, counts[t]))
        for group in self.releases.pop(t, []):
            self._push(group)
        for group in self.delayed.pop(t, {}).values():
            self.delayed_count -= group.count
            self._push(group)

    # the sweep -----------------------------------------------------------------------------
    def _sweep(self, t: int) -> None:
        """At each scheduled tick the sweep re-queues what is due, one worker per DueIndex shard in
        parallel, until its timeout (less its safety margin); the rest stay for the next tick.
        Quiet-hours holds first, then daily-quota holds as far as the 24-hour window has room."""
        if self.local(t) % self.s.sweep_interval_s:
            return
        budget = sweep_items_per_tick(self.a, self.s)
        released = 0
        for key in sorted(key for key in self.held if key[0] <= t):
            take = min(self.held[key], budget - released)
            if take <= 0:
                break
            self._release(t, released, take, Group(t, key[1], take))
            self.held[key] -= take
            if not self.held[key]:
                del self.held[key]
            released += take
        self.result.released += released
        if self.quota_held and self.quota_limit is not None:
            room = self.quota_limit - self.window_sent - self.reserved - self.quota_pending
            take = max(0, min(self.quota_held, room, budget - released))
            if take:
                self._release(t, released, take, Group(t, EMAIL, take, quota_release=True))
                self.quota_held -= take
                self.quota_pending += take
                self.result.quota_released += take
                released += take
        if released:
            self.result.release_ticks += 1

    def _release(self, t: int, first: int, count: int, like: Group) -> None:
        """Positions first .. first+count-1 of this tick's release, re-queued as the workers go."""
        for offset, chunk in _spread(first, count, sweep_rate(self.a, self.s)):
            second = t + offset + 1
            self.releases.setdefault(second, []).append(replace(like, enqueued=second, count=chunk))
            self.result.release_done = max(self.result.release_done, second)

    # the consumers -------------------------------------------------------------------------
    def _deliver(self, t: int) -> None:
        for channel, rate in self.refill.items():
            self.tokens[channel] = min(self.tokens[channel] + rate, self.capacity[channel])
        self.budget += self.concurrency
        while self.visible:
            head = self.visible[0]
            if not self._serve(head, t):
                break  # this second's capacity is spent
            if not head.count:
                self.visible.popleft()
        if not self.visible:
            self.budget = 0.0  # idle consumers do not bank capacity
        if self.sc.paced:
            self._ses(t)
        else:
            for channel, groups in self.legacy_attempts.items():
                self._send_legacy(channel, groups, t)
                groups.clear()

    def _now(self, t: int) -> float:
        """Where in second t the consumers are, by how much of this second's capacity is spent."""
        return t + min(1.0, max(0.0, 1.0 - self.budget / self.concurrency))

    def _fit(self, cost: float, most: int) -> int:
        return min(most, math.floor(self.budget / cost + 1e-9))

    def _received(self, head: Group, n: int, t: int) -> Group:
        """`n` messages of the queue's head are received (and then deleted, whatever happens)."""
        r = self.result
        taken = Group(
            head.enqueued,
            head.channel,
            n,
            head.receives + 1,
            head.throttles,
            head.slot,
            head.step,
            head.quota_release,
        )
        head.count -= n
        self.visible_count -= n
        if head.slot is not None:
            head.slot += n * head.step
        if head.quota_release:
            self.quota_pending -= n
        r.max_age_s = max(r.max_age_s, t - head.enqueued)
        r.max_receives = max(r.max_receives, taken.receives)
        return taken

    def _serve(self, head: Group, t: int) -> int:
        """Serve the head of the queue as far as capacity goes; how many messages were taken."""
        if self.holds(head.channel, t):
            return self._hold(head, t)
        if not self.sc.paced:
            return self._attempt_legacy(head, t)
        if head.channel == SMS:
            return self._sms(head, t)
        if head.slot is None:
            return self._fresh_email(head, t)
        return self._reserved_email(head, t)

    def _hold(self, head: Group, t: int) -> int:
        n = self._fit(self.hold_cost, head.count)
        if n:
            self.budget -= n * self.hold_cost
            taken = self._received(head, n, t)
            if taken.slot is not None:
                self.reserved -= n  # its slots go unused
            key = (self.next_opening(t), taken.channel)
            self.held[key] = self.held.get(key, 0) + n
            self.result.held += n
        return n

    def _sms(self, head: Group, t: int) -> int:
        """SMS are not paced: sent at once; what the provider refuses for rate is deferred."""
        n = self._fit(self.send_cost[SMS], head.count)
        if n:
            self.budget -= n * self.send_cost[SMS]
            taken = self._received(head, n, t)
            accepted = min(n, math.floor(self.tokens[SMS] + 1e-9))
            self.tokens[SMS] -= accepted
            self._sent(SMS, accepted, t)
            if n > accepted:
                self.result.throttled[SMS] += n - accepted
                self._retry(taken, n - accepted, t)
        return n

    def _fresh_email(self, head: Group, t: int) -> int:
        """An email not yet reserved: held if the quota has no room, else one reservation per batch,
        then sent (its slots within PACE_WAIT_S, waited for) or re-queued to its slot."""
        room = self._quota_room()
        if room <= 0:
            return self._quota_hold(head, t)
        now = self._now(t)
        start = max(self.tat, now)
        most = min(head.count, room)
        if start - now <= PACE_WAIT_S:
            n = min(self.batch, most)
            cost = (start - now) + n * self.send_cost[EMAIL]
            if cost > self.budget + 1e-9:
                return 0
            self.budget -= cost
            taken = self._received(head, n, t)
            self._reserve(start, n, 1)
            self._schedule(start, self.step, n, taken.throttles, t)
            return n
        per = self.requeue_cost + self.reserve_cost
        n = self._fit(per, most)
        if n:
            self.budget -= n * per
            self._received(head, n, t)
            self._reserve(start, n, math.ceil(n / self.batch))
            self._requeue(start, self.step, n, t)
        return n

    def _reserved_email(self, head: Group, t: int) -> int:
        """A re-queued email back with its slot: sent if the slot is near (or past: it waited in a busy
        queue), else re-queued again without a new reservation."""
        slot, cost = head.slot, self.send_cost[EMAIL] - self.reserve_cost
        assert slot is not None
        if head.step == 0:  # back in its slot's second: sent at once, all of them
            n = self._fit(cost, head.count)
            spent = n * cost
        else:
            now = self._now(t)
            near = _slots_until(slot, head.step, head.count, now + PACE_WAIT_S)
            if not near:
                n = self._fit(self.requeue_cost, head.count)
                if n:
                    self.budget -= n * self.requeue_cost
                    self._received(head, n, t)
                    self._requeue(slot, head.step, n, t)
                return n
            n = min(self.batch, near)
            spent = max(0.0, slot - now) + n * cost
        if not n or spent > self.budget + 1e-9:
            return 0
        self.budget -= spent
        taken = self._received(head, n, t)
        self._schedule(slot, taken.step, n, taken.throttles, t)
        return n

    # pacing, deferral, the daily quota --------------------------------------------------------
    def _reserve(self, start: float, n: int, calls: int) -> None:
        """One conditional UpdateItem per batch moves the bucket's TAT past the batch's slots."""
        r = self.result
        self.tat = start + n * self.step
        self.reserved += n
        r.reservations += calls
        for second, count in _slot_counts(start, self.step, n):  # slots only ever move forward
            same = second == self.slot_second
            self.slot_second, self.slots_in_second = second, count + (self.slots_in_second if same else 0)
            r.peak_slots_per_s = max(r.peak_slots_per_s, self.slots_in_second)

    def _schedule(self, start: float, step: float, n: int, throttles: int, t: int) -> None:
        """The sends go at their slots; slots already past (the message waited in a busy queue) now."""
        for second, count in _slot_counts(start, step, n):
            if second < t:
                self.result.late += count
            bucket = self.attempts.setdefault(max(second, t), {})
            bucket[throttles] = bucket.get(throttles, 0) + count

    def _requeue(self, start: float, step: float, n: int, t: int) -> None:
        """Re-queue n reserved emails, each with DelaySeconds to its slot's second; slots further than
        SQS's 900 s come back then, still reserved, to be re-queued again."""
        self.result.requeues += n
        limit = t + MAX_DELAY_S
        near = _slots_until(start, step, n, limit)
        for second, count in _slot_counts(start, step, near):
            self._delay(Group(t, EMAIL, count, slot=float(second)), max(second, t + 1), "due")
        if near < n:
            tail = Group(t, EMAIL, n - near, slot=start + near * step, step=step)
            self._delay(tail, limit, ("tail", next(self.tails)))

    def _retry(self, group: Group, n: int, t: int) -> None:
        """A send refused for rate: re-queued (a new message, not a receive) after a jittered delay
        that doubles with each refusal, at most 900 s."""
        level = min(group.throttles + 1, MAX_THROTTLE_LEVEL)
        longest = max(1, min(MAX_DELAY_S, math.ceil(self.a.throttle_retry_base_s * 2 ** (level - 1))))
        shortest = max(1, math.ceil(longest / 2))
        delays = sorted(
            {round(shortest + (longest - shortest) * k / (RETRY_POINTS - 1)) for k in range(RETRY_POINTS)}
        )
        for delay, count in zip(delays, allocate(n, [1] * len(delays)), strict=True):
            if count:
                retry = Group(t, group.channel, count, throttles=level)
                self._delay(retry, t + delay, ("retry", group.channel, level))

    def _ses(self, t: int) -> None:
        """This second's paced emails reach SES; what it refuses for rate is deferred, not failed."""
        bucket = self.attempts.pop(t, None)
        if not bucket:
            return
        r = self.result
        demand = sum(bucket.values())
        r.peak_email_per_s = max(r.peak_email_per_s, demand)
        self.reserved -= demand
        accepted = min(demand, math.floor(self.tokens[EMAIL] + 1e-9))
        self.tokens[EMAIL] -= accepted
        self._sent(EMAIL, accepted, t)
        left = accepted
        for level in sorted(bucket):  # the fewest refusals first
            refused = bucket[level] - min(left, bucket[level])
            left = max(0, left - bucket[level])
            if refused:
                r.throttled[EMAIL] += refused
                self._retry(Group(t, EMAIL, refused, throttles=level), refused, t)

    def _sent(self, channel: str, n: int, t: int) -> None:
        if not n:
            return
        self.result.sent[channel] += n
        self.result.last_sent[channel] = t
        if channel == EMAIL and self.quota_limit is not None:
            self.window.append((t, n))
            self.window_sent += n
            self.result.peak_window_sent = max(self.result.peak_window_sent, self.window_sent)

    def _prune_window(self, t: int) -> None:
        while self.window and self.window[0][0] <= t - DAY:
            self.window_sent -= self.window.popleft()[1]

    def _quota_room(self) -> int:
        """How many more emails the 24-hour window takes; without a binding quota, any number."""
        if self.quota_limit is None:
            return NO_LIMIT
        return self.quota_limit - self.window_sent - self.reserved

    def _quota_hold(self, head: Group, t: int) -> int:
        n = self._fit(self.hold_cost, head.count)
        if n:
            self.budget -= n * self.hold_cost
            self._received(head, n, t)
            self.quota_held += n
            self.result.quota_holds += n
        return n

    # the code before issue 18 ----------------------------------------------------------------
    def _attempt_legacy(self, head: Group, t: int) -> int:
        cost = self.legacy_cost[head.channel]
        n = self._fit(cost, head.count)
        if n:
            self.budget -= n * cost
            self.legacy_attempts[head.channel].append(self._received(head, n, t))
        return n

    def _send_legacy(self, channel: str, groups: list[Group], t: int) -> None:
        """The provider accepts what its rate allows, from random groups; the rest is refused."""
        if not groups:
            return
        demand = sum(g.count for g in groups)
        if channel == EMAIL:
            self.result.peak_email_per_s = max(self.result.peak_email_per_s, demand)
        accepted = min(demand, math.floor(self.tokens[channel] + 1e-9))
        self.tokens[channel] -= accepted
        shares = _at_random(accepted, [g.count for g in groups], self.random)
        for group, ok in zip(groups, shares, strict=True):
            self._sent(channel, ok, t)
            if group.count > ok:
                self._refused_legacy(group, group.count - ok, t)

    def _refused_legacy(self, group: Group, refused: int, t: int) -> None:
        """Back to the queue after the visibility timeout, or to the dead-letter queue on its last receive."""
        self.result.throttled[group.channel] += refused
        if group.receives >= self.s.max_receive_count:
            self.result.dead_lettered += refused
        else:
            back = replace(group, count=refused)
            self._delay(back, t + self.s.visibility_timeout_s, ("legacy", group.channel, group.receives))


def _slots_until(start: float, step: float, n: int, limit: float) -> int:
    """How many of the n slots start, start + step, ... fall at or before `limit`."""
    if start > limit:
        return 0
    if step == 0:
        return n
    return min(n, math.floor((limit - start) / step + 1e-9) + 1)


def _slot_counts(start: float, step: float, n: int) -> Iterator[tuple[int, int]]:
    """The n slots start, start + step, ... as (second, how many), in time order."""
    i = 0
    while i < n:
        second = math.floor(start + i * step + 1e-9)
        upto = n if step == 0 else min(n, max(i + 1, math.ceil((second + 1 - start) / step - 1e-9)))
        yield second, upto - i
        i = upto


def _spread(first: int, count: int, per_second: float) -> Iterator[tuple[int, int]]:
    """Positions first .. first+count-1 of a sequential run going `per_second`, as (second, how many)."""
    end, second = first + count, int(first // per_second)
    while (low := max(first, math.ceil(second * per_second))) < end:
        high = min(end, math.ceil((second + 1) * per_second))
        if high > low:
            yield second, high - low
        second += 1


def _at_random(total: int, counts: list[int], rng: random.Random) -> list[int]:
    """Which of the attempted messages get the `total` accepted sends, at random (seeded): how many
    from each group, summing to exactly `total`."""
    left, demand, out = total, sum(counts), []
    for count in counts:
        demand -= count
        if left <= 0 or count == 0:
            out.append(0)
            continue
        share = rng.binomialvariate(count, left / (count + demand)) if demand else left
        share = min(count, left, max(share, left - demand))  # the rest must still fit in what follows
        out.append(share)
        left -= share
    return out


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` over the seconds in proportion to `weights`, in whole notices, summing exactly."""
    whole = sum(weights)
    out, running, given = [], 0, 0
    for weight in weights:
        running += weight
        upto = total * running // whole
        out.append(upto - given)
        given = upto
    return out
