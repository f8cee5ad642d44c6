"""emulator.sources.schedules: EventBridge schedules, their events and their ticks.

Handlers here are small test doubles, not headsup's: the sweep handler is not what is under test.
"""

import copy
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from emulator import Deployment, LambdaHandler, ScheduleSource, provision
from emulator.template import load_template

TEMPLATE = load_template()
STACK = "headsup-local"
SWEEP_FUNCTION, SWEEP = "DueSweepFunction", "Sweep"
DUE_ITEMS, DUE_INDEX = "DueItemsTable", "DueIndex"
AT = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


def sweep_event_properties(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][SWEEP_FUNCTION]["Properties"]["Events"][SWEEP][
        "Properties"
    ]
    return properties


def recorder(events: list[Any]) -> LambdaHandler:
    """A handler that keeps each event it is given and answers with the tick it saw."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        events.append(event)
        return {"swept_at": event.get("time")}

    return handler


def provision_with_sweep(**properties: Any) -> Deployment:
    """template.yaml provisioned with extra properties on the Sweep event (inside an active mock)."""
    template = copy.deepcopy(TEMPLATE)
    sweep_event_properties(template).update(properties)
    return provision(template)


# ------------------------------------------------------------------------------------------- schedules


def test_the_sweep_schedule_comes_from_the_template_parameter(deployment: Deployment) -> None:
    # Given template.yaml, whose Sweep event is scheduled by the SweepSchedule parameter
    assert sweep_event_properties(TEMPLATE)["Schedule"] == {"Ref": "SweepSchedule"}

    # When its schedule source is read / Then it has the parameter's default, and fires every 5 minutes
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    assert source.schedule == TEMPLATE["Parameters"]["SweepSchedule"]["Default"] == "rate(5 minutes)"
    assert source.interval() == timedelta(minutes=5)
    assert source.enabled


def test_scheduled_event_is_eventbridges_shape_with_the_tick_in_utc_whole_seconds(
    deployment: Deployment,
) -> None:
    # Given the sweep's schedule and a tick given in another zone, with sub-second precision
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    at = datetime(2026, 11, 24, 4, 5, 0, 987_654, tzinfo=ZoneInfo("America/New_York"))

    # When the event for that tick is built
    event = source.event(at)

    # Then it is the Scheduled Event EventBridge sends, the time in UTC with a Z and whole seconds
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": deployment.account_id,
        "time": "2026-11-24T09:05:00Z",
        "region": "us-east-1",
        "resources": [
            f"arn:aws:events:us-east-1:{deployment.account_id}:rule/{STACK}-{SWEEP_FUNCTION}-{SWEEP}"
        ],
        "detail": {},
    }
    assert uuid.UUID(event["id"])
    # ...and each event has its own id
    assert source.event(at)["id"] != event["id"]


def test_fire_invokes_the_function_with_its_environment_and_returns_the_response(
    deployment: Deployment,
) -> None:
    # Given a stand-in for the sweep handler that records its event and its environment
    events: list[Any] = []
    seen_env: dict[str, str] = {}
    record = recorder(events)

    def handler(event: Any, context: Any) -> Any:
        seen_env.update(os.environ)
        return record(event, context)

    # When the schedule fires
    response = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).fire(AT, handler=handler)

    # Then the handler got the scheduled event, with the function's environment set, and its answer
    # is returned
    assert response == {"swept_at": "2026-11-24T09:05:00Z"}
    assert [event["detail-type"] for event in events] == ["Scheduled Event"]
    assert seen_env["DUE_ITEMS_TABLE_NAME"] == deployment.ref(DUE_ITEMS)
    assert seen_env["DUE_INDEX_NAME"] == DUE_INDEX


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_interval_follows_an_overridden_sweep_schedule(expression: str, interval: timedelta) -> None:
    with mock_aws():
        # Given the stack deployed with another schedule
        deployment = provision(parameter_overrides={"SweepSchedule": expression})

        # When the interval is read / Then it is the expression's
        assert ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).interval() == interval


def test_a_cron_schedule_is_not_emulated() -> None:
    with mock_aws():
        # Given the sweep scheduled by a cron expression
        deployment = provision(parameter_overrides={"SweepSchedule": "cron(0/5 * * * ? *)"})
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)

        # When its interval is asked for / Then it says cron is not emulated, rather than guessing
        with pytest.raises(NotImplementedError, match=r"cron expressions are not emulated"):
            source.interval()
        # ...while a single fire needs no interval and still works
        assert source.fire(AT, handler=recorder([])) == {"swept_at": "2026-11-24T09:05:00Z"}


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)", "every 5 minutes", "rate(5m)"],
)
def test_a_rate_eventbridge_would_reject_is_rejected(expression: str) -> None:
    with mock_aws():
        # Given the sweep scheduled by an expression EventBridge refuses
        deployment = provision(parameter_overrides={"SweepSchedule": expression})

        # When its interval is read / Then it is refused, as the deploy would be
        with pytest.raises(ValueError, match=re.escape(expression)):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).interval()


@pytest.mark.parametrize(
    ("end", "expected_minutes"),
    [
        (datetime(2026, 11, 24, 9, 15, tzinfo=UTC), [0, 5, 10, 15]),
        (datetime(2026, 11, 24, 9, 14, 59, tzinfo=UTC), [0, 5, 10]),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), [0]),
        (datetime(2026, 11, 24, 8, 59, tzinfo=UTC), []),
    ],
    ids=["end on a tick", "end between ticks", "end is start", "end before start"],
)
def test_run_between_fires_at_each_tick_from_start_to_end_inclusive(
    deployment: Deployment, end: datetime, expected_minutes: list[int]
) -> None:
    # Given the 5-minute sweep and a callback recording what happens between sweeps
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    calls: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append(f"fire {event['time']}")

    def between_ticks(tick: datetime) -> None:
        calls.append(f"between {tick:%H:%M}")

    # When the schedule runs from start to end
    ticks = source.run_between(start, end, between_ticks=between_ticks, handler=handler)

    # Then it fired at every tick in the range, and the callback ran after each fire, before the next
    assert ticks == [start + timedelta(minutes=minute) for minute in expected_minutes]
    assert calls == [
        call
        for minute in expected_minutes
        for call in (f"fire 2026-11-24T09:{minute:02}:00Z", f"between 09:{minute:02}")
    ]


def test_run_between_steps_in_elapsed_time_across_a_daylight_saving_change() -> None:
    with mock_aws():
        # Given an hourly sweep run over the night New York leaves daylight saving (01:00-02:00 happens twice)
        deployment = provision(parameter_overrides={"SweepSchedule": "rate(1 hour)"})
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
        new_york = ZoneInfo("America/New_York")
        start = datetime(2026, 11, 1, 0, 0, tzinfo=new_york)
        end = datetime(2026, 11, 1, 3, 0, tzinfo=new_york)
        events: list[Any] = []

        # When it runs
        ticks = source.run_between(start, end, handler=recorder(events))

        # Then it fires every elapsed hour, five times over those four wall-clock hours
        assert [event["time"] for event in events] == [
            "2026-11-01T04:00:00Z",
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z",
            "2026-11-01T08:00:00Z",
        ]
        assert all(tick.tzinfo is UTC for tick in ticks)


def test_a_naive_time_is_refused(deployment: Deployment) -> None:
    # Given a time without a zone / When an event is built for it / Then it is refused, not guessed
    source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
    with pytest.raises(ValueError, match="naive"):
        source.event(datetime(2026, 11, 24, 9, 5))
    with pytest.raises(ValueError, match="naive"):
        source.run_between(datetime(2026, 11, 24, 9, 5), AT)


def test_the_templates_input_replaces_the_scheduled_event() -> None:
    with mock_aws():
        # Given the Sweep event with a constant Input
        deployment = provision_with_sweep(Input='{"shards": "all"}')
        events: list[Any] = []

        # When it fires
        ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).fire(AT, handler=recorder(events))

        # Then the function gets that JSON instead of the scheduled event
        assert events == [{"shards": "all"}]


def test_an_input_that_eventbridge_would_not_send_is_refused() -> None:
    with mock_aws():
        # Given Input written as a YAML mapping rather than the JSON string CloudFormation requires
        deployment = provision_with_sweep(Input={"shards": "all"})

        # When an event is built / Then it is refused rather than passed on as something it is not
        with pytest.raises(ValueError, match="Input must be a JSON string"):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).event(AT)


def test_an_input_transformer_is_not_emulated() -> None:
    with mock_aws():
        # Given the Sweep event with an InputTransformer
        transformer = {"InputPathsMap": {"t": "$.time"}, "InputTemplate": '{"at": <t>}'}
        deployment = provision_with_sweep(InputTransformer=transformer)

        # When its source is made / Then it says so, rather than sending the untransformed event
        with pytest.raises(NotImplementedError, match="InputTransformer"):
            ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)


def test_a_named_rule_keeps_its_name_in_the_events_resources() -> None:
    with mock_aws():
        # Given the Sweep event's rule given a name
        deployment = provision_with_sweep(Name="headsup-sweep")

        # When an event is built / Then its resource is that rule
        (rule_arn,) = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).event(AT)["resources"]
        assert rule_arn == f"arn:aws:events:us-east-1:{deployment.account_id}:rule/headsup-sweep"


@pytest.mark.parametrize(
    "disabled",
    [{"Enabled": False}, {"Enabled": "false"}, {"State": "DISABLED"}],
    ids=["Enabled false", "Enabled 'false'", "State DISABLED"],
)
def test_a_disabled_schedule_says_so_and_can_still_be_fired(disabled: dict[str, Any]) -> None:
    with mock_aws():
        # Given the Sweep event disabled in the template
        deployment = provision_with_sweep(**disabled)
        source = ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP)
        events: list[Any] = []

        # When it is read / Then it is not enabled, yet a test can still fire it by hand
        assert not source.enabled
        source.fire(AT, handler=recorder(events))
        assert len(events) == 1


def test_an_enabled_state_is_enabled() -> None:
    with mock_aws():
        # Given the Sweep event's State set to one of EventBridge's enabled states
        deployment = provision_with_sweep(State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

        # When it is read / Then it is enabled
        assert ScheduleSource(deployment, SWEEP_FUNCTION, SWEEP).enabled


def test_a_schedule_source_needs_a_schedule_event(deployment: Deployment) -> None:
    # Given the delivery function, whose Notices event is an SQS one
    # When a schedule source is made for it / Then it is refused, naming the actual type
    with pytest.raises(ValueError, match="is a SQS event, not Schedule"):
        ScheduleSource(deployment, "NoticeDeliveryFunction", "Notices")
