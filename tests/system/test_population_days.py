"""Two busy days (sim.population.busy_days) through the real handlers on moto, one after the other."""

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from headsup.domain.kinds import FROM_CUSTOMERS, NoticeKind
from moto import mock_aws

from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import BILLS_ARRIVE, busy_days, simulate_days

SOURCE_ID_FIELDS = ("callback_id", "ticket_id", "visit_id")


def test_the_second_day_brings_its_own_notices_and_no_sweep_runs_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two days of six customers: the second with new callbacks, tickets and visits only
    data = busy_days(customers=6, seed=5, days=2)
    first_start = datetime.fromisoformat(data[0]["day"]["start"])
    second_start = datetime.fromisoformat(data[1]["day"]["start"])
    # As `headsup simulate` runs it: provisioned at the first day's bills, on the template's sweeps
    with (
        time_machine.travel(datetime.combine(first_start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True),
        mock_aws(),
    ):
        pipeline = LocalPipeline.provision()
        # The ledger keeps a notice's id but not what it is about: the requests delivery gets
        # carry the callback, ticket or visit in their payload, so they are kept by notice id.
        requests: dict[str, dict[str, Any]] = {}
        clock: list[datetime] = []  # when each Lambda invocation ran
        fired: list[datetime] = []  # each scheduled sweep's time
        invoke, fire = pipeline.deployment.invoke, pipeline.sweep.fire

        def recording_invoke(function_id: str, event: dict[str, Any], **options: Any) -> Any:
            clock.append(datetime.now(UTC))
            if function_id == "NoticeDeliveryFunction":
                for record in event["Records"]:
                    request = json.loads(record["body"])
                    requests[request["notice_id"]] = request
            return invoke(function_id, event, **options)

        def recording_fire(at: datetime) -> Any:
            fired.append(at)
            return fire(at)

        monkeypatch.setattr(pipeline.deployment, "invoke", recording_invoke)
        monkeypatch.setattr(pipeline.sweep, "fire", recording_fire)
        with lambda_output_to(io.StringIO(), pipeline.deployment):
            # When both days run, one after the other
            ticks = simulate_days(pipeline, data)
            ledger = pipeline.ledger()
            interval = pipeline.sweep.interval()

    # Then the sweeps ran every interval from the first day's start to the second day's end,
    # the first day's last (the second day's start) only once
    assert fired == ticks
    assert ticks == [first_start + n * interval for n in range(2 * 24 * 12 + 1)]
    assert ticks.count(second_start) == 1
    # ... the clock only moved forward (moto's queues keep their own timestamps)
    assert clock == sorted(clock)
    # ... and the second day's callbacks, tickets and visits raised notices of their own, of
    # every kind they can (bills come monthly, and are corrected the day they come: the second
    # day has none), on the second day
    assert ledger
    assert {entry["notice_id"] for entry in ledger} <= set(requests)
    second_day = [entry for entry in ledger if "-d2-" in _source_id(requests[entry["notice_id"]])]
    assert {entry["kind"] for entry in second_day} == {kind.value for kind in NoticeKind} - {
        NoticeKind.BILL_INCREASE.value,
        NoticeKind.BILL_CORRECTION.value,
        *FROM_CUSTOMERS,  # no customer answers on these days
    }
    assert all(second_start < datetime.fromisoformat(entry["detected_at"]) for entry in second_day)
    assert {entry["customer_id"] for entry in second_day} <= {c["customer_id"] for c in data[0]["customers"]}


def _source_id(request: dict[str, Any]) -> str:
    """The callback, ticket or visit a notice request is about ("" for a bill)."""
    payload: dict[str, Any] = request["payload"]
    return next((str(payload[field]) for field in SOURCE_ID_FIELDS if field in payload), "")
