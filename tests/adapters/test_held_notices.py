"""Held notices in DueItemsTable (DueItemsHeldNotices): kept by story, so a newer notice of the same
story takes an older one's place. Against moto, with the table provisioned from template.yaml."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from headsup.adapters.due_items import DynamoDueItems, ReadStats
from headsup.adapters.dynamodb import to_python
from headsup.adapters.held_notices import DueItemsHeldNotices, Superseded
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.visits import rules as visit_rules
from headsup.domain.visits.models import Visit

from emulator import Deployment
from sim.samples import sample_bill_increase

NOW = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LATER_MORNING = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


@pytest.fixture
def due_items(deployment: Deployment) -> DynamoDueItems:
    return DynamoDueItems(deployment.ref("DueItemsTable"), shards=int(deployment.ref("DueIndexShards")))


@pytest.fixture
def holds(due_items: DynamoDueItems) -> DueItemsHeldNotices:
    return DueItemsHeldNotices(due_items)


def bill_increase(amount: str, period: str = "2026-11") -> NoticeRequest:
    return sample_bill_increase(amount, period=period, detected_at=NOW)


def late_visit_notices() -> list[NoticeRequest]:
    """A visit first seen en route and past its window: "on the way" and "running late"."""
    visit = Visit.from_item(
        {
            "visit_id": "v-1",
            "customer_id": "cust-1",
            "window_start": "2026-11-25T07:00:00+00:00",
            "window_end": "2026-11-25T09:00:00+00:00",
            "eta": "2026-11-25T09:40:00+00:00",
            "status": "en_route",
            "technician_name": "Carlos Mendes",
        }
    )
    step = visit_rules.on_change(None, visit, None, visit_rules.VisitPolicy(slip=timedelta(minutes=15)), NOW)
    return step.notices


def overdue_apology() -> NoticeRequest:
    callback = Callback.from_item(
        {
            "callback_id": "cb-1",
            "customer_id": "cust-1",
            "promised_at": "2026-11-24T21:00:00+00:00",
            "status": "pending",
            "topic": "Router keeps dropping the connection",
        }
    )
    policy = callback_rules.CallbackPolicy(grace=timedelta(minutes=10), reschedule=timedelta(minutes=60))
    step = callback_rules.on_due(
        callback, callback_rules.PromiseState(), NOW, policy, lambda: ZoneInfo("UTC")
    )
    [apology] = [notice for notice in step.notices if notice.kind is NoticeKind.CALLBACK_OVERDUE]
    return apology


def held_items(deployment: Deployment) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").scan(TableName=deployment.ref("DueItemsTable"), ConsistentRead=True)
    return [item for item in map(to_python, response["Items"]) if item["item_type"] == "held"]


def test_a_newer_notice_of_the_same_story_takes_the_older_ones_place(
    holds: DueItemsHeldNotices, due_items: DynamoDueItems, deployment: Deployment
) -> None:
    # Given a bill notice held until the morning
    older, newer = bill_increase("132.40"), bill_increase("150.00")
    assert older.notice_id != newer.notice_id
    assert older.story_key == newer.story_key == "bills/cust-1/2026-11#bill"
    assert holds.hold(older, MORNING) is None

    # When a newer notice about the same bill is held
    replaced = holds.hold(newer, LATER_MORNING)

    # Then the older one is named superseded (for delivery to settle), by the newer ...
    assert replaced == Superseded(older=older, by=newer)
    # ... and only the newer one waits, due when it may go
    [item] = held_items(deployment)
    assert item["item_key"] == "held#bills/cust-1/2026-11#bill"
    assert NoticeRequest.model_validate_json(item["request"]) == newer
    assert item["due_at"] == "2026-11-25T08:30:00Z"
    [due] = list(due_items.due(LATER_MORNING, ReadStats()))
    assert NoticeRequest.model_validate_json(due.state["request"]) == newer


def test_an_older_notice_held_after_a_newer_one_does_not_take_its_place(
    holds: DueItemsHeldNotices, deployment: Deployment
) -> None:
    # Given the notice about the corrected bill, detected later, held first (queues do not keep order)
    older = bill_increase("132.40")
    newer = bill_increase("150.00").model_copy(update={"detected_at": NOW + timedelta(minutes=5)})
    assert holds.hold(newer, LATER_MORNING) is None

    # When the older one arrives and would be held too
    superseded = holds.hold(older, MORNING)

    # Then the older is the one superseded, and the newer still waits, when it was to go
    assert superseded == Superseded(older=older, by=newer)
    [item] = held_items(deployment)
    assert NoticeRequest.model_validate_json(item["request"]) == newer
    assert item["due_at"] == "2026-11-25T08:30:00Z"


def test_holding_the_same_notice_again_replaces_nothing_and_keeps_one_record(
    holds: DueItemsHeldNotices, deployment: Deployment
) -> None:
    # A replayed message, or the sweep's release held again by the cap
    request = bill_increase("132.40")
    holds.hold(request, MORNING)

    assert holds.hold(request, LATER_MORNING) is None

    [item] = held_items(deployment)
    assert NoticeRequest.model_validate_json(item["request"]) == request
    assert item["due_at"] == "2026-11-25T08:30:00Z"


def test_a_notice_held_again_with_its_times_brought_up_to_date_replaces_only_itself(
    holds: DueItemsHeldNotices, deployment: Deployment
) -> None:
    # Given an apology held overnight, released in the morning with a new deadline (the re-check
    # moved it) and held again by the daily cap: the same notice, stating a later time
    apology = overdue_apology()
    moved = apology.model_copy(
        update={"payload": {**apology.payload, "new_deadline": "2026-11-25T09:15:00+00:00"}}
    )
    holds.hold(apology, MORNING)

    assert holds.hold(moved, LATER_MORNING) is None

    [item] = held_items(deployment)
    assert NoticeRequest.model_validate_json(item["request"]) == moved


def test_notices_of_different_stories_are_held_side_by_side(
    holds: DueItemsHeldNotices, deployment: Deployment
) -> None:
    # Given two bills of the customer, and a visit's "on the way" and "running late"
    on_the_way, running_late = sorted(late_visit_notices(), key=lambda notice: notice.kind)
    assert (on_the_way.kind, running_late.kind) == (
        NoticeKind.VISIT_ON_THE_WAY,
        NoticeKind.VISIT_RUNNING_LATE,
    )
    requests = [bill_increase("132.40"), bill_increase("150.00", period="2026-12"), on_the_way, running_late]

    # When each is held, none replaces another
    assert [holds.hold(request, MORNING) for request in requests] == [None, None, None, None]

    # Then all four wait, each under its own story
    waiting = {
        item["item_id"]: NoticeRequest.model_validate_json(item["request"]) for item in held_items(deployment)
    }
    assert waiting == {
        "bills/cust-1/2026-11#bill": requests[0],
        "bills/cust-1/2026-12#bill": requests[1],
        "visits/v-1#visit_on_the_way": on_the_way,
        "visits/v-1#visit_late": running_late,
    }


def test_a_notice_without_assertions_is_held_under_its_own_id(
    holds: DueItemsHeldNotices, deployment: Deployment
) -> None:
    # Queued before notices carried assertions: it has no story
    legacy = bill_increase("132.40").model_copy(update={"asserts": None})
    newer = bill_increase("150.00")

    assert holds.hold(legacy, MORNING) is None
    assert holds.hold(newer, MORNING) is None

    waiting = {item["item_key"]: item["request"] for item in held_items(deployment)}
    assert set(waiting) == {f"held#{legacy.notice_id}", "held#bills/cust-1/2026-11#bill"}
    assert NoticeRequest.model_validate_json(waiting[f"held#{legacy.notice_id}"]) == legacy
