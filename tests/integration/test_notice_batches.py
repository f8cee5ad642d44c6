"""The detectors and the sweep send their notice requests ten at a time (SendMessageBatch), on moto
from template.yaml: a request SQS will not take fails its own record or due item, which is tried
again, and every notice still goes once. And DueIndex holds only what the sweep reads of an item,
written only when that moves."""

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from headsup.adapters.due_items import SWEPT_STATE

from emulator import sent_emails, sent_sms
from emulator.faults import FaultPlan, Rule, injected
from emulator.iam import denied
from emulator.template import load_template
from sim.pipeline import LocalPipeline
from tests.stack import bill

PROMISED = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DETECTOR, SWEEP = "BillIncreaseDetectorFunction", "DueSweepFunction"


@pytest.fixture
def faults() -> Iterator[FaultPlan]:
    with injected(FaultPlan(seed=5)) as plan:
        yield plan


def refuse(faults: FaultPlan, text: str, times: int) -> Rule:
    """SQS failing the entries whose body mentions `text`, in the next `times` calls that have one."""
    return faults.fail_entries(
        "sqs",
        "SendMessageBatch",
        when=lambda params: any(text in entry["MessageBody"] for entry in params["Entries"]),
        entry=lambda entry: text in entry["MessageBody"],
        times=times,
    )


def callback(callback_id: str, customer_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": callback_id,
        "customer_id": customer_id,
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": "router keeps dropping the connection",
        **overrides,
    }


def assert_allowed(pipeline: LocalPipeline, faults: FaultPlan, function: str) -> None:
    calls = [call for call in faults.calls if call.function == function]
    assert [
        found
        for call in calls
        for found in denied(pipeline.deployment, function, call.service, call.operation, call.params)
    ] == []


