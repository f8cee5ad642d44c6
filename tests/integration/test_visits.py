"""Visits stream -> on the way / running late / thank you, on moto from template.yaml.

from collections import Counter
Visit changes are written to VisitsTable; the visit detector is fed the stream records moto
recorded (in the template's batches, after its FilterCriteria), the sweep is fired with
EventBridge scheduled events for the window-end check, and the queue is drained through the
real delivery function."""

import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from emulator import sent_emails, sent_sms
from emulator.faults import FaultPlan, injected
from sim.pipeline import LocalPipeline

WINDOW_START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 9:00-11:00 AM in New York
WINDOW_END = WINDOW_START + timedelta(hours=2)
MARIA = {
    "customer_id": "cust-maria",
    "first_name": "Maria",
    "email": "maria@example.com",
    "phone": "+14155550123",
    "timezone": "America/New_York",
    "channels": ["email", "sms"],  # email first, but SMS is allowed
}


def visit(**overrides: Any) -> dict[str, Any]:
    return {
        "visit_id": "v-1",
        "customer_id": "cust-maria",
        "window_start": WINDOW_START.isoformat(),
        "window_end": WINDOW_END.isoformat(),
        "eta": (WINDOW_START + timedelta(minutes=30)).isoformat(),
        "status": "scheduled",
        "technician_name": "Carlos Mendes",
        **overrides,
    }


def at(minutes_after_window_start: int) -> str:
    return (WINDOW_START + timedelta(minutes=minutes_after_window_start)).isoformat()


