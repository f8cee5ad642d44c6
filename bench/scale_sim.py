"""A billing day at scale, as a small discrete-time model: Bills stream -> detector -> NoticeQueue ->
delivery -> SES / SNS SMS, with quiet-hours holds released by the due-item sweep. Backs docs/scale.md.

Every value template.yaml defines (batch sizes, parallelization factor, MaximumConcurrency default,
timeouts, visibility timeout, retention, maxReceiveCount, sweep schedule, quiet hours, alarm threshold)
is read from it; everything else is an assumption in `Assumptions`, each with its source in the doc.
Usage: python -m bench.scale_sim
"""

from __future__ import annotations

import heapq
import math
import random
import re
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.template import load_template

DAY = 86_400
EMAIL, SMS = "email", "sms"
# AWS limits of MaximumConcurrency (AWS::Lambda::EventSourceMapping ScalingConfig: 2..1000).
MIN_CONCURRENCY, MAX_CONCURRENCY = 2, 1000


# ------------------------------------------------------------------------------ the template's settings
@dataclass(frozen=True)
class TemplateSettings:
    bills_batch_size: int
    bills_batching_window_s: int
    bills_parallelization: int  # Lambda's default (1) when the template does not set it
    bills_parallelization_set: bool
    detector_timeout_s: int
    delivery_batch_size: int
    delivery_batching_window_s: int
    delivery_max_concurrency: int  # DeliveryMaxConcurrency's default
    delivery_timeout_s: int
    memory_mb: int
    visibility_timeout_s: int
    retention_s: int
    max_receive_count: int
    sweep_schedule: str
    sweep_interval_s: int
    sweep_timeout_s: int
    due_index_shards: int
    quiet_start_s: int  # seconds after local midnight
    quiet_end_s: int
    quiet_for_email: bool
    iterator_age_alarm_s: float

    @classmethod
    def from_template(cls, template: dict[str, Any] | None = None) -> TemplateSettings:
        tpl = template if template is not None else load_template()
        resources = tpl["Resources"]

        def resolve(value: Any) -> Any:
            if isinstance(value, dict) and set(value) == {"Ref"}:
                return tpl["Parameters"][value["Ref"]]["Default"]
            return value

        def function(name: str, key: str) -> Any:
            return resolve(resources[name]["Properties"].get(key, tpl["Globals"]["Function"][key]))

        def event(name: str, event_name: str) -> dict[str, Any]:
            props: dict[str, Any] = resources[name]["Properties"]["Events"][event_name]["Properties"]
            return props

        bills = event("BillIncreaseDetectorFunction", "BillsStream")
        notices = event("NoticeDeliveryFunction", "Notices")
        queue = resources["NoticeQueue"]["Properties"]
        schedule = str(resolve(event("DueSweepFunction", "Sweep")["Schedule"]))
        alarm = resources["StreamIteratorAgeAlarm"]["Properties"]
        return cls(
            bills_batch_size=int(resolve(bills["BatchSize"])),
            bills_batching_window_s=int(resolve(bills.get("MaximumBatchingWindowInSeconds", 0))),
            bills_parallelization=int(resolve(bills.get("ParallelizationFactor", 1))),
            bills_parallelization_set="ParallelizationFactor" in bills,
            detector_timeout_s=int(function("BillIncreaseDetectorFunction", "Timeout")),
            delivery_batch_size=int(resolve(notices["BatchSize"])),
            delivery_batching_window_s=int(resolve(notices.get("MaximumBatchingWindowInSeconds", 0))),
            delivery_max_concurrency=int(resolve(notices["ScalingConfig"]["MaximumConcurrency"])),
            delivery_timeout_s=int(function("NoticeDeliveryFunction", "Timeout")),
            memory_mb=int(function("NoticeDeliveryFunction", "MemorySize")),
            visibility_timeout_s=int(resolve(queue["VisibilityTimeout"])),
            retention_s=int(resolve(queue["MessageRetentionPeriod"])),
            max_receive_count=int(resolve(queue["RedrivePolicy"]["maxReceiveCount"])),
            sweep_schedule=schedule,
            sweep_interval_s=rate_seconds(schedule),
            sweep_timeout_s=int(function("DueSweepFunction", "Timeout")),
            due_index_shards=int(tpl["Parameters"]["DueIndexShards"]["Default"]),
            quiet_start_s=clock_seconds(str(tpl["Parameters"]["QuietHoursStart"]["Default"])),
            quiet_end_s=clock_seconds(str(tpl["Parameters"]["QuietHoursEnd"]["Default"])),
            quiet_for_email=str(tpl["Parameters"]["QuietHoursForEmail"]["Default"]).lower() == "true",
            iterator_age_alarm_s=float(alarm["Threshold"]) / 1000,
        )


