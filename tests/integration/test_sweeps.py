"""The due-item sweep on moto, provisioned from template.yaml, driven by EventBridge scheduled events.

Callbacks and tickets are written to their tables, the indexer is fed the stream records moto
recorded, the sweep is invoked with the scheduled-event shape EventBridge delivers, and the
notice queue is drained through the real delivery function. Held notices are parked as delivery
parks them, and released by the sweep's workers, one per shard of DueIndex."""

import io
import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from headsup.adapters.due_items import DynamoDueItems
from headsup.adapters.dynamodb import to_python
from headsup.adapters.held_notices import DueItemsHeldNotices
from headsup.domain.notices import NoticeRequest

from emulator import queue_messages, sent_emails, sent_sms
from emulator.calls import ApiCall, CallSubscriber, Proceed, subscribed
from emulator.faults import FaultPlan, injected
from emulator.iam import denied
from sim.pipeline import LocalPipeline
from sim.samples import sample_bill_increase

SWEEP = "DueSweepFunction"
_moto = threading.RLock()


@pytest.fixture(autouse=True)
def moto_one_call_at_a_time() -> Iterator[None]:
    """The sweep's workers call AWS at the same time, and moto's tables are not made for threads
    (a query walking a table while another thread deletes from it can fail): here each call the
    functions make goes to moto alone, in whatever order the workers make them."""

    def one_at_a_time(_call: ApiCall, proceed: Proceed) -> Any:
        with _moto:
            return proceed()

    with subscribed(calls=one_at_a_time):
        yield


PROMISED = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York, 07:00 in Los Angeles


def callback(**overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": "cb-1",
        "customer_id": "cust-ana",
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": "router keeps dropping the connection",
        "agent_name": "Sam",
        "team": "broadband",
        **overrides,
    }


def ticket(hours_since_update: float, now: datetime, **overrides: Any) -> dict[str, Any]:
    updated = now - timedelta(hours=hours_since_update)
    return {
        "ticket_id": "t-1",
        "customer_id": "cust-ana",
        "subject": "Invoice shows the wrong address",
        "status": "open",
        "priority": "normal",
        "created_at": (updated - timedelta(days=1)).isoformat(),
        "updated_at": updated.isoformat(),
        **overrides,
    }


def kinds_in_ledger(pipeline: LocalPipeline) -> list[tuple[str, str]]:
    return sorted((entry["kind"], entry["status"]) for entry in pipeline.ledger())


# ------------------------------------------------------------------------------ callbacks


def test_callback_on_time_raises_nothing(pipeline: LocalPipeline) -> None:
    pipeline.put_callbacks([callback()])

    response = pipeline.sweep_at(PROMISED + timedelta(minutes=10))

    assert response["notices"] == 0
    assert pipeline.ledger() == []
    assert pipeline.escalations() == []


def test_overdue_callback_gets_one_apology_and_one_escalation(pipeline: LocalPipeline) -> None:
    # Given a callback promised for 15:00 UTC, still pending
    pipeline.put_callbacks([callback()])

    # When the sweep runs at 15:17, past the 15-minute grace
    now = PROMISED + timedelta(minutes=17)
    pipeline.sweep_at(now)

    # Then the customer (Los Angeles) is told sorry with a clean new time: 15:17 + 60 min -> 16:30 UTC
    [email] = sent_emails()
    assert email.subject == "Sorry we haven't called you back yet: we will by 8:30 AM"
    assert email.text is not None
    assert "router keeps dropping the connection" in email.text
    assert email.message["Reply-To"] == "support@example.com"
    # ... and the team gets a readable subject with a JSON body
    [escalation] = pipeline.escalations()
    assert escalation.subject == "Overdue callback cb-1: 17 min late, new deadline 11:30 AM"
    body = json.loads(escalation.message)
    assert (body["callback_id"], body["customer_id"], body["minutes_late"], body["level"]) == (
        "cb-1",
        "cust-ana",
        17,
        1,
    )
    assert datetime.fromisoformat(body["new_deadline"]) == datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
    assert "is 17 minutes late" in body["summary"]
    assert kinds_in_ledger(pipeline) == [("callback_escalation", "sent"), ("callback_overdue", "sent")]


