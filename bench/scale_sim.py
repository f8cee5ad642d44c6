"""A billing day at scale, as a small discrete-time model: Bills stream -> detector -> NoticeQueue ->
delivery -> SES / SNS SMS, with quiet-hours holds released by the due-item sweep. Backs docs/scale.md.

Every value template.yaml defines (batch sizes, parallelization factor, MaximumConcurrency default,
timeouts, visibility timeout, retention, maxReceiveCount, sweep schedule, quiet hours, alarm threshold)
is read from it; everything else is an assumption in `Assumptions`, each with its source in the doc.
What the model is given is in bench.scale_inputs (`TemplateSettings`, `Assumptions`, `Scenario`),
the model in bench.scale_model (`simulate`); this module runs the doc's scenarios and prints the report.
Usage: python -m bench.scale_sim
"""

from __future__ import annotations

import sys
from dataclasses import replace

from bench.scale_inputs import (
    DAY,
    EMAIL,
    SMS,
    Assumptions,
    Scenario,
    TemplateSettings,
    email_send_s,
    hold_pass_s,
    matched_concurrency,
    notices_for,
    parallelization_needed,
    slot_email_rate,
    sms_send_s,
    sweep_item_s,
    sweep_items_per_tick,
)
from bench.scale_model import DayResult, simulate

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
            f"  NoticeLedgerTable: ~{sends * 3:,.0f} write units/s"
            " (the claim, in a transaction: 2; the outcome: 1),"
            f" PreferencesTable ~{sends * 2:,.0f} (the sent log, in the claim's transaction);"
            " new on-demand tables take 4,000 writes/s",
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
