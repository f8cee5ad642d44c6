"""Overdue callbacks: when a promise is late, what the customer and the team are told, and when."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.callbacks.models import Callback, InvalidCallback
from headsup.domain.callbacks.rules import (
    CallbackPolicy,
    PromiseState,
    first_due,
    on_due,
    round_up_to_clean_time,
)
from headsup.domain.kinds import Audience, NoticeKind, Topic
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import CallbackEscalationPayload, CallbackOverduePayload
from hypothesis import given
from hypothesis import strategies as st

POLICY = CallbackPolicy(grace=timedelta(minutes=10), reschedule=timedelta(minutes=60))
PROMISED = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
OVERDUE_AT = PROMISED + POLICY.grace
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")


def callback(**overrides: Any) -> Callback:
    item: dict[str, Any] = {
        "callback_id": "cb-1",
        "customer_id": "cust-1",
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": "Router keeps dropping the connection",
        "agent_name": "Sam",
        "team": "broadband",
        **overrides,
    }
    return Callback.from_item(item)


class Zone:
    """The customer's timezone, counting how often the rule asked for it."""

    def __init__(self, zone: ZoneInfo | None = None) -> None:
        self.zone = zone or ZoneInfo("UTC")
        self.calls = 0

    def __call__(self) -> ZoneInfo:
        self.calls += 1
        return self.zone


class NoZone:
    """A zone lookup that must not happen (it would cost a customer read in the sweep)."""

    def __call__(self) -> ZoneInfo:
        raise AssertionError("the customer's timezone was looked up although no deadline was set")


def the_only(kind: NoticeKind, notices: list[NoticeRequest]) -> NoticeRequest:
    matching = [notice for notice in notices if notice.kind is kind]
    assert len(matching) == 1, [notice.kind for notice in notices]
    return matching[0]


def level_one(now: datetime = OVERDUE_AT + timedelta(minutes=2), **overrides: Any) -> PromiseState:
    """The state the first overdue sweep leaves behind."""
    step = on_due(callback(**overrides), PromiseState(), now, POLICY, Zone())
    assert step.state.level == 1
    return step.state


# -- on time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        PROMISED - timedelta(hours=3),
        PROMISED,
        PROMISED + timedelta(minutes=5),
        OVERDUE_AT - timedelta(microseconds=1),
    ],
)
def test_callback_within_its_grace_raises_nothing_and_is_looked_at_again_when_overdue(
    now: datetime,
) -> None:
    # Given a pending callback promised for 14:00 with 10 minutes' grace, and nothing done yet
    # When a sweep looks at it before 14:10
    step = on_due(callback(), PromiseState(), now, POLICY, NoZone())

    # Then nobody is told anything, and it is due again exactly when the grace runs out
    assert step.notices == []
    assert step.next_due == PROMISED + POLICY.grace
    assert step.state == PromiseState(promised_at=PROMISED, level=0, deadline=None)


def test_first_due_of_a_pending_callback_is_the_end_of_its_grace() -> None:
    assert first_due(callback(), POLICY) == PROMISED + timedelta(minutes=10)
    no_grace = CallbackPolicy(grace=timedelta(0), reschedule=POLICY.reschedule)
    assert first_due(callback(), no_grace) == PROMISED


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_first_due_of_a_finished_callback_is_none(status: str) -> None:
    assert first_due(callback(status=status), POLICY) is None


# -- overdue: level 1 ----------------------------------------------------------------------------


def test_overdue_callback_gives_one_apology_to_the_customer_and_one_escalation_to_the_team() -> None:
    # Given a callback promised for 14:00 that is still pending at 14:12 (grace 10 minutes)
    now = datetime(2026, 3, 10, 14, 12, tzinfo=UTC)

    # When the sweep looks at it
    step = on_due(callback(), PromiseState(), now, POLICY, Zone())

    # Then a new deadline is set: 14:12 + 60 minutes, rounded up to the quarter hour
    deadline = datetime(2026, 3, 10, 15, 15, tzinfo=UTC)
    assert step.state == PromiseState(promised_at=PROMISED, level=1, deadline=deadline)
    assert step.next_due == deadline

    # And exactly two notices go out: one to the customer, one to the team
    assert len(step.notices) == 2
    assert sorted(notice.audience for notice in step.notices) == [Audience.CUSTOMER, Audience.TEAM]
    assert {notice.topic for notice in step.notices} == {Topic.CALLBACKS}
    assert all(notice.customer_id == "cust-1" and notice.detected_at == now for notice in step.notices)

    # The customer hears what it was about and the new time
    apology = the_only(NoticeKind.CALLBACK_OVERDUE, step.notices)
    assert apology.audience is Audience.CUSTOMER
    said = CallbackOverduePayload.model_validate(apology.payload)
    assert said.topic == "Router keeps dropping the connection"
    assert said.new_deadline == deadline
    assert said.promised_at == PROMISED
    assert (said.callback_id, said.agent_name) == ("cb-1", "Sam")

    # The team hears it is the first escalation, how late it is, and the deadline promised
    escalation = the_only(NoticeKind.CALLBACK_ESCALATION, step.notices)
    assert escalation.audience is Audience.TEAM
    told = CallbackEscalationPayload.model_validate(escalation.payload)
    assert told.level == 1
    assert told.minutes_late == 12
    assert told.new_deadline == deadline
    assert (told.callback_id, told.customer_id, told.team, told.agent_name) == (
        "cb-1",
        "cust-1",
        "broadband",
        "Sam",
    )