def test_rerunning_the_same_sweep_or_an_overlapping_one_sends_nothing_new(pipeline: LocalPipeline) -> None:
    pipeline.put_callbacks([callback()])
    now = PROMISED + timedelta(minutes=17)
    pipeline.sweep_at(now)

    # When the same scheduled event is delivered again, and a later sweep runs before the deadline
    again = pipeline.sweep_at(now)
    later = pipeline.sweep_at(now + timedelta(minutes=5))

    # Then nothing more went out
    assert (again["notices"], later["notices"]) == (0, 0)
    assert len(sent_emails()) == 1
    assert len(pipeline.escalations()) == 1


def test_still_pending_after_the_new_deadline_escalates_the_team_again_only(pipeline: LocalPipeline) -> None:
    pipeline.put_callbacks([callback()])
    pipeline.sweep_at(PROMISED + timedelta(minutes=17))  # new deadline 16:30

    pipeline.sweep_at(datetime(2026, 11, 24, 16, 30, tzinfo=UTC))
    pipeline.sweep_at(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # and nothing after that

    subjects = [message.subject for message in pipeline.escalations()]
    assert subjects[1] == "STILL overdue callback cb-1: missed the new deadline 11:30 AM"
    assert len(subjects) == 2
    assert len(sent_emails()) == 1  # the customer is not messaged twice for one promise


def test_a_new_promise_gets_its_own_apology(pipeline: LocalPipeline) -> None:
    pipeline.put_callbacks([callback()])
    pipeline.sweep_at(PROMISED + timedelta(minutes=17))

    new_promise = PROMISED + timedelta(hours=3)
    pipeline.put_callbacks([callback(promised_at=new_promise.isoformat())])
    pipeline.sweep_at(new_promise + timedelta(minutes=20))

    assert len(sent_emails()) == 2
    assert len(pipeline.escalations()) == 2


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_done_or_cancelled_callbacks_raise_nothing(pipeline: LocalPipeline, status: str) -> None:
    pipeline.put_callbacks([callback()])
    pipeline.index_changes()
    pipeline.put_callbacks([callback(status=status)])

    response = pipeline.sweep_at(PROMISED + timedelta(hours=2))

    assert response["due"] == 0
    assert sent_emails() == []
    assert pipeline.escalations() == []


def test_unknown_customer_still_escalates_and_the_apology_is_accounted_for(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    pipeline.put_callbacks([callback(customer_id="cust-nobody")])

    pipeline.sweep_at(PROMISED + timedelta(minutes=17))

    assert len(pipeline.escalations()) == 1
    assert kinds_in_ledger(pipeline) == [
        ("callback_escalation", "sent"),
        ("callback_overdue", "dead_lettered"),
    ]
    logs = [json.loads(line) for line in lambda_logs.getvalue().splitlines() if line.startswith('{"level')]
    assert any(
        entry["message"].startswith("Unknown customer for an overdue callback")
        and entry["customer_id"] == "cust-nobody"
        for entry in logs
    )


def test_bad_item_is_logged_and_taken_out_while_the_sweep_goes_on(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given two due callbacks, one of which the business then breaks (a time without an offset)
    pipeline.put_callbacks([callback(), callback(callback_id="cb-2")])
    pipeline.index_changes()
    pipeline.put_callbacks([callback(callback_id="cb-2", promised_at="24/11/2026 15:00")])

    # When the sweep runs (the indexer having rejected the broken change)
    response = pipeline.sweep_at(PROMISED + timedelta(minutes=17))

    # Then the good one is handled, the bad one is quarantined with a clear log line
    assert response["quarantined"] == 1
    assert len(sent_emails()) == 1
    logs = [json.loads(line) for line in lambda_logs.getvalue().splitlines() if line.startswith('{"level')]
    quarantined = [e for e in logs if e["message"].startswith("Due item breaks the data contract")]
    assert quarantined[0]["key"] == {"callback_id": "cb-2"}
    assert quarantined[0]["problems"][0].startswith("promised_at:")
    rejected = [e for e in logs if e["message"] == "Rejected record"]
    assert rejected
    assert rejected[0]["key"] == {"callback_id": "cb-2"}
    # ... and it stays out of later sweeps until the business fixes it
    assert pipeline.sweep_at(PROMISED + timedelta(minutes=30))["due"] == 0


# ------------------------------------------------------------------------------ tickets

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("priority", "hours", "stale"),
    [("urgent", 5, True), ("high", 5, False), ("high", 25, True), ("normal", 25, False), ("low", 100, False)],
)
def test_each_priority_has_its_own_sla(
    pipeline: LocalPipeline, priority: str, hours: float, stale: bool
) -> None:
    pipeline.put_tickets([ticket(hours, NOW, priority=priority)])

    pipeline.sweep_at(NOW)

    stale_kinds = {("ticket_escalation", "sent"), ("ticket_stale", "sent")}
    assert (
        stale_kinds <= set(kinds_in_ledger(pipeline))
        if stale
        else not stale_kinds & set(kinds_in_ledger(pipeline))
    )


def test_stale_ticket_tells_the_customer_and_the_team_once_per_window(pipeline: LocalPipeline) -> None:
    pipeline.put_tickets([ticket(73, NOW)])  # normal: 72 h SLA

    pipeline.sweep_at(NOW)
    pipeline.sweep_at(NOW + timedelta(hours=1))  # same window: nothing new

    [email] = sent_emails()
    assert email.subject == "We're still working on your request: Invoice shows the wrong address"
    assert email.text is not None
    assert "support@example.com" in email.text
    [escalation] = pipeline.escalations()
    assert escalation.subject == "SLA breached: ticket t-1 (normal) has had no update for 73 h"

    # One more window later (72 h more), one more of each
    pipeline.sweep_at(NOW + timedelta(hours=72))
    assert len(sent_emails()) == 2
    assert [m.subject for m in pipeline.escalations()][-1].endswith("(window 2)")


def test_team_is_warned_before_the_breach_and_the_customer_is_not_contacted(pipeline: LocalPipeline) -> None:
    pipeline.put_tickets([ticket(20, NOW, priority="high")])  # 20 of 24 h: 83 %

    pipeline.sweep_at(NOW)

    [warning] = pipeline.escalations()
    assert warning.subject == "SLA warning: ticket t-1 (high) breaches in 4 h 0 min"
    assert json.loads(warning.message)["minutes_left"] == 240
    assert sent_emails() == []
    assert sent_sms() == []
    assert pipeline.sweep_at(NOW + timedelta(minutes=5))["notices"] == 0  # once per window


def test_solved_ticket_gets_one_follow_up_after_a_day(pipeline: LocalPipeline) -> None:
    solved_at = NOW - timedelta(hours=25)
    pipeline.put_tickets([ticket(30, NOW, status="solved", solved_at=solved_at.isoformat())])

    pipeline.sweep_at(NOW)
    pipeline.sweep_at(NOW + timedelta(hours=1))

    [email] = sent_emails()
    assert email.subject == "Is everything working now? (Invoice shows the wrong address)"
    assert kinds_in_ledger(pipeline) == [("ticket_follow_up", "sent")]


@pytest.mark.parametrize("status", ["pending", "closed"])
def test_tickets_waiting_on_the_customer_or_closed_raise_nothing(
    pipeline: LocalPipeline, status: str
) -> None:
    pipeline.put_tickets([ticket(500, NOW, status=status)])

    assert pipeline.sweep_at(NOW)["due"] == 0
    assert pipeline.ledger() == []


def test_an_update_restarts_the_clock(pipeline: LocalPipeline) -> None:
    pipeline.put_tickets([ticket(60, NOW)])  # 83 % of 72 h: a warning is due
    pipeline.index_changes()
    pipeline.put_tickets([ticket(1, NOW)])  # someone replied an hour ago

    assert pipeline.sweep_at(NOW)["notices"] == 0
    assert pipeline.escalations() == []


# ------------------------------------------------------------------------------ held notices

MORNING = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 in New York: quiet hours are over


def hold_notices(pipeline: LocalPipeline, count: int) -> list[NoticeRequest]:
    """`count` notices held until MORNING, parked as delivery parks them (DueItemsHeldNotices)."""
    holds = DueItemsHeldNotices(due_items(pipeline))
    notices = [sample_bill_increase("150.00", customer_id=f"cust-{n:03d}") for n in range(count)]
    for notice in notices:
        assert holds.hold(notice, MORNING) is None
    return notices


def due_items(pipeline: LocalPipeline) -> DynamoDueItems:
    deployment = pipeline.deployment
    return DynamoDueItems(deployment.ref("DueItemsTable"), int(deployment.ref("DueIndexShards")))


def held_left(pipeline: LocalPipeline) -> dict[str, str]:
    """The held notices still in DueItemsTable: their keys and due times."""
    dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=pipeline.deployment.ref("DueItemsTable"), ConsistentRead=True
    )
    items = [to_python(item) for page in pages for item in page["Items"]]
    return {item["item_key"]: item["due_at"] for item in items if item["item_type"] == "held"}


def queued_notice_ids(pipeline: LocalPipeline) -> list[str]:
    return sorted(
        json.loads(m["Body"])["notice_id"] for m in queue_messages(pipeline.deployment, "NoticeQueue")
    )


def shards_meet(shards: int, queried: list[str]) -> CallSubscriber:
    """Each shard's first DueIndex query waits until all `shards` are under way (swept one after
    another, the first would wait in vain), and notes its shard in `queried`."""
    barrier = threading.Barrier(shards, timeout=30)

    def subscriber(call: ApiCall, proceed: Proceed) -> Any:
        params = call.params
        if params.get("IndexName") == "DueIndex" and "ExclusiveStartKey" not in params:
            queried.append(params["ExpressionAttributeValues"][":shard"]["S"])
            barrier.wait()
        return proceed()

    return subscriber


def assert_allowed(pipeline: LocalPipeline, plan: FaultPlan) -> None:
    calls = [call for call in plan.calls if call.function == SWEEP]
    assert calls
    found = [d for c in calls for d in denied(pipeline.deployment, SWEEP, c.service, c.operation, c.params)]
    assert found == []


def test_each_shard_is_released_by_a_worker_of_its_own_and_the_sweep_counts_them_all(
    pipeline: LocalPipeline,
) -> None:
    # Given 40 notices held until the morning, in every shard of DueIndex
    shards = int(pipeline.deployment.ref("DueIndexShards"))
    notices = hold_notices(pipeline, 40)
    in_shards = Counter(due_items(pipeline).shard_of(key) for key in held_left(pipeline))
    assert set(in_shards) == {str(s) for s in range(shards)}

    # When the sweep runs in the morning, each shard's query waiting for all the others to start
    queried: list[str] = []
    with injected(FaultPlan()) as plan, subscribed(calls=shards_meet(shards, queried)):
        response = pipeline.sweep.fire(MORNING)

    # Then every shard was read at the same time, and the answer counts every worker's part
    assert sorted(queried) == sorted(str(s) for s in range(shards))
    assert (response["due"], response["released"], response["notices"]) == (40, 40, 40)
    assert (response["failed"], response["stopped_early"]) == (0, False)
    # ... each notice was queued once and its item deleted (one conditional DeleteItem each)
    assert queued_notice_ids(pipeline) == sorted(notice.notice_id for notice in notices)
    assert held_left(pipeline) == {}
    calls = Counter(
        f"{call.operation} {call.params.get('IndexName', '')}".strip()
        for call in plan.calls
        if call.function == SWEEP
    )
    assert (calls["DeleteItem"], calls["Query DueIndex"]) == (40, shards)
    # ... sent ten at a time by each worker, from an outbox of its own
    assert calls["SendMessageBatch"] == sum(math.ceil(count / 10) for count in in_shards.values())
    # ... and every call the workers made was seen as the function's, which its policy allows
    assert_allowed(pipeline, plan)


def test_a_held_notice_sqs_refuses_stays_due_while_the_other_workers_release_theirs(
    pipeline: LocalPipeline,
) -> None:
    # Given 40 held notices, and SQS failing one of them all through the next sweep (three tries)
    shards = int(pipeline.deployment.ref("DueIndexShards"))
    notices = hold_notices(pipeline, 40)
    refused = notices[7]
    before = held_left(pipeline)
    with injected(FaultPlan(seed=5)) as plan, subscribed(calls=shards_meet(shards, [])):
        rule = plan.fail_entries(
            "sqs",
            "SendMessageBatch",
            when=lambda params: any(refused.notice_id in e["MessageBody"] for e in params["Entries"]),
            entry=lambda entry: refused.notice_id in entry["MessageBody"],
            times=3,
        )

        # When the sweep runs in the morning
        first = pipeline.sweep.fire(MORNING)

        # Then its item alone stays due, as it was; the other 39 went
        assert rule.injected == 3
        assert (first["released"], first["failed"]) == (39, 1)
        [(key, due_at)] = held_left(pipeline).items()
        assert (key, due_at) == (f"held#{refused.story_key}", before[key])

        # ... and the next sweep releases it: every notice queued once in all
        second = pipeline.sweep.fire(MORNING + timedelta(minutes=5))
    assert (second["released"], second["failed"]) == (1, 0)
    assert held_left(pipeline) == {}
    assert queued_notice_ids(pipeline) == sorted(notice.notice_id for notice in notices)
    assert_allowed(pipeline, plan)
