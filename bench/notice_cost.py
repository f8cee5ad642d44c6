"""What one bill-increase notice costs end to end, in AWS API calls and (emulated) time.

Runs the real handlers on moto, provisioned from template.yaml, for N customers whose bills
went up, counting every AWS call the functions make (bench.calls, wrapping botocore) by
function and operation. Wall times are moto's, in process: they show the code's own overhead,
not AWS latency. Usage: python -m bench.notice_cost [customers] (default 200).
"""

import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import time_machine
from moto import mock_aws

from bench.calls import counting_calls
from bench.results import Figure, record
from emulator import sent_emails, sent_sms
from sim.pipeline import LocalPipeline, lambda_output_to

# Inside the customers' sending window (11:00 in New York, their default zone): delivery reads the
# clock for quiet hours, and an SMS outside them would be held instead of sent.
BUSINESS_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def customers_and_bills(count: int, channel: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    customers, bills = [], []
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
        bills.append({"customer_id": customer_id, "period": "2026-10", "amount": Decimal("100.00")})
        bills.append(
            {
                "customer_id": customer_id,
                "period": "2026-11",
                "amount": Decimal("125.00"),
                "line_items": [{"description": "Plan", "amount": Decimal("125.00")}],
            }
        )
    return customers, bills


def measure(count: int, channel: str) -> dict[str, Any]:
    with ExitStack() as stack:
        stack.enter_context(time_machine.travel(BUSINESS_HOURS, tick=True))
        stack.enter_context(mock_aws())
        log = stack.enter_context(counting_calls())
        pipeline = LocalPipeline.provision()
        stack.enter_context(lambda_output_to(StringIO(), pipeline.deployment))
        customers, bills = customers_and_bills(count, channel)
        pipeline.put_customers(customers)
        pipeline.put_bills(bills)
        started = time.perf_counter()
        detect = pipeline.run_detectors()
        detected_at = time.perf_counter()
        deliver = pipeline.deliver_notices()
        finished = time.perf_counter()
        notices = len(sent_emails()) + len(sent_sms())
    calls = log.by_operation()
    if notices == 0:
        raise RuntimeError(f"no {channel} notice was sent: nothing to measure")

    print(f"\n== {count} customers, channel {channel}: {notices} notices sent ==")
    print(f"detector: {detect.invocations} invocations, {detected_at - started:.3f} s")
    print(f"delivery: {deliver.invocations} invocations, {finished - detected_at:.3f} s")
    print(f"wall time per notice (moto, in process): {(finished - started) / notices * 1000:.2f} ms")
    records = len(bills)
    print(f"{records} stream records (an earlier bill and a higher one per customer)")
    for (function, operation), n in sorted(calls.items()):
        print(f"  {function:30} {operation:34} {n:6}  {n / records:.2f}/record  {n / notices:.2f}/notice")
    total = sum(calls.values())
    print(f"AWS API calls made by the functions: {total} = {total / notices:.2f} per notice")
    # One notice's own path: its bill's Query + SendMessage, then everything delivery does.
    own = (
        1 + 1 + sum(n for (function, _), n in calls.items() if function == "NoticeDeliveryFunction") / notices
    )
    print(f"calls on one notice's own path (its bill's Query, SendMessage, delivery): {own:.2f}")
    print(
        "  (plus Lambda's own event-source polling, not counted here: stream GetRecords per batch,"
        " SQS ReceiveMessage/DeleteMessageBatch per batch of up to 10)"
    )
    return {
        "customers": count,
        "notices": notices,
        "stream_records": records,
        "calls": {f"{function} {operation}": n for (function, operation), n in sorted(calls.items())},
        "calls_per_notice": total / notices,
        "own_path_calls_per_notice": own,
        "wall_ms_per_notice": (finished - started) / notices * 1000,
    }


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    results = {channel: measure(count, channel) for channel in ("email", "sms")}
    summary = [
        Figure(f"bill-increase notice by {channel}: AWS calls per notice", r["calls_per_notice"], "calls")
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
