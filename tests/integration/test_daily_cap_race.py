"""The daily cap is strict: deliveries for one customer running at the same moment cannot together
send more than MaxNoticesPerDay.

N copies of the delivery function (as N concurrent Lambda environments: each its own adapters and
clients, built as the handler builds them, with the template's settings) each get one of the same
customer's notices. Each reads the customer and decides; then all of them reach their claim at
once (a barrier on the claim call), and the claims go to moto one at a time. Without a cap that is
checked at the claim, every one of them has seen "nothing sent today" and sends.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.handlers import notice_delivery
from headsup.logic.delivery import Attempt, NoticeDelivery

from emulator import sent_emails
from emulator.calls import ApiCall, Proceed, invoking_function, subscribed
from emulator.deployment import _environment
from sim.pipeline import LocalPipeline
from tests.stack import ANA, ledger_claim

DELIVERY = "NoticeDeliveryFunction"
CONCURRENT = 6


def bill_notice(period: str) -> NoticeRequest:
    customer_id = str(ANA["customer_id"])
    return NoticeRequest(
        notice_id=make_notice_id(NoticeKind.BILL_INCREASE, customer_id, period),
        kind=NoticeKind.BILL_INCREASE,
        customer_id=customer_id,
        detected_at=datetime.now(UTC),
        payload={
            "period": period,
            "compared_period": "2026-01",
            "is_correction": False,
            "currency": "USD",
            "previous_amount": "100.00",
            "new_amount": "130.00",
            "difference": "30.00",
            "percent": "30.0",
            "due_date": "2026-12-15",
            "changed_items": [],
        },
    )


def is_claim_to_send(call: ApiCall) -> bool:
    """The claim of a notice about to be sent: the ledger write whose intent is `send`."""
    claim = ledger_claim(call.params, call.operation)
    return claim is not None and claim["ExpressionAttributeValues"][":intent"] == {"S": "send"}


def claims_meet_at_a_barrier(parties: int) -> Callable[[ApiCall, Proceed], Any]:
    """Every delivery's first claim waits for all the others to reach theirs; then each AWS call
    goes to moto alone (moto's tables are not made for threads)."""
    barrier = threading.Barrier(parties, timeout=60)
    one_at_a_time = threading.Lock()
    waited = threading.local()

    def subscriber(call: ApiCall, proceed: Proceed) -> Any:
        if is_claim_to_send(call) and not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        with one_at_a_time:
            return proceed()

    return subscriber


def max_per_day(pipeline: LocalPipeline) -> int:
    return int(pipeline.deployment.function_env(DELIVERY)["MAX_NOTICES_PER_DAY"])


def test_concurrent_deliveries_for_one_customer_never_send_more_than_the_daily_cap(
    pipeline: LocalPipeline,
) -> None:
    # Given six of Ana's notices, each in its own delivery environment, all deciding at once
    cap = max_per_day(pipeline)
    assert cap < CONCURRENT
    notices = [bill_notice(f"2026-{month:02d}") for month in range(2, 2 + CONCURRENT)]
    with _environment(pipeline.deployment.function_env(DELIVERY)):
        environments: list[NoticeDelivery] = [
            notice_delivery.build_delivery.__wrapped__()  # type: ignore[attr-defined]
            for _ in notices
        ]
    statuses: dict[str, str] = {}
    errors: list[BaseException] = []

    def deliver(delivery: NoticeDelivery, request: NoticeRequest) -> None:
        attempt = Attempt(number=1, max_attempts=5, lease_until=datetime.now(UTC) + timedelta(minutes=2))
        try:
            with invoking_function(DELIVERY):
                delivery.prefetch([(request, 1)])
                statuses[request.notice_id] = delivery.deliver(request, attempt)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            errors.append(exc)

    # When they all claim at the same moment
    with subscribed(calls=claims_meet_at_a_barrier(len(notices))):
        threads = [
            threading.Thread(target=deliver, args=(delivery, request))
            for delivery, request in zip(environments, notices, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    # Then exactly the cap's worth went out, and the others are held until a place frees
    assert errors == []
    assert len(sent_emails()) == cap
    assert sorted(statuses.values()) == sorted(["sent"] * cap + ["held"] * (CONCURRENT - cap))
    held = [entry for entry in pipeline.ledger() if entry["status"] == "held"]
    assert {entry["reason"] for entry in held} == {"frequency_cap"}
    # ... and Ana's sent log names exactly the notices that were sent
    preferences = pipeline.deployment.ref("PreferencesTable")
    item = boto3.client("dynamodb").get_item(
        TableName=preferences, Key={"customer_id": {"S": str(ANA["customer_id"])}}, ConsistentRead=True
    )
    logged = set(item["Item"]["sent_log"]["M"])
    assert logged == {notice_id for notice_id, status in statuses.items() if status == "sent"}
