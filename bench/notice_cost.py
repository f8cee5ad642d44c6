"""What one bill-increase notice costs end to end, in AWS API calls and (emulated) time.

Runs the real handlers on moto, provisioned from template.yaml, for N customers whose bills
went up, counting every AWS call the functions make (botocore `before-call` events) by
function and operation. Wall times are moto's, in process: they show the code's own overhead,
not AWS latency. Usage: python -m bench.notice_cost [customers] (default 200).
"""

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from decimal import Decimal
from io import StringIO
from typing import Any

from botocore.client import BaseClient
from moto import mock_aws

from infra.local_aws import Deployment, sent_emails, sent_sms
from infra.pipeline import LocalPipeline, lambda_output_to

_function: ContextVar[str | None] = ContextVar("function", default=None)


@contextmanager
def counting_calls() -> Iterator[Counter[tuple[str, str]]]:
    """Count AWS calls made inside function invocations, keyed by (function, service.Operation).

    Wraps botocore's single entry point for API calls, so no client can slip past the count.
    """
    calls: Counter[tuple[str, str]] = Counter()
    original_call = BaseClient._make_api_call

    def count(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = _function.get()
        if function is not None:
            calls[(function, f"{self.meta.service_model.service_name}.{operation_name}")] += 1
        return original_call(self, operation_name, api_params)

    original_invoke = Deployment.invoke

    def invoke(self: Deployment, function_logical_id: str, event: dict[str, Any], **kwargs: Any) -> Any:
        token = _function.set(function_logical_id)
        try:
            return original_invoke(self, function_logical_id, event, **kwargs)
        finally:
            _function.reset(token)

    BaseClient._make_api_call = count  # type: ignore[method-assign]
    Deployment.invoke = invoke  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Deployment.invoke = original_invoke  # type: ignore[method-assign]
        BaseClient._make_api_call = original_call  # type: ignore[method-assign]


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


def measure(count: int, channel: str) -> None:
    with ExitStack() as stack:
        stack.enter_context(mock_aws())
        calls = stack.enter_context(counting_calls())
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


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for channel in ("email", "sms"):
        measure(count, channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
