"""What one bill-increase notice costs on its own path, in AWS API calls and (emulated) time.

Runs the real handlers on moto, provisioned from template.yaml, for N customers whose bills went
up, counting every AWS call the functions make (bench.calls, on the emulator's call hook) by
function and operation, and their DynamoDB request units (bench.request_units).

Each customer's October bill arrives and is detected first, a month before (as in production,
where it was detected when it arrived): those calls are counted apart and reported as the month
before, not on any notice's path. Then, in the counting window, November's higher bills arrive,
are detected and their notices delivered: the path of a notice = every call counted in that
window / notices sent. Provisioning (custom resources) is outside both. Receipts (SES's and SNS's
reports of what became of each message) come later and are measured by bench.busy_day.

Wall times are moto's, in process: they show the code's own overhead, not AWS latency.
Usage: python -m bench.notice_cost [customers] (default 200).
"""

import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import time_machine
from moto import mock_aws

from bench.calls import CallLog, counting_calls
from bench.request_units import RequestUnits
from bench.results import Figure, record
from emulator import sent_emails, sent_sms
from sim.pipeline import LocalPipeline, lambda_output_to

# Inside the customers' sending window (11:00 in New York, their default zone): delivery reads the
# clock for quiet hours, and an SMS outside them would be held instead of sent.
BUSINESS_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
# When the October bills arrived and were detected: a month before, also in business hours.
MONTH_BEFORE = BUSINESS_HOURS - timedelta(days=31)
# Issue 17: billable calls on one bill-increase notice's own path.
GOAL_PATH_CALLS = {"email": 4.0, "sms": 5.0}


def customers_and_bills(
    count: int, channel: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The customers, their October bills, and their higher November bills."""
    customers, october, november = [], [], []
    for n in range(count):
        customer_id = f"bench-{channel}-{n:05d}"
        customers.append(
            {
                "customer_id": customer_id,
                "first_name": "Bench",
                "email": f"{customer_id}@example.com",
                "phone": f"+1415555{n % 10000:04d}" if n % 100 != 99 else "+14155550100",
                "channels": [channel],
            }
        )
        october.append({"customer_id": customer_id, "period": "2026-10", "amount": Decimal("100.00")})
        november.append(
            {
                "customer_id": customer_id,
                "period": "2026-11",
                "amount": Decimal("125.00"),
                "line_items": [{"description": "Plan", "amount": Decimal("125.00")}],
            }
        )
    return customers, october, november


def measure(count: int, channel: str) -> dict[str, Any]:
    customers, october, november = customers_and_bills(count, channel)
    with ExitStack() as stack:
        stack.enter_context(time_machine.travel(MONTH_BEFORE, tick=True))
        stack.enter_context(mock_aws())
        pipeline = LocalPipeline.provision()
        stack.enter_context(lambda_output_to(StringIO(), pipeline.deployment))
        pipeline.put_customers(customers)
        with counting_calls() as month_before:
            pipeline.put_bills(october)
            pipeline.run()
        unsent = len(sent_emails()) + len(sent_sms())
        units = RequestUnits(pipeline.deployment)
        with time_machine.travel(BUSINESS_HOURS, tick=True), counting_calls(units) as log:
            pipeline.put_bills(november)
            started = time.perf_counter()
            detect = pipeline.run_detectors()
            detected_at = time.perf_counter()
            deliver = pipeline.deliver_notices()
            finished = time.perf_counter()
        notices = len(sent_emails()) + len(sent_sms()) - unsent
    if notices == 0 or unsent:
        raise RuntimeError(
            f"{notices} {channel} notices sent in the window, {unsent} before it: expected N and 0"
        )
    if log.observer_errors:
        raise RuntimeError(f"the request-unit estimate failed: {log.observer_errors[:3]}")
    calls = log.by_operation()
    total = sum(calls.values())
    rru, wru, _ = units.totals()
    print(f"\n== {count} customers, channel {channel}: {notices} notices sent ==")
    print(f"detector: {detect.invocations} invocations, {detected_at - started:.3f} s")
    print(f"delivery: {deliver.invocations} invocations, {finished - detected_at:.3f} s")
    print(f"wall time per notice (moto, in process): {(finished - started) / notices * 1000:.2f} ms")
    print(f"{len(november)} stream records (November's higher bills), {notices} notices")
    for (function, operation), n in sorted(calls.items()):
        print(f"  {function:30} {operation:34} {n:6}  {n / notices:.2f}/notice")
    print(
        f"calls on one notice's own path (November's detection and delivery): {total} = "
        f"{total / notices:.2f} per notice (goal ≤ {GOAL_PATH_CALLS[channel]:g}); DynamoDB "
        f"{wru / notices:.2f} WRU and {rru / notices:.2f} RRU per notice"
    )
    print(f"the month before, not on this notice's path (October's detection): {_listed(month_before)}")
    print(
        "  (plus Lambda's own event-source polling, not counted here: stream GetRecords per batch,"
        " SQS ReceiveMessage/DeleteMessageBatch per batch of up to 10)"
    )
    return {
        "customers": count,
        "notices": notices,
        "stream_records": len(november),
        "calls": {f"{function} {operation}": n for (function, operation), n in sorted(calls.items())},
        "own_path_calls_per_notice": total / notices,
        "dynamodb_wru_per_notice": wru / notices,
        "dynamodb_rru_per_notice": rru / notices,
        "month_before_calls_not_on_the_path": {
            f"{function} {operation}": n
            for (function, operation), n in sorted(month_before.by_operation().items())
        },
        "wall_ms_per_notice": (finished - started) / notices * 1000,
    }


def _listed(log: CallLog) -> str:
    calls: Counter[tuple[str, str]] = log.by_operation()
    return (
        ", ".join(f"{function} {operation} {n}" for (function, operation), n in sorted(calls.items()))
        or "none"
    )


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    results = {channel: measure(count, channel) for channel in ("email", "sms")}
    summary = [
        Figure(
            f"bill-increase notice by {channel}: billable AWS calls on its own path",
            r["own_path_calls_per_notice"],
            "calls",
            goal=GOAL_PATH_CALLS[channel],
        )
        for channel, r in results.items()
    ]
    summary += [
        Figure(
            f"bill-increase notice by {channel}: DynamoDB WRU on its path",
            r["dynamodb_wru_per_notice"],
            "WRU",
        )
        for channel, r in results.items()
    ]
    summary += [
        Figure(
            f"bill-increase notice by {channel}: wall time per notice (moto)", r["wall_ms_per_notice"], "ms"
        )
        for channel, r in results.items()
    ]
    record("notice_cost", summary, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
