"""A billing day at scale, as a small discrete-time model: Bills stream -> detector -> NoticeQueue ->
delivery (paced to the SES account's rate, issue 18) -> SES / SNS SMS, with quiet-hours and
daily-quota holds released by the due-item sweep. Backs docs/scale.md.

Every value template.yaml defines (batch sizes, parallelization factor, MaximumConcurrency default,
timeouts, visibility timeout, retention, maxReceiveCount, sweep schedule, DueIndex shards, quiet
hours, alarm threshold) is read from it; everything else is an assumption in `Assumptions`, each with
its source in the doc. What the model is given is in bench.scale_inputs (`TemplateSettings`,
`Assumptions`, `Scenario`), the model in bench.scale_model (`simulate`; its queue and delivery in
bench.scale_delivery); this module runs the doc's scenarios, prints the report and ends with the
issue's "done when" checks.
Usage: python -m bench.scale_sim
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

from bench.scale_inputs import (
    BULK_SHARE,
    DAY,
    EMAIL,
    MAX_DELAY_S,
    PACE_WAIT_S,
    QUOTA_SHARES,
    SMS,
    URGENT_SHARE,
    Assumptions,
    Scenario,
    TemplateSettings,
    email_send_s,
    emails_for,
    hold_pass_s,
    ideal_end_s,
    notices_for,
    paced_rate,
    parallelization_needed,
    requeue_s,
    slot_email_rate,
    sms_send_s,
    sweep_items_per_tick,
)
from bench.scale_model import DayResult, DetectorResult, simulate, simulate_detector

# ------------------------------------------------------------------------------ the report
SIZES = (1_000_000, 10_000_000)
SES_RATES = (14.0, 50.0, 200.0, 500.0)
QUIET_HOURS_SES_RATE = 200.0
SHORT_CODE_SMS_RATE, TOLL_FREE_SMS_RATE = 100.0, 3.0
# Before issue 18 the template's DeliveryMaxConcurrency was 5 and nothing paced the sends.
OLD_CONCURRENCY, OLD_ROW_SES_RATE = 5, 14.0
# A binding SES 24-hour quota: one million customers on a 14/s account allowed 50,000 a day.
QUOTA_CASE = (1_000_000, 14.0, 50_000)
INITIAL_PARTITIONS = 4  # a 10M table that kept only its initial on-demand partitions
# The goals.
MAX_OVER_IDEAL = 0.10
SMS_RELEASE_GOAL_S = 90 * 60
SMS_GOAL_RATE = 1000.0


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
    c = s.delivery_max_concurrency
    return "\n".join(
        [
            "Model assumptions (docs/scale.md says where each comes from):",
            f"  one delivery: email {email_send_s(a) * 1000:.0f} ms"
            f" ({a.delivery_dynamodb_calls} DynamoDB calls x {a.dynamodb_call_s * 1000:g} ms"
            f" + SES {a.ses_send_s * 1000:g} ms + render"
            f" {a.render_cpu_s * 1000:g} ms), SMS {sms_send_s(a) * 1000:.0f} ms, hold"
            f" {hold_pass_s(a) * 1000:.0f} ms; per batch of {s.delivery_batch_size}:"
            f" {a.invoke_overhead_s * 1000:g} ms + the pace reservation {a.dynamodb_call_s * 1000:g} ms",
            f"  -> one delivery invocation sends {slot_email_rate(a, s):.2f} emails/s;"
            f" MaximumConcurrency {c} -> {c * slot_email_rate(a, s):.0f} emails/s",
            f"  pacing (issue 18): bulk lane (bills) {BULK_SHARE:.0%} of the SES rate R, urgent lane"
            f" {URGENT_SHARE:.0%}; a batch waits up to {PACE_WAIT_S:g} s for its slots, else re-queues"
            f" with DelaySeconds <= {MAX_DELAY_S} s ({requeue_s(a, s) * 1000:.1f} ms per message)",
            f"  a throttled send is re-queued after a jittered delay doubling from"
            f" {a.throttle_retry_base_s:g} s to {MAX_DELAY_S} s, never counted toward maxReceiveCount",
            "  SES 24-hour quota: R x 86,400 (pacing at 0.95 R never reaches it) unless a row gives one",
            f"  sweep: {a.sweep_release_s * 1000:g} ms per held notice per worker, one worker per DueIndex"
            f" shard ({s.due_index_shards}) -> {sweep_items_per_tick(a, s):,} per tick"
            f" ({s.sweep_timeout_s} s timeout - {a.sweep_safety_margin_s} s margin)",
            f"  billing run from {clock(a, 0)} on the customers' clock (one timezone), {a.increase_share:.0%}"
            f" increases, {a.sms_share:.0%} of customers by SMS, SMS provider {a.sms_rate:,.0f}/s",
            "",
        ]
    )


def detector_rows(results: list[tuple[Assumptions, DetectorResult]], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for a, d in results:
        if a.stream_shards is None:
            why = ", ".join(f"{k} {v}" for k, v in d.shard_reasons.items())
        else:
            why = "only the initial on-demand partitions"
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


def over_ideal(r: DayResult) -> float:
    """How much later than the ideal the last email went, both from the run's start."""
    a, d = r.scenario.assumptions, r.delivery
    return (d.last_sent[EMAIL] + 1) / ideal_end_s(a, r.detector.finished_s) - 1