@pytest.fixture
def visits(pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    # The morning of the visit: an "on the way" after the technician is due would be skipped
    # as expired, as it should be.
    with time_machine.travel(WINDOW_START - timedelta(minutes=20), tick=True):
        pipeline.put_customers([MARIA])
        pipeline.put_visits([visit()])
        pipeline.index_changes()
        yield pipeline


def settle(pipeline: LocalPipeline) -> None:
    pipeline.index_changes()
    pipeline.deliver_notices()


def texts() -> list[str]:
    return [sms.message for sms in sent_sms()]


def test_on_the_way_is_one_sms_with_the_first_name_and_local_eta(visits: LocalPipeline) -> None:
    visits.put_visits([visit(status="en_route", eta=at(40))])
    settle(visits)
    visits.put_visits([visit(status="en_route", eta=at(45))])  # the app refreshes the ETA
    settle(visits)

    # One text, with the ETA from when they set off; the refreshed ETA does not re-announce
    assert texts() == [
        "Example Co: Hi Maria, Carlos is on the way, arriving around 9:40 AM. Reply STOP to opt out."
    ]
    assert sent_emails() == []  # SMS first, although her usual order starts with email


def test_late_with_a_reason_says_why_and_when(visits: LocalPipeline) -> None:
    visits.put_visits([visit(status="en_route", eta=at(160), delay_reason="previous job ran over")])
    settle(visits)

    late = [t for t in texts() if "running late" in t]
    assert late == [
        "Example Co: Sorry Maria, Carlos is running late (previous job ran over). "
        "New arrival time: 11:40 AM. Reply STOP to opt out."
    ]


def test_late_without_a_reason_still_gives_the_new_eta(visits: LocalPipeline) -> None:
    visits.put_visits([visit(eta=at(150))])
    settle(visits)

    assert texts() == [
        "Example Co: Sorry Maria, Carlos is running late. New arrival time: 11:30 AM. Reply STOP to opt out."
    ]


def test_further_slips_notify_only_past_the_threshold(visits: LocalPipeline) -> None:
    visits.put_visits([visit(eta=at(140))])  # 20 min late: told
    settle(visits)
    visits.put_visits([visit(eta=at(150))])  # 10 min more: under 15, not told
    settle(visits)
    visits.put_visits([visit(eta=at(155))])  # 15 min past the ETA they were told: told again
    settle(visits)

    assert [t.split("New arrival time: ")[1][:8] for t in texts()] == ["11:20 AM", "11:35 AM"]


def test_eta_moving_earlier_or_back_inside_the_window_never_says_late(visits: LocalPipeline) -> None:
    visits.put_visits([visit(eta=at(100))])  # earlier, still inside the window
    settle(visits)
    visits.put_visits([visit(eta=at(140))])  # late: told once
    settle(visits)
    visits.put_visits([visit(eta=at(130))])  # a bit earlier: nothing
    visits.put_visits([visit(eta=at(110))])  # back inside: nothing
    settle(visits)

    assert len([t for t in texts() if "running late" in t]) == 1


def test_arrival_in_the_same_batch_as_a_late_eta_sends_no_late_notice(visits: LocalPipeline) -> None:
    # Given an ETA slip and the arrival written before the detector reads either
    visits.put_visits([visit(status="en_route", eta=at(150))])
    visits.put_visits([visit(status="arrived", eta=at(150))])

    [event] = visits.visits_stream.poll()
    visits.deployment.invoke("VisitDetectorFunction", event)
    visits.deliver_notices()

    # Then they are not told the technician at their door is on the way, or late
    assert texts() == []
    assert sent_emails() == []
    assert len(event["Records"]) == 2


def test_cancelled_visit_raises_nothing_and_is_not_checked_at_window_end(visits: LocalPipeline) -> None:
    visits.put_visits([visit(status="cancelled", eta=at(200))])
    settle(visits)

    response = visits.sweep_at(WINDOW_END + timedelta(minutes=5))

    assert response["due"] == 0
    assert texts() == []
    assert visits.ledger() == []


def test_window_passing_without_arrival_is_reported_then_a_real_eta_follows(visits: LocalPipeline) -> None:
    # When the window ends with no arrival and no new ETA from the app
    visits.sweep_at(WINDOW_END + timedelta(minutes=5))
    # ... and the technician's app then reports an ETA 30 minutes past the window
    visits.put_visits([visit(status="en_route", eta=at(150), delay_reason="traffic on I-95")])
    settle(visits)

    assert texts()[0] == (
        "Example Co: Sorry Maria, Carlos is running late. We'll text you the new time soon. "
        "Reply STOP to opt out."
    )
    assert "New arrival time: 11:30 AM" in texts()[-1]
    assert len([t for t in texts() if "running late" in t]) == 2


def test_done_sends_one_thank_you_with_a_way_to_report_a_problem(visits: LocalPipeline) -> None:
    visits.put_visits([visit(status="arrived")])
    visits.put_visits([visit(status="done")])
    settle(visits)
    visits.put_visits([visit(status="done", technician_name="Carlos M.")])  # a later edit
    settle(visits)

    [email] = sent_emails()
    assert email.subject == "Thanks for having Carlos over today"
    assert email.text is not None
    assert "If anything isn't right" in email.text
    assert "support@example.com" in email.text


def test_bad_visit_records_fail_alone_with_a_clear_log_line(
    visits: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given, in one batch, a visit without an ETA, one with an unreadable time, and a good one
    without_eta = visit(visit_id="v-2")
    del without_eta["eta"]
    visits.put_visits([without_eta, visit(visit_id="v-3", window_end="half past eleven")])
    visits.put_visits([visit(status="en_route", eta=at(40))])

    [event] = visits.visits_stream.poll()
    response = visits.deployment.invoke("VisitDetectorFunction", event)
    visits.deliver_notices()

    # Then only the two bad ones are reported, the good one is delivered, and the log says why
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    bad = {
        r["dynamodb"]["SequenceNumber"]
        for r in event["Records"]
        if r["dynamodb"]["Keys"]["visit_id"]["S"] != "v-1"
    }
    assert failed == bad
    assert len(texts()) == 1
    lines = [
        json.loads(line) for line in lambda_logs.getvalue().splitlines() if "Rejected visit record" in line
    ]
    problems = {line["key"]["visit_id"]: line["problems"] for line in lines}
    assert problems["v-2"] == ["eta: Field required"]
    assert problems["v-3"][0].startswith("window_end: Input should be a valid datetime")


def test_a_batch_reads_its_visits_states_in_one_call(visits: LocalPipeline) -> None:
    # Given three visits changing in one stream batch
    with injected(FaultPlan(seed=1)) as calls:
        visits.put_visits([visit(visit_id=f"v-{n}", status="en_route", eta=at(40 + n)) for n in range(2, 5)])
        settle(visits)

    # Then their states were read together, not one GetItem per record
    reads = Counter(
        call.operation
        for call in calls.calls
        if call.function == "VisitDetectorFunction" and call.operation in ("GetItem", "BatchGetItem")
    )
    assert reads == {"BatchGetItem": 1}