def test_a_callback_is_overdue_from_the_very_end_of_its_grace() -> None:
    step = on_due(callback(), PromiseState(), OVERDUE_AT, POLICY, Zone())
    assert {notice.kind for notice in step.notices} == {
        NoticeKind.CALLBACK_OVERDUE,
        NoticeKind.CALLBACK_ESCALATION,
    }


@pytest.mark.parametrize(
    ("now", "minutes_late"),
    [
        (PROMISED + timedelta(minutes=10), 10),
        (PROMISED + timedelta(minutes=47, seconds=59), 47),  # whole minutes, never rounded up
        (PROMISED + timedelta(hours=26, minutes=3), 26 * 60 + 3),
    ],
)
def test_minutes_late_count_from_the_promised_time_not_from_the_end_of_grace(
    now: datetime, minutes_late: int
) -> None:
    step = on_due(callback(), PromiseState(), now, POLICY, Zone())
    escalation = the_only(NoticeKind.CALLBACK_ESCALATION, step.notices)
    assert escalation.payload["minutes_late"] == minutes_late


def test_the_deadline_is_a_clean_time_on_the_customers_own_clock() -> None:
    # Given a customer in Kathmandu (UTC+05:45) and a callback overdue at 14:22 UTC
    now = datetime(2026, 3, 10, 14, 22, tzinfo=UTC)
    zone = Zone(KATHMANDU)

    # When the new deadline is set (now + 60 minutes = 21:07 in Kathmandu)
    step = on_due(callback(), PromiseState(), now, POLICY, zone)

    # Then it is 21:15 in Kathmandu, which is 15:30 UTC
    assert step.state.deadline is not None
    assert step.state.deadline.astimezone(KATHMANDU).replace(tzinfo=None) == datetime(2026, 3, 10, 21, 15)
    assert step.state.deadline == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    assert step.next_due == step.state.deadline
    assert zone.calls == 1


def test_the_deadline_is_never_sooner_than_the_reschedule_time() -> None:
    # 14:15 + 60 minutes is already on a quarter hour: it stays, it is not pushed to 15:30
    now = datetime(2026, 3, 10, 14, 15, tzinfo=UTC)
    step = on_due(callback(), PromiseState(), now, POLICY, Zone())
    assert step.state.deadline == datetime(2026, 3, 10, 15, 15, tzinfo=UTC)