def rate_seconds(expression: str) -> int:
    """`rate(5 minutes)` -> 300. Cron schedules are not modelled."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if match is None:
        raise ValueError(f"only rate() schedules are modelled, not {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": DAY}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def clock_seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


# ------------------------------------------------------------------------------ assumptions (see the doc)
@dataclass(frozen=True)
class Assumptions:
    customers: int = 1_000_000
    billing_window_s: int = 3600  # every bill written within one hour
    increase_share: float = 0.30  # bills that went up enough to notify
    sms_share: float = 0.20  # customers whose first usable channel is SMS
    billing_start_local_s: int = 2 * 3600  # the run starts at 02:00 on the customers' clock (one timezone)
    # Latencies of one call from Lambda in the same Region (to be replaced by X-Ray measurements).
    dynamodb_call_s: float = 0.007
    sqs_send_s: float = 0.015
    ses_send_s: float = 0.060
    sns_publish_s: float = 0.040
    sns_opt_out_check_s: float = 0.020
    render_cpu_s: float = 0.005
    invoke_overhead_s: float = 0.020  # per batch: runtime, Powertools, partial-batch response
    # Calls per notice, measured by `make bench` (bench.notice_cost): delivery makes 2 GetItem,
    # 1 Query, 2 UpdateItem on DynamoDB and one send; the detector 1 Query per bill record.
    delivery_dynamodb_calls: int = 5
    detector_queries_per_record: int = 1
    # DynamoDB: a partition serves 1,000 WCU; a new on-demand table sustains 4,000 writes/s; 10 GB
    # per partition. Stream shards are assumed to follow partitions one to one.
    partition_write_units: int = 1000
    on_demand_initial_writes: int = 4000
    partition_bytes: int = 10 * 1024**3
    bill_item_bytes: int = 1024
    months_of_bills_kept: int = 24
    # The sweep: a held item is one SendMessage + one conditional DeleteItem, read from 1 MB pages.
    held_item_bytes: int = 1500
    query_page_bytes: int = 1024**2
    query_page_s: float = 0.020
    sweep_safety_margin_s: int = 10  # functions/headsup/logic/sweep.py _SAFETY_MARGIN
    ses_rate: float = 14.0  # SES maximum send rate (emails/s)
    sms_rate: float = 100.0  # SMS message parts per second of the origination identity


@dataclass(frozen=True)
class Scenario:
    assumptions: Assumptions
    concurrency: int  # MaximumConcurrency of the NoticeQueue event source
    parallelization: int | None = None  # None: the template's
    quiet_for_email: bool | None = None  # None: the template's


# ------------------------------------------------------------------------------ derived figures
def email_send_s(a: Assumptions) -> float:
    return a.delivery_dynamodb_calls * a.dynamodb_call_s + a.ses_send_s + a.render_cpu_s


def sms_send_s(a: Assumptions) -> float:
    calls = a.delivery_dynamodb_calls * a.dynamodb_call_s
    return calls + a.sns_opt_out_check_s + a.sns_publish_s + a.render_cpu_s


def hold_pass_s(a: Assumptions) -> float:
    """A notice held for quiet hours: the same reads and ledger writes, an opt-out check, one
    UpdateItem on DueItemsTable, no send."""
    return (a.delivery_dynamodb_calls + 1) * a.dynamodb_call_s + a.sns_opt_out_check_s + a.render_cpu_s


def per_message_overhead_s(a: Assumptions, s: TemplateSettings) -> float:
    return a.invoke_overhead_s / s.delivery_batch_size


def slot_email_rate(a: Assumptions, s: TemplateSettings) -> float:
    """Emails per second one delivery invocation sends: it works through its batch one by one."""
    return 1 / (email_send_s(a) + per_message_overhead_s(a, s))


def matched_concurrency(rate: float, a: Assumptions, s: TemplateSettings) -> int:
    """The largest MaximumConcurrency whose sending rate stays within `rate` (at least AWS's minimum)."""
    fitting = math.floor(rate / slot_email_rate(a, s) + 1e-9)
    return max(MIN_CONCURRENCY, min(MAX_CONCURRENCY, fitting))


def notices_for(a: Assumptions) -> int:
    return round(a.customers * a.increase_share)


def stream_shards(a: Assumptions) -> tuple[int, dict[str, int]]:
    """Open stream shards, assumed one per table partition; partitions are the most of what the
    write rate, the new on-demand table's initial throughput and the table's size need."""
    writes_per_s = a.customers / a.billing_window_s
    size = a.customers * a.months_of_bills_kept * a.bill_item_bytes
    reasons = {
        "write rate": math.ceil(writes_per_s / a.partition_write_units),
        "initial on-demand throughput": math.ceil(a.on_demand_initial_writes / a.partition_write_units),
        "table size": math.ceil(size / a.partition_bytes),
    }
    return max(reasons.values()), reasons


def detector_record_s(a: Assumptions) -> float:
    """One bill record: the Query for the earlier bill, and a SendMessage for the increases."""
    return a.detector_queries_per_record * a.dynamodb_call_s + a.increase_share * a.sqs_send_s


def parallelization_needed(a: Assumptions, s: TemplateSettings) -> int:
    """The smallest ParallelizationFactor (at least the template's, at most 10) whose batches keep
    up with one shard's share of the billing run."""
    shards, _ = stream_shards(a)
    per_shard = a.customers / shards / a.billing_window_s
    return min(10, max(s.bills_parallelization, math.ceil(per_shard * detector_record_s(a))))


def sweep_item_s(a: Assumptions) -> float:
    per_page = a.query_page_bytes // a.held_item_bytes
    return a.sqs_send_s + a.dynamodb_call_s + a.query_page_s / per_page


def sweep_items_per_tick(a: Assumptions, s: TemplateSettings) -> int:
    return math.floor((s.sweep_timeout_s - a.sweep_safety_margin_s) / sweep_item_s(a))


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
        r = self.result
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
        attempts: dict[str, list[Group]] = {EMAIL: [], SMS: []}
        for group, hold in taken:
            r.max_receives = max(r.max_receives, group.receives)
            if hold:
                key = (self.next_opening(t), group.channel)
                self.held[key] = self.held.get(key, 0) + group.count
                r.held += group.count
                self._leave(group, group.count)
            else:
                attempts[group.channel].append(group)
        for channel, groups in attempts.items():
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
                refused = group.count - ok
                if not refused:
                    continue
                r.throttled += refused
                if group.receives >= self.s.max_receive_count:
                    r.dead_lettered += refused
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


# ------------------------------------------------------------------------------ the report
SIZES = (1_000_000, 10_000_000)
SES_RATES = (14.0, 50.0, 200.0, 500.0)
QUIET_HOURS_SES_RATE = 200.0
TOLL_FREE_SMS_RATE = 3.0


def clock(a: Assumptions, t: float) -> str:
    """Seconds after the billing run started, on the customers' clock: `08:00` or `08:00+1d`."""
    if t < 0:
        return "-"
    moment = a.billing_start_local_s + int(t)
    days, rest = divmod(moment, DAY)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"{text}+{days}d" if days else text


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if k == 0 else str(c).rjust(w)
            for k, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([title, fmt(header), line, *(fmt(r) for r in rows), ""])


def settings_block(s: TemplateSettings) -> str:
    pf = f"{s.bills_parallelization}" + ("" if s.bills_parallelization_set else " (not set: Lambda default)")
    return "\n".join(
        [
            "Read from template.yaml:",
            f"  BillsStream: BatchSize {s.bills_batch_size}, MaximumBatchingWindowInSeconds"
            f" {s.bills_batching_window_s}, ParallelizationFactor {pf};"
            f" detector Timeout {s.detector_timeout_s} s",
            f"  Notices (SQS): BatchSize {s.delivery_batch_size}, MaximumBatchingWindowInSeconds"
            f" {s.delivery_batching_window_s}, MaximumConcurrency {s.delivery_max_concurrency}"
            f" (DeliveryMaxConcurrency default); delivery Timeout {s.delivery_timeout_s} s, {s.memory_mb} MB",
            f"  NoticeQueue: VisibilityTimeout {s.visibility_timeout_s} s, MessageRetentionPeriod"
            f" {s.retention_s} s ({s.retention_s / DAY:g} d), maxReceiveCount {s.max_receive_count}",
            f"  Sweep: {s.sweep_schedule}, Timeout {s.sweep_timeout_s} s;"
            f" DueIndexShards {s.due_index_shards}",
            f"  Quiet hours {s.quiet_start_s // 3600:02d}:{s.quiet_start_s % 3600 // 60:02d}"
            f"-{s.quiet_end_s // 3600:02d}:{s.quiet_end_s % 3600 // 60:02d},"
            f" QuietHoursForEmail {str(s.quiet_for_email).lower()};"
            f" StreamIteratorAgeAlarm at {s.iterator_age_alarm_s:g} s",
            "",
        ]
    )


def assumptions_block(a: Assumptions, s: TemplateSettings) -> str:
    return "\n".join(
        [
            "Model assumptions (docs/scale.md says where each comes from):",
            f"  one delivery: email {email_send_s(a) * 1000:.0f} ms"
            f" ({a.delivery_dynamodb_calls} DynamoDB calls x {a.dynamodb_call_s * 1000:g} ms"
            f" + SES {a.ses_send_s * 1000:g} ms + render"
            f" {a.render_cpu_s * 1000:g} ms), SMS {sms_send_s(a) * 1000:.0f} ms, quiet-hours hold"
            f" {hold_pass_s(a) * 1000:.0f} ms, + {a.invoke_overhead_s * 1000:g} ms per batch of"
            f" {s.delivery_batch_size}",
            f"  -> one delivery invocation sends {slot_email_rate(a, s):.2f} emails/s",
            f"  sweep: {sweep_item_s(a) * 1000:.1f} ms per held notice"
            f" -> {sweep_items_per_tick(a, s):,} per tick"
            f" ({s.sweep_timeout_s} s timeout - {a.sweep_safety_margin_s} s margin)",
            f"  billing run from {clock(a, 0)} on the customers' clock (one timezone), {a.increase_share:.0%}"
            f" increases, {a.sms_share:.0%} of customers by SMS ({a.sms_rate:g} SMS/s)",
            "",
        ]
    )


def detector_rows(results: list[DayResult], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for r in results:
        a, d = r.scenario.assumptions, r.detector
        why = ", ".join(f"{k} {v}" for k, v in d.shard_reasons.items())
        lag = duration(d.max_lag_s) + (" ALARM" if d.max_lag_s > s.iterator_age_alarm_s else "")
        rows.append(
            [
                f"{a.customers:,}",
                f"{a.customers / a.billing_window_s:,.0f}",
                f"{d.shards} ({why})",
                str(d.parallelization),
                f"{d.arrival_per_shard:.0f}/s",
                f"{d.capacity_per_shard:.0f}/s",
                str(d.shards * d.parallelization),
                f"{d.invocations:,}",
                f"{d.max_batch_s:.2f} s",
                lag,
                clock(a, d.finished_s),
            ]
        )
    return rows


DETECTOR_HEADER = [
    "customers",
    "writes/s",
    "stream shards (partitions needed for ...)",
    "PF",
    "bills/s/shard",
    "can do/shard",
    "max conc",
    "invocations",
    "batch",
    "max lag",
    "last queued",
]


def delivery_rows(results: list[DayResult], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for r in results:
        a, sc, d = r.scenario.assumptions, r.scenario, r.delivery
        capacity = sc.concurrency * slot_email_rate(a, s)
        note = " (template)" if sc.concurrency == s.delivery_max_concurrency else ""
        rows.append(
            [
                f"{a.ses_rate:g}",
                f"{sc.concurrency}{note}",
                f"{capacity:.0f}" + (" > quota" if capacity > a.ses_rate + 1e-9 else ""),
                f"{d.peak_depth:,}",
                clock(a, d.peak_depth_at),
                clock(a, d.last_sent[EMAIL]),
                duration(d.max_age_s) + (" EXPIRED" if d.max_age_s >= s.retention_s else ""),
                f"{d.max_receives}/{s.max_receive_count}",
                f"{d.throttled:,}",
                f"{d.dead_lettered:,}",
            ]
        )
    return rows


DELIVERY_HEADER = [
    "SES/s",
    "MaxConc",
    "sends/s",
    "peak depth",
    "at",
    "last email",
    "oldest msg",
    "receives",
    "throttled",
    "dead-lettered",
]


def quiet_rows(results: list[DayResult], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for r in results:
        a, sc, d = r.scenario.assumptions, r.scenario, r.delivery
        for_email = s.quiet_for_email if sc.quiet_for_email is None else sc.quiet_for_email
        rows.append(
            [
                f"{a.sms_rate:g}",
                str(for_email).lower(),
                f"{d.held:,}",
                f"{sweep_items_per_tick(a, s):,}",
                str(d.release_ticks),
                clock(a, d.release_done),
                f"{d.peak_after_opening:,}",
                clock(a, d.last_sent[SMS]),
                clock(a, max(d.last_sent.values())),
                f"{d.dead_lettered:,}",
            ]
        )
    return rows


QUIET_HEADER = [
    "SMS/s",
    "hold email",
    "holds",
    "per tick",
    "ticks",
    "all released",
    "peak after 08:00",
    "last SMS",
    "last notice",
    "dead-lettered",
]


def capacity_lines(r: DayResult, s: TemplateSettings) -> str:
    a, sc, d = r.scenario.assumptions, r.scenario, r.detector
    sends = min(a.ses_rate, sc.concurrency * slot_email_rate(a, s))
    detectors = d.shards * d.parallelization
    writes = a.customers / a.billing_window_s
    return "\n".join(
        [
            f"Capacity checks, {a.customers:,} customers at {a.ses_rate:g} emails/s:",
            f"  Lambda concurrency: {detectors} detector + {sc.concurrency} delivery + 1 sweep ="
            f" {detectors + sc.concurrency + 1} of the account's 1,000 default",
            f"  NoticeQueue in flight: at most {sc.concurrency * s.delivery_batch_size:,}"
            f" (MaximumConcurrency x BatchSize) of ~120,000",
            f"  NoticeLedgerTable: ~{sends * 3:,.0f} write units/s (claim + outcome + CustomerSentIndex),"
            f" ~{sends:,.0f} Query/s; new on-demand tables take 4,000 writes/s",
            f"  BillsTable: {writes:,.0f} writes/s by the business,"
            f" {writes * a.detector_queries_per_record:,.0f} Query/s by the detector",
            f"  SES: {notices_for(a) * (1 - a.sms_share):,.0f} emails that day;"
            f" at {a.ses_rate:g}/s an account sends at most {a.ses_rate * DAY:,.0f} a day",
            "",
        ]
    )


def scenarios_for(
    customers: int, s: TemplateSettings
) -> tuple[list[Scenario], list[Scenario], list[Scenario]]:
    """The detector as the template sets it (and with the ParallelizationFactor that keeps up, if
    that differs); delivery at each SES rate with the matching MaximumConcurrency and the template's;
    quiet hours with a short code, a toll-free number, and email held too."""
    base = Assumptions(customers=customers)
    needed = parallelization_needed(base, s)
    pf = needed if needed != s.bills_parallelization else None
    detector = [Scenario(base, s.delivery_max_concurrency)]
    if pf:
        detector.append(Scenario(base, s.delivery_max_concurrency, parallelization=pf))
    delivery = []
    for rate in SES_RATES:
        a = replace(base, ses_rate=rate)
        matched = matched_concurrency(rate, a, s)
        delivery.append(Scenario(a, matched, parallelization=pf))
        if matched != s.delivery_max_concurrency:
            delivery.append(Scenario(a, s.delivery_max_concurrency, parallelization=pf))
    a = replace(base, ses_rate=QUIET_HOURS_SES_RATE)
    matched = matched_concurrency(QUIET_HOURS_SES_RATE, a, s)
    quiet = [
        Scenario(a, matched, parallelization=pf),
        Scenario(replace(a, sms_rate=TOLL_FREE_SMS_RATE), matched, parallelization=pf),
        Scenario(a, matched, parallelization=pf, quiet_for_email=not s.quiet_for_email),
    ]
    return detector, delivery, quiet


def main() -> int:
    s = TemplateSettings.from_template()
    print(settings_block(s))
    print(assumptions_block(Assumptions(), s))
    for customers in SIZES:
        detector, delivery, quiet = scenarios_for(customers, s)
        print(
            f"==== {customers:,} customers, {notices_for(Assumptions(customers=customers)):,} notices ====\n"
        )
        print(
            table(
                "Bills stream -> BillIncreaseDetectorFunction",
                DETECTOR_HEADER,
                detector_rows([simulate(sc, s) for sc in detector], s),
            )
        )
        results = [simulate(sc, s) for sc in delivery]
        pf = delivery[0].parallelization
        stream = f", stream ParallelizationFactor {pf}" if pf else ""
        print(
            table(
                f"NoticeQueue -> NoticeDeliveryFunction -> SES (times on the customers' clock{stream})",
                DELIVERY_HEADER,
                delivery_rows(results, s),
            )
        )
        print(
            table(
                f"Quiet hours: SMS held until 08:00, released by the sweep (SES {QUIET_HOURS_SES_RATE:g}/s)",
                QUIET_HEADER,
                quiet_rows([simulate(sc, s) for sc in quiet], s),
            )
        )
        print(capacity_lines(max(results, key=lambda r: r.scenario.concurrency), s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
