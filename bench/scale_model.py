"""The scale model itself, one second at a time: the Bills stream and its detector, then NoticeQueue,
its consumers and the providers, with quiet-hours holds released by the due-item sweep
(see bench.scale_sim)."""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from bench.scale_inputs import (
    DAY,
    EMAIL,
    SMS,
    Assumptions,
    Scenario,
    TemplateSettings,
    detector_record_s,
    email_send_s,
    hold_pass_s,
    notices_for,
    per_message_overhead_s,
    sms_send_s,
    stream_shards,
    sweep_item_s,
    sweep_items_per_tick,
)


# ------------------------------------------------------------------------------ the stream and detector
@dataclass
class DetectorResult:
    shards: int
    shard_reasons: dict[str, int]
    parallelization: int
    records_per_shard: int
    per_record_s: float
    arrival_per_shard: float  # records/s
    capacity_per_shard: float  # records/s with `parallelization` batches at once
    invocations: int
    max_batch_s: float
    max_lag_s: float  # the oldest record's age when its batch starts (>= CloudWatch IteratorAge)
    finished_s: float
    processed: list[int]  # records processed, per second, over all shards


def simulate_detector(a: Assumptions, s: TemplateSettings, parallelization: int) -> DetectorResult:
    shards, reasons = stream_shards(a)
    n = math.ceil(a.customers / shards)  # one shard; the others are alike (customer ids hash evenly)
    rate = n / a.billing_window_s
    per_record = detector_record_s(a)
    batch, window = s.bills_batch_size, s.bills_batching_window_s
    free_at = [0.0] * parallelization  # one shard's concurrent batches
    heapq.heapify(free_at)
    processed: list[int] = []
    i = invocations = 0
    max_batch = max_lag = finished = 0.0
    while i < n:
        free = heapq.heappop(free_at)
        first = i / rate
        full = (i + batch - 1) / rate if i + batch - 1 < n else math.inf
        start = max(free, min(full, first + window))
        count = min(batch, min(n, math.floor(start * rate) + 1) - i)
        duration = a.invoke_overhead_s + count * per_record
        end = start + duration
        heapq.heappush(free_at, end)
        second = int(end)
        processed.extend([0] * (second + 1 - len(processed)))
        processed[second] += count * shards
        invocations += 1
        max_batch, max_lag, finished = (
            max(max_batch, duration),
            max(max_lag, start - first),
            max(finished, end),
        )
        i += count
    return DetectorResult(
        shards=shards,
        shard_reasons=reasons,
        parallelization=parallelization,
        records_per_shard=n,
        per_record_s=per_record,
        arrival_per_shard=rate,
        capacity_per_shard=parallelization / per_record,
        invocations=invocations * shards,
        max_batch_s=max_batch,
        max_lag_s=max_lag,
        finished_s=finished,
        processed=processed,
    )


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


# ------------------------------------------------------------------------------ queue, delivery, sweep
@dataclass
class Group:
    enqueued: int  # when this SQS message was sent (retention counts from here)
    receives: int
    channel: str
    count: int


@dataclass
class DeliveryResult:
    notices: int
    by_channel: dict[str, int]
    sent: dict[str, int] = field(default_factory=lambda: {EMAIL: 0, SMS: 0})
    last_sent: dict[str, int] = field(default_factory=lambda: {EMAIL: -1, SMS: -1})
    dead_lettered: int = 0
    throttled: int = 0
    held: int = 0
    released: int = 0
    release_ticks: int = 0
    release_done: int = -1
    peak_depth: int = 0  # messages in NoticeQueue, visible or waiting out a visibility timeout
    peak_depth_at: int = 0
    peak_after_opening: int = 0  # the same, once the quiet-hours window has opened
    max_age_s: int = 0
    max_receives: int = 0
    depth: list[int] = field(default_factory=list)  # visible + in flight/delayed, per second
    end: int = 0