# -- rounding to a clean time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "expected", "local_clock"),
    [
        # Kathmandu is UTC+05:45: 15:07 UTC is 20:52 there, and the next quarter hour is 21:00
        (datetime(2026, 3, 10, 15, 7, tzinfo=UTC), KATHMANDU, datetime(2026, 3, 10, 15, 15), "21:00 +0545"),
        # 15:00 UTC is 20:45 in Kathmandu: already clean, it stays
        (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), KATHMANDU, datetime(2026, 3, 10, 15, 0), "20:45 +0545"),
        # One second or one microsecond past a quarter hour goes to the next one
        (
            datetime(2026, 3, 10, 15, 0, 1, tzinfo=UTC),
            KATHMANDU,
            datetime(2026, 3, 10, 15, 15),
            "21:00 +0545",
        ),
        (
            datetime(2026, 3, 10, 15, 0, 0, 1, tzinfo=UTC),
            ZoneInfo("UTC"),
            datetime(2026, 3, 10, 15, 15),
            "15:15 +0000",
        ),
        # New York springs forward on 2026-03-08: 01:59:59 EST is followed by 03:00:00 EDT
        (datetime(2026, 3, 8, 6, 31, tzinfo=UTC), NEW_YORK, datetime(2026, 3, 8, 6, 45), "01:45 -0500"),
        (datetime(2026, 3, 8, 6, 58, tzinfo=UTC), NEW_YORK, datetime(2026, 3, 8, 7, 0), "03:00 -0400"),
        (datetime(2026, 3, 8, 7, 1, tzinfo=UTC), NEW_YORK, datetime(2026, 3, 8, 7, 15), "03:15 -0400"),
        # New York falls back on 2026-11-01: the hour from 01:00 to 02:00 happens twice
        (datetime(2026, 11, 1, 5, 37, tzinfo=UTC), NEW_YORK, datetime(2026, 11, 1, 5, 45), "01:45 -0400"),
        (datetime(2026, 11, 1, 5, 52, tzinfo=UTC), NEW_YORK, datetime(2026, 11, 1, 6, 0), "01:00 -0500"),
        (datetime(2026, 11, 1, 6, 7, tzinfo=UTC), NEW_YORK, datetime(2026, 11, 1, 6, 15), "01:15 -0500"),
        (datetime(2026, 11, 1, 6, 52, tzinfo=UTC), NEW_YORK, datetime(2026, 11, 1, 7, 0), "02:00 -0500"),
        # Monrovia was UTC-00:44:30 until 1972: the clean time is clean there, not in UTC
        (
            datetime(1970, 1, 1, 12, 0, tzinfo=UTC),
            ZoneInfo("Africa/Monrovia"),
            datetime(1970, 1, 1, 12, 14, 30),
            "11:30 -004430",
        ),
    ],
)
def test_round_up_to_the_next_quarter_hour_on_the_customers_clock(
    moment: datetime, zone: ZoneInfo, expected: datetime, local_clock: str
) -> None:
    result = round_up_to_clean_time(moment, zone)
    assert result == expected.replace(tzinfo=UTC)
    assert result.astimezone(zone).strftime("%H:%M %z") == local_clock


ZONES = [
    "UTC",
    "America/New_York",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Europe/Berlin",
]


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES).map(ZoneInfo),
)
def test_rounding_gives_the_first_quarter_hour_at_or_after_the_moment(
    moment: datetime, zone: ZoneInfo
) -> None:
    result = round_up_to_clean_time(moment, zone)
    local = result.astimezone(zone)
    assert moment <= result < moment + timedelta(minutes=15)
    assert (local.minute % 15, local.second, local.microsecond) == (0, 0, 0)


# -- the zone is asked for only when a deadline is set -------------------------------------------


@pytest.mark.parametrize(
    ("state", "now"),
    [
        (PromiseState(), OVERDUE_AT - timedelta(minutes=1)),  # on time
        (level_one(), PROMISED + timedelta(minutes=20)),  # waiting for the new deadline
        (level_one(), PROMISED + timedelta(hours=5)),  # past the new deadline: level 2
        (
            PromiseState(PROMISED, level=2, deadline=PROMISED + timedelta(hours=1)),
            PROMISED + timedelta(days=2),
        ),
    ],
)
def test_the_customers_timezone_is_not_looked_up_when_no_deadline_is_set(
    state: PromiseState, now: datetime
) -> None:
    on_due(callback(), state, now, POLICY, NoZone())  # NoZone fails the test if it is called


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_the_customers_timezone_is_not_looked_up_for_a_finished_callback(status: str) -> None:
    on_due(callback(status=status), PromiseState(), PROMISED + timedelta(days=1), POLICY, NoZone())


def test_the_customers_timezone_is_looked_up_once_when_a_deadline_is_set() -> None:
    zone = Zone(NEW_YORK)
    on_due(callback(), PromiseState(), OVERDUE_AT, POLICY, zone)
    assert zone.calls == 1


# -- idempotence ---------------------------------------------------------------------------------


def test_the_same_sweep_twice_from_the_same_state_gives_the_same_notices() -> None:
    # Given an overdue callback, and a sweep that is replayed (same scheduled time, same state)
    now = OVERDUE_AT + timedelta(minutes=3)

    # When it runs twice
    first = on_due(callback(), PromiseState(), now, POLICY, Zone(KATHMANDU))
    second = on_due(callback(), PromiseState(), now, POLICY, Zone(KATHMANDU))

    # Then it asks for the very same notices, so delivery sends each once
    assert [notice.notice_id for notice in first.notices] == [notice.notice_id for notice in second.notices]
    assert first.notices == second.notices
    assert (first.state, first.next_due) == (second.state, second.next_due)