def test_a_notice_sqs_will_not_take_fails_its_own_bill_record_only_and_goes_on_the_retry(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given last month's bills, already processed
    pipeline.put_bills([bill("cust-ana", "2026-10", "100"), bill("cust-jonas", "2026-10", "40")])
    pipeline.run()
    # ... and SQS failing Jonas's notice every time the next invocation sends it (three attempts)
    refused = refuse(faults, "cust-jonas", times=3)

    # When both bills go up, in one stream batch
    pipeline.put_bills([bill("cust-ana", "2026-11", "150"), bill("cust-jonas", "2026-11", "60")])
    [event] = pipeline.bills_stream.poll()
    response = pipeline.deployment.invoke(DETECTOR, event)

    # Then only Jonas's record failed (Ana's notice was queued) ...
    sequences = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    owners = [record["dynamodb"]["Keys"]["customer_id"]["S"] for record in event["Records"]]
    jonas = sequences[owners.index("cust-jonas")]
    assert response == {"batchItemFailures": [{"itemIdentifier": jonas}]}
    assert refused.injected == 3
    # ... and Lambda's retry from that record queues it
    retry = {"Records": event["Records"][sequences.index(jonas) :]}
    assert pipeline.deployment.invoke(DETECTOR, retry) == {"batchItemFailures": []}
    pipeline.deliver_notices()
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    # ... each invocation in one SendMessageBatch (its retries of the refused entry aside), which
    # the function's policy allows (IAM authorizes it as sqs:SendMessage)
    sends = Counter(c.operation for c in faults.calls if c.function == DETECTOR and c.service == "sqs")
    assert sends == {"SendMessageBatch": 4}
    assert_allowed(pipeline, faults, DETECTOR)


def test_an_entry_sqs_fails_once_is_sent_again_in_the_same_invocation(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-10", "100"), bill("cust-ana", "2026-11", "150")])
    blip = faults.fail_entries("sqs", "SendMessageBatch", code="ServiceUnavailable", times=1)

    detected, _ = pipeline.run()

    assert blip.injected == 1
    assert detected.batch_item_failures == []
    assert len(sent_emails()) == 1


def test_a_due_item_whose_notices_sqs_will_not_take_stays_due_and_goes_next_sweep(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given two overdue callbacks, and SQS failing the second one's notices all through one sweep
    pipeline.put_callbacks([callback("cb-1", "cust-ana"), callback("cb-2", "cust-jonas")])
    refused = refuse(faults, "cb-2", times=3)

    # When the sweep runs past the grace
    first = pipeline.sweep_at(PROMISED + timedelta(minutes=17))

    # Then the first callback was acted on, the second stays due as it was
    assert refused.injected == 3
    assert (first["due"], first["notices"], first["failed"]) == (2, 2, 1)
    dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
    table = pipeline.deployment.ref("DueItemsTable")
    item = dynamodb.get_item(TableName=table, Key={"item_key": {"S": "callback#cb-2"}})["Item"]
    assert "level" not in item
    assert len(pipeline.escalations()) == 1

    # ... and the next sweep sends its notices, once
    second = pipeline.sweep_at(PROMISED + timedelta(minutes=22))
    assert (second["notices"], second["failed"]) == (2, 0)
    subjects = sorted(message.subject for message in pipeline.escalations())
    assert [s.split(":")[0] for s in subjects] == ["Overdue callback cb-1", "Overdue callback cb-2"]
    assert sorted(entry["status"] for entry in pipeline.ledger()) == ["sent"] * 4
    assert_allowed(pipeline, faults, SWEEP)


# ------------------------------------------------------------------------------ visits

WINDOW_START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def visit(**overrides: Any) -> dict[str, Any]:
    return {
        "visit_id": "v-1",
        "customer_id": "cust-ana",
        "window_start": WINDOW_START.isoformat(),
        "window_end": (WINDOW_START + timedelta(hours=2)).isoformat(),
        "eta": (WINDOW_START + timedelta(minutes=30)).isoformat(),
        "status": "scheduled",
        "technician_name": "Carlos Mendes",
        **overrides,
    }


def test_a_visit_notice_sqs_will_not_take_is_not_lost_to_the_replay_guard(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    with time_machine.travel(WINDOW_START - timedelta(minutes=20), tick=True):
        pipeline.put_visits([visit()])
        pipeline.index_changes()
        # Given SQS failing the "on the way" all through one invocation
        refused = faults.fail_entries("sqs", "SendMessageBatch", times=3)

        # When the technician sets off
        pipeline.put_visits([visit(status="en_route")])
        [_, _, visits] = pipeline.index_changes()
        pipeline.deliver_notices()

    # Then its record failed alone and, retried, was not taken for a replay: one email
    assert refused.injected == 3
    assert len(visits.batch_item_failures) == 1
    assert len(sent_emails()) == 1
    assert [(entry["kind"], entry["status"]) for entry in pipeline.ledger()] == [("visit_on_the_way", "sent")]


# ------------------------------------------------------------------------------ DueIndex


def test_due_index_holds_the_keys_and_only_the_state_the_sweep_reads(pipeline: LocalPipeline) -> None:
    # Given a callback the sweep has acted on (it is due again at its new deadline)
    pipeline.put_callbacks([callback("cb-1", "cust-ana")])
    pipeline.sweep_at(PROMISED + timedelta(minutes=17))

    # When DueIndex is read as the sweep reads it
    dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=pipeline.deployment.ref("DueItemsTable"), IndexName="DueIndex"
    )
    [item] = [item for page in pages for item in page["Items"]]

    # Then it holds the keys and the callback's state, and nothing else
    assert set(item) == {"item_key", "due_shard", "due_at", "promise", "level", "deadline"}
    resources = load_template()["Resources"]
    [index] = resources["DueItemsTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert set(index["Projection"]["NonKeyAttributes"]) == SWEPT_STATE


def test_a_change_that_moves_no_due_time_writes_nothing_to_due_items(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    pipeline.put_callbacks([callback("cb-1", "cust-ana")])
    pipeline.index_changes()
    faults.calls.clear()

    # When the agent rewrites the topic, then moves the promise
    pipeline.put_callbacks([callback("cb-1", "cust-ana", topic="router and TV box")])
    pipeline.index_changes()
    unchanged = [call.operation for call in faults.calls if call.function == "DueIndexerFunction"]
    pipeline.put_callbacks(
        [callback("cb-1", "cust-ana", promised_at=(PROMISED + timedelta(hours=1)).isoformat())]
    )
    pipeline.index_changes()
    moved = [call.operation for call in faults.calls if call.function == "DueIndexerFunction"]

    assert unchanged == []
    # A new promise starts its record again: the update for the same promise, refused, then a put
    assert moved == ["UpdateItem", "PutItem"]
    assert "2026-11-24T16:15:00Z" in json.dumps(faults.calls[-1].params)  # the new promise + grace
