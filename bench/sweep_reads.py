"""Read amplification of the due-item sweep: items read per due item.

Loads N callbacks (default 20,000) into CallbacksTable on moto, provisioned from template.yaml,
indexes them through the real DueIndexerFunction (fed from the table's stream), then runs one
sweep at a moment when 1 % of them are overdue, counting what the sweep reads from DynamoDB:
- index items read (DynamoDB's ScannedCount on DueIndex queries): what it pays to *find* due items;
- all items read, including the one consistent GetItem per due item that re-checks the callback
  itself and the customer lookup for the new deadline's timezone.
Usage: python -m bench.sweep_reads [callbacks] [due_percent]
"""

import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import boto3
from moto import mock_aws

from bench.calls import counting_calls
from bench.results import Figure, record
from sim.pipeline import LocalPipeline, lambda_output_to, to_dynamodb

SWEEP_AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def callbacks(count: int, due_percent: float) -> list[dict[str, Any]]:
    due = round(count * due_percent / 100)
    items = []
    for n in range(count):
        # The first `due` are 30 min overdue; the rest are promised for later today or tomorrow.
        offset = timedelta(minutes=-30) if n < due else timedelta(minutes=30 + n % 2000)
        items.append(
            {
                "callback_id": f"cb-{n:06d}",
                "customer_id": f"cust-{n % 500:04d}",
                "promised_at": (SWEEP_AT + offset).isoformat(),
                "status": "pending",
                "topic": "billing question",
            }
        )
    return items


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    due_percent = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    with mock_aws():
        pipeline = LocalPipeline.provision()
        with lambda_output_to(StringIO(), pipeline.deployment):
            started = time.perf_counter()
            dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
            table = pipeline.deployment.ref("CallbacksTable")
            batch = [to_dynamodb(item) for item in callbacks(count, due_percent)]
            for start in range(0, len(batch), 25):
                dynamodb.batch_write_item(
                    RequestItems={
                        table: [{"PutRequest": {"Item": item}} for item in batch[start : start + 25]]
                    }
                )
            pipeline.put_customers(
                [
                    {"customer_id": f"cust-{n:04d}", "first_name": "Bench", "email": f"c{n}@example.com"}
                    for n in range(500)
                ]
            )
            loaded = time.perf_counter()
            pipeline.index_changes()
            indexed = time.perf_counter()

            items_read: Counter[str] = Counter()

            def observe(
                function: str, service: str, operation: str, params: dict[str, Any], response: Any
            ) -> None:
                if service != "dynamodb":
                    return
                if operation == "Query":
                    items_read["index (Query ScannedCount)"] += response.get("ScannedCount", 0)
                elif operation == "GetItem" and "Item" in response:
                    items_read[f"GetItem {params['TableName'].rsplit('-', 1)[-1]}"] += 1

            with counting_calls(observe) as log:
                swept = time.perf_counter()
                response = pipeline.sweep.fire(SWEEP_AT)
                finished = time.perf_counter()

    due = response["due"]
    index_reads = items_read["index (Query ScannedCount)"]
    total_reads = sum(items_read.values())
    print(
        f"callbacks: {count}, due at the sweep: {due} ({due / count:.1%}), "
        f"notices queued: {response['notices']}"
    )
    print(
        f"load {loaded - started:.1f} s, index via stream {indexed - loaded:.1f} s, "
        f"sweep {finished - swept:.2f} s (moto)"
    )
    calls = {op: n for (_, service, op), n in sorted(log.calls.items()) if service == "dynamodb"}
    print(f"DynamoDB calls in the sweep: {calls}")
    for what, n in sorted(items_read.items()):
        print(f"  items read, {what:34} {n:7}")
    print(f"index items read per due item: {index_reads / due:.3f}  (goal: at most 1.1)")
    print(
        f"all items read per due item:   {total_reads / due:.3f}  "
        "(index + re-check of the callback + customer)"
    )
    record(
        "sweep_reads",
        [
            Figure("sweep: index items read per due item", index_reads / due, "items", goal=1.1),
            Figure("sweep: all items read per due item", total_reads / due, "items"),
        ],
        {
            "callbacks": count,
            "due": due,
            "notices_queued": response["notices"],
            "dynamodb_calls": calls,
            "items_read": dict(items_read),
            "index_items_read_per_due_item": index_reads / due,
            "all_items_read_per_due_item": total_reads / due,
            "sweep_seconds_moto": finished - swept,
        },
    )
    return 0 if index_reads / due <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