def test_a_later_sweep_of_the_same_promise_apologises_with_the_same_id() -> None:
    # Given a sweep whose record was not saved, so the next sweep (later) starts from level 0 again
    early = on_due(callback(), PromiseState(), OVERDUE_AT, POLICY, Zone())
    later = on_due(callback(), PromiseState(), OVERDUE_AT + timedelta(minutes=40), POLICY, Zone())

    # Then the later one computes another deadline...
    assert early.state.deadline != later.state.deadline

    # ...but asks for the same apology and the same level-1 escalation: the customer hears once
    for kind in (NoticeKind.CALLBACK_OVERDUE, NoticeKind.CALLBACK_ESCALATION):
        assert the_only(kind, early.notices).notice_id == the_only(kind, later.notices).notice_id


def test_notice_ids_name_the_callback() -> None:
    now = OVERDUE_AT
    one = on_due(callback(callback_id="cb-1"), PromiseState(), now, POLICY, Zone())
    other = on_due(callback(callback_id="cb-2"), PromiseState(), now, POLICY, Zone())
    assert {n.notice_id for n in one.notices}.isdisjoint({n.notice_id for n in other.notices})


# -- after the new deadline: level 2 -------------------------------------------------------------


def test_waiting_for_the_new_deadline_raises_nothing_more() -> None:
    state = level_one()
    assert state.deadline is not None
    step = on_due(callback(), state, state.deadline - timedelta(seconds=1), POLICY, NoZone())
    assert step.notices == []
    assert step.state == state
    assert step.next_due == state.deadline