class Delivery:
    """NoticeQueue, its consumers and the providers, one second at a time.

    SQS is approximated as first-in first-out; a message SES or SNS refuses for its rate goes back to
    the queue, visible again after the visibility timeout, and is dead-lettered on its last receive
    (the worst case: any retry inside the function only lowers the count)."""

    def __init__(self, scenario: Scenario, s: TemplateSettings, arrivals: dict[str, list[int]]) -> None:
        self.a, self.s, self.sc = scenario.assumptions, s, scenario
        self.quiet_for_email = (
            s.quiet_for_email if scenario.quiet_for_email is None else scenario.quiet_for_email
        )
        self.arrivals = arrivals
        self.visible: deque[Group] = deque()
        self.visible_count = 0
        self.delayed: dict[int, list[Group]] = {}
        self.delayed_count = 0
        self.held: dict[tuple[int, str], int] = {}
        self.releases: dict[int, list[Group]] = {}
        self.ages: dict[int, int] = {}  # messages in the queue (visible or not) by when they were sent
        self.age_heap: list[int] = []
        self.random = random.Random(0)  # which messages SES refuses: SQS hands them out in no order
        self.budget = 0.0
        self.tokens = {EMAIL: 0.0, SMS: 0.0}
        self.rates = {EMAIL: self.a.ses_rate, SMS: self.a.sms_rate}
        overhead = per_message_overhead_s(self.a, s)
        self.send_cost = {EMAIL: email_send_s(self.a) + overhead, SMS: sms_send_s(self.a) + overhead}
        self.hold_cost = hold_pass_s(self.a) + overhead
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
        for t in range(horizon_s):
            self._enqueue(t)
            self._sweep(t)
            # Depth as the consumers find it at the start of the second: ApproximateNumberOfMessages
            # (visible) plus ApproximateNumberOfMessagesNotVisible (waiting out a visibility timeout).
            waiting = self.visible_count + self.delayed_count
            if waiting > r.peak_depth:
                r.peak_depth, r.peak_depth_at = waiting, t
            if t >= opening:
                r.peak_after_opening = max(r.peak_after_opening, waiting)
            r.max_age_s = max(r.max_age_s, self._oldest_age(t))
            self._deliver(t)
            depth = self.visible_count + self.delayed_count
            r.depth.append(depth)
            if t >= last_arrival and depth == 0 and not self.held and not self.releases:
                r.end = t
                return r
        raise RuntimeError(f"not drained within {horizon_s} s")

    def _push(self, group: Group, *, new: bool = True) -> None:
        if not group.count:
            return
        self.visible.append(group)
        self.visible_count += group.count
        if new:
            if not self.ages.get(group.enqueued):
                heapq.heappush(self.age_heap, group.enqueued)
            self.ages[group.enqueued] = self.ages.get(group.enqueued, 0) + group.count

    def _leave(self, group: Group, count: int) -> None:
        """`count` messages of `group` are deleted from the queue (done, held, or dead-lettered)."""
        self.ages[group.enqueued] -= count

    def _enqueue(self, t: int) -> None:
        for channel, counts in self.arrivals.items():
            if t < len(counts):
                self._push(Group(t, 0, channel, counts[t]))
        for group in self.releases.pop(t, []):
            self._push(group)
        for group in self.delayed.pop(t, []):
            self.delayed_count -= group.count
            self._push(group, new=False)

    def _sweep(self, t: int) -> None:
        """At each scheduled tick the sweep re-queues the held notices now due, one at a time, until
        its timeout (less its safety margin); the rest stay due for the next tick."""
        if self.local(t) % self.s.sweep_interval_s:
            return
        budget = sweep_items_per_tick(self.a, self.s)
        per_second = 1 / sweep_item_s(self.a)
        released = 0
        for key in sorted(key for key in self.held if key[0] <= t):
            take = min(self.held[key], budget - released)
            if take <= 0:
                break
            # Re-queued one by one while the sweep runs, `per_second` a second from the tick on.
            for offset, chunk in _spread(released, take, per_second):
                second = t + offset + 1
                self.releases.setdefault(second, []).append(Group(second, 0, key[1], chunk))
                self.result.release_done = max(self.result.release_done, second)
            self.held[key] -= take
            if not self.held[key]:
                del self.held[key]
            released += take
        if released:
            self.result.released += released
            self.result.release_ticks += 1

    def _deliver(self, t: int) -> None:
        """This second's receives: each taken message is held for quiet hours or sent."""
        r = self.result
        attempts: dict[str, list[Group]] = {EMAIL: [], SMS: []}
        for group, hold in self._take(t):
            r.max_receives = max(r.max_receives, group.receives)
            if hold:
                key = (self.next_opening(t), group.channel)
                self.held[key] = self.held.get(key, 0) + group.count
                r.held += group.count
                self._leave(group, group.count)
            else:
                attempts[group.channel].append(group)
        for channel, groups in attempts.items():
            self._send(channel, groups, t)

    def _take(self, t: int) -> list[tuple[Group, bool]]:
        """The messages the consumers receive this second, as far as their slot-seconds go, each
        with whether it will be held (which costs less than a send)."""
        self.budget += self.sc.concurrency  # slot-seconds available this second
        taken: list[tuple[Group, bool]] = []
        while self.visible:
            head = self.visible[0]
            hold = self.holds(head.channel, t)
            cost = self.hold_cost if hold else self.send_cost[head.channel]
            n = min(head.count, math.floor(self.budget / cost + 1e-9))
            if n == 0:
                break
            self.budget -= n * cost
            self.visible_count -= n
            taken.append((Group(head.enqueued, head.receives + 1, head.channel, n), hold))
            if n < head.count:
                head.count -= n
                break  # this second's capacity is spent
            self.visible.popleft()
        if not self.visible:
            self.budget = 0.0  # idle consumers do not bank capacity
        return taken

    def _send(self, channel: str, groups: list[Group], t: int) -> None:
        """The provider accepts what its rate allows, from random groups; the rest is refused."""
        r = self.result
        demand = sum(g.count for g in groups)
        self.tokens[channel] = min(self.tokens[channel] + self.rates[channel], self.rates[channel])
        accepted = min(demand, math.floor(self.tokens[channel] + 1e-9))
        self.tokens[channel] -= accepted
        shares = _at_random(accepted, [g.count for g in groups], self.random)
        for group, ok in zip(groups, shares, strict=True):
            if ok:
                r.sent[channel] += ok
                r.last_sent[channel] = t
                self._leave(group, ok)
            if group.count > ok:
                self._refused(group, group.count - ok, t)

    def _refused(self, group: Group, refused: int, t: int) -> None:
        """Back to the queue after the visibility timeout, or to the dead-letter queue on its last receive."""
        self.result.throttled += refused
        if group.receives >= self.s.max_receive_count:
            self.result.dead_lettered += refused
            self._leave(group, refused)
        else:
            back = t + self.s.visibility_timeout_s
            self.delayed.setdefault(back, []).append(replace(group, count=refused))
            self.delayed_count += refused

    def _oldest_age(self, t: int) -> int:
        while self.age_heap and not self.ages.get(self.age_heap[0]):
            self.ages.pop(heapq.heappop(self.age_heap), None)
        return t - self.age_heap[0] if self.age_heap else 0


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


# ------------------------------------------------------------------------------ a whole day
@dataclass
class DayResult:
    scenario: Scenario
    detector: DetectorResult
    delivery: DeliveryResult


def simulate(scenario: Scenario, settings: TemplateSettings | None = None) -> DayResult:
    s = settings or TemplateSettings.from_template()
    a = scenario.assumptions
    detector = simulate_detector(a, s, scenario.parallelization or s.bills_parallelization)
    total = notices_for(a)
    notices = allocate(total, detector.processed)
    sms = allocate(round(total * a.sms_share), notices)
    email = [count - text for count, text in zip(notices, sms, strict=True)]
    delivery = Delivery(scenario, s, {EMAIL: email, SMS: sms}).run()
    return DayResult(scenario, detector, delivery)
