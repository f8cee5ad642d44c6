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
from botocore.client import BaseClient
from moto import mock_aws

from infra.pipeline import LocalPipeline, lambda_output_to, to_dynamodb

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

            calls: Counter[str] = Counter()
            items_read: Counter[str] = Counter()
            original = BaseClient._make_api_call

            def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
                response = original(self, operation, params)
                if self.meta.service_model.service_name == "dynamodb":
                    calls[operation] += 1
                    if operation == "Query":
                        items_read["index (Query ScannedCount)"] += response.get("ScannedCount", 0)
                    elif operation == "GetItem" and "Item" in response:
                        items_read[f"GetItem {params['TableName'].rsplit('-', 1)[-1]}"] += 1
                return response

            BaseClient._make_api_call = counting  # type: ignore[method-assign]
            try:
                swept = time.perf_counter()
                response = pipeline.sweep.fire(SWEEP_AT)
                finished = time.perf_counter()
            finally:
                BaseClient._make_api_call = original  # type: ignore[method-assign]

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
    print(f"DynamoDB calls in the sweep: {dict(calls)}")
    for what, n in sorted(items_read.items()):
        print(f"  items read, {what:34} {n:7}")
    print(f"index items read per due item: {index_reads / due:.3f}  (goal: at most 1.1)")
    print(
        f"all items read per due item:   {total_reads / due:.3f}  "
        "(index + re-check of the callback + customer)"
    )
    return 0 if index_reads / due <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
