"""What the scale model (bench.scale_sim) is given: the settings template.yaml defines, the
assumptions it does not (each with its source in docs/scale.md), the scenarios to run, and the
figures derived from them (one delivery's time, one invocation's sending rate, the pace, the sweep's
release rate).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from emulator.template import load_template

DAY = 86_400
EMAIL, SMS = "email", "sms"

# Issue 18's pacing, as the delivery code implements it (docs/scale.md, section 2): the SES account's
# MaxSendRate R is shared by two lanes, and a batch waits in the function only for slots this close.
URGENT_SHARE = 0.05  # technician visits and callbacks
BULK_SHARE = 0.95  # bills, tickets, the rest
PACE_WAIT_S = 5.0  # a batch whose reserved slots start within this waits for them; later ones re-queue
MAX_DELAY_S = 900  # SQS DelaySeconds at most; a slot further away is re-queued again on return
# The share of the SES 24-hour quota each topic may use before it is held (urgent kinds first).
QUOTA_SHARES = {"visit": 1.00, "callback": 0.98, "ticket": 0.95, "bill": 0.90}


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
    sqs_send_s: float = 0.015  # SendMessage, and SendMessageBatch of up to 10
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
    stream_shards: int | None = None  # None: estimated from the partitions (stream_shards())
    # The sweep's parallel release, per released notice per DueIndex shard worker: 1 GetItem-equivalent
    # (7 ms) + 1/10 of a SendMessageBatch (15 ms) + 1/25 of a BatchWriteItem (10 ms), about 9 ms. One
    # constant, to be replaced by the measured figure.
    sweep_release_s: float = 0.009
    sweep_safety_margin_s: int = 10  # functions/headsup/logic/sweep.py _SAFETY_MARGIN
    ses_rate: float = 14.0  # the SES account's MaxSendRate R (emails/s)
    # The SES 24-hour quota (Max24HourSend). None: R x 86,400, which pacing at 0.95 R never reaches.
    ses_daily_quota: int | None = None
    ses_other_send_rate: float = 0.0  # mail the account sends outside headsup, unpaced (emails/s)
    sms_rate: float = 1000.0  # SMS message parts per second of the origination identity
    # A throttled send is re-queued after a random delay in [d/2, d], d = base x 2^(n-1) for its
    # n-th refusal, at most SQS's 900 s.
    throttle_retry_base_s: float = 1.0


@dataclass(frozen=True)
class Scenario:
    assumptions: Assumptions
    concurrency: int | None = None  # MaximumConcurrency of the NoticeQueue event source; None: the template's
    parallelization: int | None = None  # None: the template's
    quiet_for_email: bool | None = None  # None: the template's
    # False: the code before issue 18, for comparison: no pacing, and a throttled send goes back to
    # the queue after the visibility timeout and counts toward maxReceiveCount.
    paced: bool = True


# ------------------------------------------------------------------------------ derived figures
def email_send_s(a: Assumptions) -> float:
    return a.delivery_dynamodb_calls * a.dynamodb_call_s + a.ses_send_s + a.render_cpu_s


def sms_send_s(a: Assumptions) -> float:
    calls = a.delivery_dynamodb_calls * a.dynamodb_call_s
    return calls + a.sns_opt_out_check_s + a.sns_publish_s + a.render_cpu_s


def hold_pass_s(a: Assumptions) -> float:
    """A notice held (for quiet hours or the daily quota): the same reads and ledger writes, an
    opt-out check, one UpdateItem on DueItemsTable, no send."""
    return (a.delivery_dynamodb_calls + 1) * a.dynamodb_call_s + a.sns_opt_out_check_s + a.render_cpu_s


def per_message_overhead_s(a: Assumptions, s: TemplateSettings) -> float:
    return a.invoke_overhead_s / s.delivery_batch_size


def reserve_share_s(a: Assumptions, s: TemplateSettings) -> float:
    """The pace reservation, one conditional UpdateItem per batch, shared by its messages."""
    return a.dynamodb_call_s / s.delivery_batch_size


def requeue_s(a: Assumptions, s: TemplateSettings) -> float:
    """Re-queuing one message whose slot is far away: its share of the batch and of a SendMessageBatch
    (no per-notice DynamoDB work; the first pass adds its share of the reservation)."""
    return per_message_overhead_s(a, s) + a.sqs_send_s / min(10, s.delivery_batch_size)


def paced_email_s(a: Assumptions, s: TemplateSettings) -> float:
    """One email sent by a paced batch, its share of the batch and the reservation included."""
    return email_send_s(a) + per_message_overhead_s(a, s) + reserve_share_s(a, s)


def slot_email_rate(a: Assumptions, s: TemplateSettings) -> float:
    """Emails per second one delivery invocation sends: it works through its batch one by one."""
    return 1 / paced_email_s(a, s)


def bulk_rate(a: Assumptions) -> float:
    """The bulk lane's pace (bills, tickets): 95 % of the account's rate."""
    return BULK_SHARE * a.ses_rate


def paced_rate(a: Assumptions, s: TemplateSettings, concurrency: int) -> float:
    """Bills' emails per second: the pace, or what the concurrent invocations can send if less."""
    return min(bulk_rate(a), concurrency * slot_email_rate(a, s))


def notices_for(a: Assumptions) -> int:
    return round(a.customers * a.increase_share)


def emails_for(a: Assumptions) -> int:
    total = notices_for(a)
    return total - round(total * a.sms_share)


def ideal_end_s(a: Assumptions, last_queued_s: float) -> float:
    """The earliest the last email can go, from the run's start: when the last notice was queued, or
    the day's emails at the account's full rate R, whichever is later."""
    return max(last_queued_s, emails_for(a) / a.ses_rate)


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
    if a.stream_shards is not None:
        return a.stream_shards, {"given": a.stream_shards}
    return max(reasons.values()), reasons


def detector_record_s(a: Assumptions) -> float:
    """One bill record: the Query for the earlier bill, and a SendMessage for the increases."""
    return a.detector_queries_per_record * a.dynamodb_call_s + a.increase_share * a.sqs_send_s


def parallelization_needed(a: Assumptions) -> int:
    """The smallest ParallelizationFactor (at most 10) whose batches keep up with one shard's share of
    the billing run."""
    shards, _ = stream_shards(a)
    per_shard = a.customers / shards / a.billing_window_s
    return min(10, max(1, math.ceil(per_shard * detector_record_s(a))))


def sweep_rate(a: Assumptions, s: TemplateSettings) -> float:
    """Held notices re-queued per second while the sweep runs: one worker per DueIndex shard."""
    return s.due_index_shards / a.sweep_release_s


def sweep_items_per_tick(a: Assumptions, s: TemplateSettings) -> int:
    return math.floor((s.sweep_timeout_s - a.sweep_safety_margin_s) * sweep_rate(a, s))