def delivery_rows(results: list[DayResult], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for r in results:
        a, sc, d = r.scenario.assumptions, r.scenario, r.delivery
        concurrency = sc.concurrency or s.delivery_max_concurrency
        if sc.paced:
            label = f"{concurrency}" + (" (template)" if concurrency == s.delivery_max_concurrency else "")
            rate = f"{paced_rate(a, s, concurrency):.0f}"
        else:
            label = f"{concurrency}, before issue 18"
            rate = f"{concurrency * slot_email_rate(a, s):.0f} unpaced"
        rows.append(
            [
                f"{a.ses_rate:g}",
                label,
                rate,
                f"{d.peak_depth:,}",
                clock(a, d.peak_depth_at),
                clock(a, d.last_sent[EMAIL] + 1),
                clock(a, ideal_end_s(a, r.detector.finished_s)) if sc.paced else "-",
                f"{over_ideal(r):+.1%}" if sc.paced else "-",
                duration(d.max_age_s) + (" EXPIRED" if d.max_age_s >= s.retention_s else ""),
                f"{d.requeues / max(1, r.delivery.by_channel[EMAIL]):.2f}",
                f"{d.late:,}",
                f"{d.throttled[EMAIL]:,}",
                f"{d.dead_lettered:,}",
                clock(a, d.last_sent[SMS] + 1),
            ]
        )
    return rows


DELIVERY_HEADER = [
    "SES/s",
    "MaxConc",
    "emails/s",
    "peak depth",
    "at",
    "last email",
    "ideal",
    "vs ideal",
    "oldest msg",
    "re-queues/email",
    "sent late",
    "throttled",
    "dead-lettered",
    "last SMS",
]


def quiet_rows(results: list[DayResult], s: TemplateSettings) -> list[list[str]]:
    rows = []
    for r in results:
        a, sc, d = r.scenario.assumptions, r.scenario, r.delivery
        for_email = s.quiet_for_email if sc.quiet_for_email is None else sc.quiet_for_email
        rows.append(
            [
                f"{a.sms_rate:,.0f}",
                str(for_email).lower(),
                f"{d.held:,}",
                f"{sweep_items_per_tick(a, s):,}",
                str(d.release_ticks),
                clock(a, d.release_done),
                f"{d.peak_after_opening:,}",
                clock(a, d.last_sent[SMS] + 1),
                f"{d.throttled[SMS]:,}",
                clock(a, max(d.last_sent.values()) + 1),
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
    "SMS throttled",
    "last notice",
    "dead-lettered",
]


def quota_rows(results: list[DayResult]) -> list[list[str]]:
    rows = []
    for r in results:
        a, d = r.scenario.assumptions, r.delivery
        rows.append(
            [
                f"{a.customers:,}",
                f"{a.ses_rate:g}",
                f"{a.ses_daily_quota or 0:,}",
                f"{QUOTA_SHARES['bill']:.0%}",
                f"{d.quota_holds:,}",
                f"{d.quota_released:,}",
                f"{d.peak_window_sent:,}",
                clock(a, d.last_sent[EMAIL] + 1),
                f"{d.dead_lettered:,}",
            ]
        )
    return rows


QUOTA_HEADER = [
    "customers",
    "SES/s",
    "24-h quota",
    "bills' share",
    "quota holds",
    "released",
    "most sent in 24 h",
    "last email",
    "dead-lettered",
]


def capacity_lines(fast: DayResult, slow: DayResult, s: TemplateSettings) -> str:
    a, d = fast.scenario.assumptions, fast.detector
    concurrency = fast.scenario.concurrency or s.delivery_max_concurrency
    sends = paced_rate(a, s, concurrency)
    detectors = d.shards * d.parallelization
    writes = a.customers / a.billing_window_s
    slow_a, slow_d = slow.scenario.assumptions, slow.delivery
    return "\n".join(
        [
            f"Capacity checks, {a.customers:,} customers at {a.ses_rate:g} emails/s:",
            f"  Lambda concurrency: {detectors} detector + {concurrency} delivery + 1 sweep ="
            f" {detectors + concurrency + 1} of the account's 1,000 default",
            f"  NoticeQueue in flight: at most {concurrency * s.delivery_batch_size:,}"
            f" (MaximumConcurrency x BatchSize) of ~120,000",
            f"  pace bucket: one DynamoDB item, ~{sends / s.delivery_batch_size:,.0f} conditional"
            f" UpdateItems/s while sending ({fast.delivery.reservations:,} in the run); one item takes"
            " at most 1,000 writes/s",
            f"  NoticeLedgerTable: ~{sends * 3:,.0f} write units/s"
            " (the claim, in a transaction: 2; the outcome: 1),"
            f" PreferencesTable ~{sends * 2:,.0f} (the sent log, in the claim's transaction);"
            " new on-demand tables take 4,000 writes/s",
            f"  BillsTable: {writes:,.0f} writes/s by the business,"
            f" {writes * a.detector_queries_per_record:,.0f} Query/s by the detector",
            f"  SES: {emails_for(a):,} emails that day; at {a.ses_rate:g}/s an account sends at most"
            f" {a.ses_rate * DAY:,.0f} a day",
            f"  re-queues at {slow_a.ses_rate:g}/s: {slow_d.requeues:,} messages"
            f" (~{slow_d.requeues / 10:,.0f} SendMessageBatch calls) over"
            f" {duration(slow_d.last_sent[EMAIL])}; the pace bucket took {slow_d.reservations:,} UpdateItems",
            "",
        ]
    )


# ------------------------------------------------------------------------------ the scenarios
@dataclass
class SizeResults:
    customers: int
    detector: list[tuple[Assumptions, DetectorResult]]
    delivery: list[DayResult]  # the template's parameters, at each SES rate
    old: DayResult | None  # the code before issue 18
    quiet: list[DayResult]
    quota: list[DayResult]


def detector_runs(base: Assumptions, s: TemplateSettings) -> list[tuple[Assumptions, DetectorResult]]:
    """The template's ParallelizationFactor; at 10M also a table with only its initial partitions,
    at the template's PF and at the PF it would need."""
    runs = [(base, s.bills_parallelization)]
    if base.customers >= 10 * SIZES[0]:
        few = replace(base, stream_shards=INITIAL_PARTITIONS)
        runs.append((few, s.bills_parallelization))
        needed = parallelization_needed(few)
        if needed != s.bills_parallelization:
            runs.append((few, needed))
    return [(a, simulate_detector(a, s, pf)) for a, pf in runs]


def run_size(base: Assumptions, s: TemplateSettings) -> SizeResults:
    """Every scenario for one business size (`base`: the default assumptions at that size)."""
    customers = base.customers
    detector = detector_runs(base, s)
    delivery = [simulate(Scenario(replace(base, ses_rate=rate)), s) for rate in SES_RATES]
    old = None
    if customers == SIZES[0]:
        old_a = replace(base, ses_rate=OLD_ROW_SES_RATE)
        old = simulate(Scenario(old_a, concurrency=OLD_CONCURRENCY, paced=False), s)
    quiet_a = replace(base, ses_rate=QUIET_HOURS_SES_RATE)
    quiet = [next(r for r in delivery if r.scenario.assumptions == quiet_a)]
    sms_rates = [SHORT_CODE_SMS_RATE] + ([TOLL_FREE_SMS_RATE] if customers == SIZES[0] else [])
    quiet += [simulate(Scenario(replace(quiet_a, sms_rate=rate)), s) for rate in sms_rates]
    quiet.append(simulate(Scenario(quiet_a, quiet_for_email=not s.quiet_for_email), s))
    quota = []
    if customers == QUOTA_CASE[0]:
        quota_a = replace(base, ses_rate=QUOTA_CASE[1], ses_daily_quota=QUOTA_CASE[2])
        quota.append(simulate(Scenario(quota_a), s))
    return SizeResults(customers, detector, delivery, old, quiet, quota)


def print_size(size: SizeResults, s: TemplateSettings) -> None:
    base = Assumptions(customers=size.customers)
    print(f"==== {size.customers:,} customers, {notices_for(base):,} notices ====\n")
    print(
        table(
            "Bills stream -> BillIncreaseDetectorFunction", DETECTOR_HEADER, detector_rows(size.detector, s)
        )
    )
    rows = size.delivery + ([size.old] if size.old else [])
    print(
        table(
            "NoticeQueue -> NoticeDeliveryFunction -> SES (times on the customers' clock)",
            DELIVERY_HEADER,
            delivery_rows(rows, s),
        )
    )
    print(
        table(
            f"Quiet hours: SMS held until 08:00, released by the sweep (SES {QUIET_HOURS_SES_RATE:g}/s)",
            QUIET_HEADER,
            quiet_rows(size.quiet, s),
        )
    )
    if size.quota:
        print(
            table(
                "A binding SES 24-hour quota: held, released as the window frees",
                QUOTA_HEADER,
                quota_rows(size.quota),
            )
        )
    print(capacity_lines(size.delivery[-1], size.delivery[0], s))


# ------------------------------------------------------------------------------ done when (issue 18)
Check = tuple[str, str, str, bool | None]


def done_when(sizes: list[SizeResults], s: TemplateSettings) -> list[Check]:
    """The issue's figures at the template's default parameters: (check, goal, measured, passed)."""
    runs = [r for size in sizes for r in size.delivery]
    dead = sum(r.delivery.dead_lettered for r in runs + [q for size in sizes for q in size.quota])
    checks: list[Check] = [
        (
            f"dead letters (throttling, quota), {len(runs)} runs + the quota row",
            "0",
            f"{dead:,}",
            dead == 0,
        )
    ]
    for r in runs:
        a = r.scenario.assumptions
        ratio = over_ideal(r)
        checks.append(
            (
                f"last email vs ideal, {a.customers:,} at {a.ses_rate:g}/s",
                f"<= +{MAX_OVER_IDEAL:.0%}",
                f"{ratio:+.1%}",
                ratio <= MAX_OVER_IDEAL + 1e-9,
            )
        )
    checks += [sms_check(sizes[-1], s), lag_check(sizes[-1], s)]
    pace = max(r.delivery.peak_slots_per_s / r.scenario.assumptions.ses_rate for r in runs)
    checks.append(("send slots reserved in any one second, all runs", "<= R", f"<= {pace:.2f} R", pace <= 1))
    throttled = sum(r.delivery.throttled[EMAIL] for r in runs)
    emails = sum(r.delivery.by_channel[EMAIL] for r in runs)
    checks.append(
        (
            "SES throttles (deferred, never failed), all runs",
            "~0",
            f"{throttled:,} ({throttled / emails:.2%})",
            None,
        )
    )
    return checks


def sms_check(size: SizeResults, s: TemplateSettings) -> Check:
    latest = max(size.delivery, key=lambda r: r.delivery.last_sent[SMS])
    a, d = latest.scenario.assumptions, latest.delivery
    opening = (s.quiet_start_s - a.billing_start_local_s) % DAY  # when quiet hours end
    after = d.last_sent[SMS] + 1 - opening
    return (
        f"{size.customers:,}: {d.by_channel[SMS]:,} held SMS sent, SMS {a.sms_rate:,.0f}/s"
        f" (latest of the {len(size.delivery)} SES rates)",
        f"<= {clock(a, opening + SMS_RELEASE_GOAL_S)} (+{SMS_RELEASE_GOAL_S // 60} min)",
        f"{clock(a, d.last_sent[SMS] + 1)} (+{after / 60:.0f} min)",
        after <= SMS_RELEASE_GOAL_S and a.sms_rate == SMS_GOAL_RATE,
    )


def lag_check(size: SizeResults, s: TemplateSettings) -> Check:
    template = size.detector[0][1]
    return (
        f"bills stream at {size.customers:,}, {template.shards} shards,"
        f" PF {template.parallelization}: oldest record",
        f"<= {s.iterator_age_alarm_s:g} s (alarm)",
        duration(template.max_lag_s),
        template.max_lag_s <= s.iterator_age_alarm_s,
    )


def done_when_table(checks: list[Check]) -> str:
    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("PASS" if ok else "FAIL")

    rows = [[name, goal, measured, verdict(ok)] for name, goal, measured, ok in checks]
    return table(
        "Done when (issue 18), the template's default parameters",
        ["check", "goal", "measured", "result"],
        rows,
    )


def main() -> int:
    s = TemplateSettings.from_template()
    print(settings_block(s))
    print(assumptions_block(Assumptions(), s))
    sizes = []
    for customers in SIZES:
        size = run_size(Assumptions(customers=customers), s)
        print_size(size, s)
        sizes.append(size)
    checks = done_when(sizes, s)
    print(done_when_table(checks))
    return 0 if all(ok is not False for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