def test_still_pending_after_the_new_deadline_escalates_to_the_team_only() -> None:
    # Given a callback that was apologised for, with a new deadline, and is still pending after it
    first = on_due(callback(), PromiseState(), OVERDUE_AT, POLICY, Zone())
    state = first.state
    assert state.deadline is not None
    now = state.deadline + timedelta(minutes=1)

    # When the sweep looks at it again
    step = on_due(callback(), state, now, POLICY, NoZone())

    # Then only the team hears, a second time; the customer is not told again
    assert len(step.notices) == 1
    escalation = step.notices[0]
    assert escalation.kind is NoticeKind.CALLBACK_ESCALATION
    assert escalation.audience is Audience.TEAM
    told = CallbackEscalationPayload.model_validate(escalation.payload)
    assert told.level == 2
    assert told.new_deadline == state.deadline  # the deadline the customer was given, not a new one
    assert told.minutes_late == int((now - PROMISED).total_seconds() // 60)

    # And it is a new notice, not the level-1 escalation again
    level_1 = the_only(NoticeKind.CALLBACK_ESCALATION, first.notices)
    assert escalation.notice_id != level_1.notice_id

    # And nothing more is scheduled: people take it from here
    assert step.next_due is None
    assert step.state == PromiseState(promised_at=PROMISED, level=2, deadline=state.deadline)


def test_the_level_two_escalation_is_due_from_the_deadline_itself() -> None:
    state = level_one()
    assert state.deadline is not None
    step = on_due(callback(), state, state.deadline, POLICY, NoZone())
    assert [notice.payload["level"] for notice in step.notices] == [2]


def test_level_two_escalation_id_is_the_same_on_a_replay() -> None:
    state = level_one()
    assert state.deadline is not None
    one = on_due(callback(), state, state.deadline + timedelta(minutes=1), POLICY, NoZone())
    two = on_due(callback(), state, state.deadline + timedelta(hours=3), POLICY, NoZone())
    assert [n.notice_id for n in one.notices] == [n.notice_id for n in two.notices]


def test_after_level_two_nothing_more_happens() -> None:
    state = PromiseState(PROMISED, level=2, deadline=PROMISED + timedelta(hours=1, minutes=15))
    step = on_due(callback(), state, PROMISED + timedelta(days=3), POLICY, NoZone())
    assert step.notices == []
    assert step.next_due is None
    assert step.state == state


# -- finished callbacks and new promises ---------------------------------------------------------


@pytest.mark.parametrize("status", ["done", "cancelled"])
@pytest.mark.parametrize(
    "state",
    [PromiseState(), level_one(), PromiseState(PROMISED, level=2, deadline=PROMISED + timedelta(hours=1))],
)
def test_a_done_or_cancelled_callback_raises_nothing_and_needs_no_more_looking_at(
    status: str, state: PromiseState
) -> None:
    step = on_due(callback(status=status), state, PROMISED + timedelta(days=1), POLICY, NoZone())
    assert step.notices == []
    assert step.next_due is None


def test_a_new_promise_starts_again_at_level_zero() -> None:
    # Given a promise that went all the way to level 2
    state = PromiseState(PROMISED, level=2, deadline=PROMISED + timedelta(hours=1, minutes=15))
    old_apology = the_only(
        NoticeKind.CALLBACK_OVERDUE, on_due(callback(), PromiseState(), OVERDUE_AT, POLICY, Zone()).notices
    )

    # When the business promises a new time, and the sweep looks before it is overdue
    promised_again = PROMISED + timedelta(days=1)
    renewed = callback(promised_at=promised_again.isoformat())
    step = on_due(renewed, state, promised_again, POLICY, NoZone())

    # Then the new promise is on time: nothing is said, and it is due when its own grace runs out
    assert step.notices == []
    assert step.state == PromiseState(promised_at=promised_again, level=0, deadline=None)
    assert step.next_due == promised_again + POLICY.grace

    # And when the new promise is late too, the customer gets a new apology (with a new id)
    late = on_due(renewed, step.state, promised_again + timedelta(minutes=30), POLICY, Zone())
    apology = the_only(NoticeKind.CALLBACK_OVERDUE, late.notices)
    assert apology.notice_id != old_apology.notice_id
    assert CallbackOverduePayload.model_validate(apology.payload).promised_at == promised_again
    assert late.state.level == 1


def test_a_new_promise_discards_the_old_deadline() -> None:
    # Given level 1 for the old promise, with a deadline long past
    state = level_one()
    promised_again = PROMISED + timedelta(days=1)

    # When a new promise is late in turn
    step = on_due(
        callback(promised_at=promised_again.isoformat()),
        state,
        promised_again + timedelta(minutes=10),
        POLICY,
        Zone(),
    )

    # Then it gets its own apology and level-1 escalation, not a level-2 for the old deadline
    assert sorted(notice.kind for notice in step.notices) == [
        NoticeKind.CALLBACK_ESCALATION,
        NoticeKind.CALLBACK_OVERDUE,
    ]
    assert the_only(NoticeKind.CALLBACK_ESCALATION, step.notices).payload["level"] == 1
    assert step.state.deadline == promised_again + timedelta(hours=1, minutes=15)  # 15:10, rounded up


# -- the data contract ---------------------------------------------------------------------------


def test_a_promise_with_an_offset_is_accepted() -> None:
    assert callback(promised_at="2026-03-10T19:45:00+05:45").promised_at == PROMISED


@pytest.mark.parametrize(
    ("overrides", "field", "bad_value"),
    [
        ({"promised_at": "2026-03-10T14:00:00"}, "promised_at", "2026-03-10T14:00:00"),  # no offset
        ({"promised_at": "after lunch, call 5551234"}, "promised_at", "5551234"),
        ({"status": "ringing-5551234"}, "status", "5551234"),
        ({"topic": None}, "topic", None),  # missing: removed below
        ({"topic": ""}, "topic", None),
        ({"customer_id": ""}, "customer_id", None),
    ],
)
def test_a_callback_breaking_the_contract_names_the_field_and_the_callback_not_the_value(
    overrides: dict[str, Any], field: str, bad_value: str | None
) -> None:
    item = {
        "callback_id": "cb-7",
        "customer_id": "cust-1",
        "promised_at": "2026-03-10T14:00:00Z",
        "status": "pending",
        "topic": "Refund",
        **overrides,
    }
    item = {key: value for key, value in item.items() if value is not None}

    with pytest.raises(InvalidCallback) as caught:
        Callback.from_item(item)

    assert caught.value.key == {"callback_id": "cb-7"}
    assert "cb-7" in str(caught.value)
    assert any(problem.startswith(f"{field}:") for problem in caught.value.problems), caught.value.problems
    if bad_value is not None:
        assert bad_value not in str(caught.value)


def test_the_same_promise_written_with_another_offset_is_the_same_notice() -> None:
    # Given one moment written as UTC and as +01:00 (a business system re-saving the callback)
    as_utc = callback(promised_at="2026-03-10T14:00:00Z")
    as_cet = callback(promised_at="2026-03-10T15:00:00+01:00")
    now = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)

    # When each is found overdue
    first = on_due(as_utc, PromiseState(), now, POLICY, Zone())
    second = on_due(as_cet, PromiseState(), now, POLICY, Zone())

    # Then the apology and escalation ids agree, so delivery sends them once
    assert [n.notice_id for n in first.notices] == [n.notice_id for n in second.notices]
