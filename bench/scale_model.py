"""The scale model itself, one second at a time: the Bills stream and its detector, then a whole day,
the detector's output split into notices and delivered by NoticeQueue, its consumers and the
providers (bench.scale_delivery). See bench.scale_sim."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from bench.scale_delivery import Delivery, DeliveryResult, allocate
from bench.scale_inputs import (
    EMAIL,
    SMS,
    Assumptions,
    Scenario,
    TemplateSettings,
    detector_record_s,
    notices_for,
    stream_shards,
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
