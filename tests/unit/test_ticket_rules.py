"""Tickets: SLA warnings before the breach, a status update and escalation at it, a follow-up after."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from headsup.domain.kinds import Audience, NoticeKind, Topic
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import (
    TicketEscalationPayload,
    TicketFollowUpPayload,
    TicketSlaWarningPayload,
    TicketStalePayload,
)
from headsup.domain.tickets.models import InvalidTicket, Ticket
from headsup.domain.tickets.rules import TicketPolicy, first_due, on_due
from hypothesis import given
from hypothesis import strategies as st

H = timedelta(hours=1)
POLICY = TicketPolicy(
    sla={"urgent": 4 * H, "high": 24 * H, "normal": 72 * H, "low": 168 * H},
    warn_share=Decimal("0.8"),
    follow_up_after=24 * H,
)
CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
UPDATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the clock starts here
# A normal ticket (SLA 72 h): warned at 80 % = 57 h 36 min, breached at 72 h; window 2 at 129 h 36 min, 144 h
WARN_1 = UPDATED + timedelta(hours=57, minutes=36)
BREACH_1 = UPDATED + 72 * H
WARN_2 = UPDATED + timedelta(hours=129, minutes=36)
BREACH_2 = UPDATED + 144 * H
SOLVED = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)


def ticket(**overrides: Any) -> Ticket:
    item: dict[str, Any] = {
        "ticket_id": "tk-1",
        "customer_id": "cust-1",
        "subject": "Invoice shows the wrong address",
        "status": "open",
        "priority": "normal",
        "created_at": CREATED.isoformat(),
        "updated_at": UPDATED.isoformat(),
        **overrides,
    }
    return Ticket.from_item(item)


def solved(**overrides: Any) -> Ticket:
    return ticket(**{"status": "solved", "solved_at": SOLVED.isoformat(), **overrides})


def the_only(kind: NoticeKind, notices: list[NoticeRequest]) -> NoticeRequest:
    matching = [notice for notice in notices if notice.kind is kind]
    assert len(matching) == 1, [notice.kind for notice in notices]
    return matching[0]


def ids(notices: list[NoticeRequest]) -> set[str]:
    return {notice.notice_id for notice in notices}


# -- before the warning --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [UPDATED, UPDATED + 1 * H, UPDATED + 57 * H, WARN_1 - timedelta(microseconds=1)],
)
def test_before_eighty_percent_of_the_sla_nothing_is_said_and_it_is_due_at_the_warning(now: datetime) -> None:
    step = on_due(ticket(), now, POLICY)
    assert step.notices == []
    assert step.next_due == WARN_1


def test_a_clock_read_before_the_last_update_is_not_a_breach() -> None:
    # A ticket updated after the sweep's scheduled time (a late sweep, a stream ahead of the clock)
    step = on_due(ticket(), UPDATED - 100 * H, POLICY)
    assert step.notices == []
    assert step.next_due == WARN_1


# -- the SLA warning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "minutes_left"),
    [
        (WARN_1, 14 * 60 + 24),  # 72 h - 57 h 36 min
        (UPDATED + 70 * H, 120),
        (BREACH_1 - timedelta(seconds=119), 1),  # 1 min 59 s left: whole minutes, rounded down
        (BREACH_1 - timedelta(seconds=59), 0),
        (BREACH_1 - timedelta(microseconds=1), 0),
    ],
)
def test_from_eighty_percent_to_the_breach_the_team_is_warned_once(now: datetime, minutes_left: int) -> None:
    # Given an open normal ticket (SLA 72 h) last updated at UPDATED
    # When the sweep looks at it between 80 % of its SLA and the breach
    step = on_due(ticket(), now, POLICY)

    # Then the team alone gets one SLA warning, naming the breach time and the minutes left
    assert len(step.notices) == 1
    warning = step.notices[0]
    assert warning.kind is NoticeKind.TICKET_SLA_WARNING
    assert warning.audience is Audience.TEAM
    assert warning.topic is Topic.TICKETS
    assert (warning.customer_id, warning.detected_at) == ("cust-1", now)
    said = TicketSlaWarningPayload.model_validate(warning.payload)
    assert said.window == 1
    assert said.breach_at == BREACH_1
    assert said.sla_hours == 72
    assert said.updated_at == UPDATED
    assert (said.ticket_id, said.customer_id, said.priority) == ("tk-1", "cust-1", "normal")

    # Minutes left to the breach, in whole minutes, never rounded up
    assert said.minutes_left == minutes_left

    # And it is due again at the breach
    assert step.next_due == BREACH_1


def test_the_warning_is_the_same_notice_whenever_it_is_sent_in_its_window() -> None:
    early = on_due(ticket(), WARN_1, POLICY)
    late = on_due(ticket(), BREACH_1 - timedelta(minutes=1), POLICY)
    assert ids(early.notices) == ids(late.notices)


@pytest.mark.parametrize(
    ("warn_share", "warned_at"),
    [(Decimal("0.5"), UPDATED + 36 * H), (Decimal("0.9"), UPDATED + timedelta(hours=64, minutes=48))],
)
def test_the_warning_share_comes_from_the_policy(warn_share: Decimal, warned_at: datetime) -> None:
    policy = TicketPolicy(sla=POLICY.sla, warn_share=warn_share, follow_up_after=POLICY.follow_up_after)
    assert first_due(ticket(), policy) == warned_at
    assert on_due(ticket(), warned_at - timedelta(seconds=1), policy).notices == []
    assert [n.kind for n in on_due(ticket(), warned_at, policy).notices] == [NoticeKind.TICKET_SLA_WARNING]


# -- the breach ----------------------------------------------------------------------------------


def test_at_the_breach_the_customer_gets_a_status_update_and_the_team_an_escalation() -> None:
    # Given an open normal ticket created a day before its last update (SLA 72 h)
    # When the sweep looks at it exactly when the SLA runs out
    step = on_due(ticket(), BREACH_1, POLICY)

    # Then exactly two notices: one to the customer, one to the team
    assert len(step.notices) == 2
    assert sorted(notice.audience for notice in step.notices) == [Audience.CUSTOMER, Audience.TEAM]

    # The customer hears their ticket is still being worked on, and how long it has been open
    update = the_only(NoticeKind.TICKET_STALE, step.notices)
    assert update.audience is Audience.CUSTOMER
    said = TicketStalePayload.model_validate(update.payload)
    assert (said.ticket_id, said.subject) == ("tk-1", "Invoice shows the wrong address")
    assert said.created_at == CREATED
    assert said.open_for_hours == 24 + 72  # from creation, not from the last update

    # The team hears it is the first window without an update
    escalation = the_only(NoticeKind.TICKET_ESCALATION, step.notices)
    assert escalation.audience is Audience.TEAM
    told = TicketEscalationPayload.model_validate(escalation.payload)
    assert told.window == 1
    assert told.hours_without_update == 72
    assert told.sla_hours == 72
    assert (told.status, told.priority, told.updated_at) == ("open", "normal", UPDATED)

    # And it is due again at the warning of the next window: updated_at + 1.8 x SLA
    assert step.next_due == UPDATED + 72 * H * 1.8 == WARN_2


def test_between_the_breach_and_the_next_warning_the_breach_notices_are_the_same() -> None:
    at_breach = on_due(ticket(), BREACH_1, POLICY)
    later = on_due(ticket(), WARN_2 - timedelta(seconds=1), POLICY)
    assert ids(at_breach.notices) == ids(later.notices)
    assert later.next_due == WARN_2
    assert the_only(NoticeKind.TICKET_ESCALATION, later.notices).payload["hours_without_update"] == 129


def test_one_more_window_without_an_update_warns_and_escalates_again_with_new_ids() -> None:
    # Given the notices of the first window
    window_1 = on_due(ticket(), WARN_1, POLICY).notices + on_due(ticket(), BREACH_1, POLICY).notices

    # When the ticket goes one more whole window without an update
    warning_2 = on_due(ticket(), WARN_2, POLICY)
    breach_2 = on_due(ticket(), BREACH_2, POLICY)

    # Then the team is warned again before the second breach...
    warning = the_only(NoticeKind.TICKET_SLA_WARNING, warning_2.notices)
    assert len(warning_2.notices) == 1
    assert (warning.payload["window"], TicketSlaWarningPayload.model_validate(warning.payload).breach_at) == (
        2,
        BREACH_2,
    )
    assert warning_2.next_due == BREACH_2

    # ...and the customer and team hear again at it, about window 2
    assert sorted(n.kind for n in breach_2.notices) == [NoticeKind.TICKET_ESCALATION, NoticeKind.TICKET_STALE]
    assert the_only(NoticeKind.TICKET_ESCALATION, breach_2.notices).payload["window"] == 2
    assert breach_2.next_due == UPDATED + timedelta(hours=201, minutes=36)  # window 3's warning

    # And none of them repeats a first-window id, so delivery sends them all
    later = warning_2.notices + breach_2.notices
    assert len(ids(later)) == 3
    assert ids(later).isdisjoint(ids(window_1))


def test_a_sweep_that_was_down_for_days_acts_only_on_the_latest_boundary() -> None:
    # Given a normal ticket (SLA 72 h) and a sweep that first looks at it 10 days after its update:
    # it has passed three breaches; the last one at 216 h and window 4's warning is at 273 h 36 min
    now = UPDATED + 240 * H

    step = on_due(ticket(), now, POLICY)

    # Then only the third breach is acted on: no replay of older warnings or breaches
    assert sorted(n.kind for n in step.notices) == [NoticeKind.TICKET_ESCALATION, NoticeKind.TICKET_STALE]
    assert the_only(NoticeKind.TICKET_ESCALATION, step.notices).payload["window"] == 3
    assert step.next_due == UPDATED + timedelta(hours=273, minutes=36)


def test_a_sweep_that_was_down_past_a_warning_sends_only_that_warning() -> None:
    # 280 h is past window 4's warning (273 h 36 min) but before its breach (288 h)
    step = on_due(ticket(), UPDATED + 280 * H, POLICY)
    assert len(step.notices) == 1
    warning = TicketSlaWarningPayload.model_validate(step.notices[0].payload)
    assert (warning.window, warning.breach_at, warning.minutes_left) == (4, UPDATED + 288 * H, 8 * 60)
    assert step.next_due == UPDATED + 288 * H


# -- priorities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "sla", "warned_after"),
    [
        ("urgent", 4 * H, timedelta(hours=3, minutes=12)),
        ("high", 24 * H, timedelta(hours=19, minutes=12)),
        ("normal", 72 * H, timedelta(hours=57, minutes=36)),
        ("low", 168 * H, timedelta(hours=134, minutes=24)),
    ],
)
def test_each_priority_has_its_own_sla(priority: str, sla: timedelta, warned_after: timedelta) -> None:
    item = ticket(priority=priority)

    # It is first due at 80 % of its own SLA
    assert first_due(item, POLICY) == UPDATED + warned_after

    # Just before its breach it is only warned; at its breach it is escalated
    before = on_due(item, UPDATED + sla - timedelta(seconds=1), POLICY)
    assert [n.kind for n in before.notices] == [NoticeKind.TICKET_SLA_WARNING]
    assert before.next_due == UPDATED + sla
    at = on_due(item, UPDATED + sla, POLICY)
    escalation = TicketEscalationPayload.model_validate(
        the_only(NoticeKind.TICKET_ESCALATION, at.notices).payload
    )
    assert (escalation.sla_hours, escalation.priority, escalation.window) == (sla // H, priority, 1)


def test_an_urgent_ticket_breaches_while_a_low_one_is_not_even_warned() -> None:
    now = UPDATED + 5 * H
    assert {n.kind for n in on_due(ticket(priority="urgent"), now, POLICY).notices} == {
        NoticeKind.TICKET_STALE,
        NoticeKind.TICKET_ESCALATION,
    }
    assert on_due(ticket(priority="low"), now, POLICY).notices == []
    assert on_due(ticket(priority="low"), UPDATED + 167 * H, POLICY).notices[0].payload["sla_hours"] == 168


def test_a_ticket_without_a_priority_is_normal() -> None:
    item = ticket()
    item_without = Ticket.from_item(
        {
            "ticket_id": "tk-1",
            "customer_id": "cust-1",
            "subject": "s",
            "status": "open",
            "created_at": CREATED.isoformat(),
            "updated_at": UPDATED.isoformat(),
        }
    )
    assert item_without.priority == "normal"
    assert first_due(item_without, POLICY) == first_due(item, POLICY) == WARN_1


# -- statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["new", "open", "on_hold"])
def test_new_open_and_on_hold_tickets_are_on_the_clock(status: str) -> None:
    assert first_due(ticket(status=status), POLICY) == WARN_1
    step = on_due(ticket(status=status), BREACH_1, POLICY)
    escalation = the_only(NoticeKind.TICKET_ESCALATION, step.notices)
    assert escalation.payload["status"] == status
    assert step.next_due == WARN_2


@pytest.mark.parametrize("status", ["pending", "closed"])
def test_pending_and_closed_tickets_raise_nothing_and_are_not_looked_at_again(status: str) -> None:
    # "pending" waits on the customer; "closed" is over
    assert first_due(ticket(status=status), POLICY) is None
    for now in (UPDATED, BREACH_1, BREACH_2 + 1000 * H):
        step = on_due(ticket(status=status), now, POLICY)
        assert step.notices == []
        assert step.next_due is None


# -- the follow-up after a solution --------------------------------------------------------------


def test_first_due_of_a_solved_ticket_is_its_follow_up() -> None:
    assert first_due(solved(), POLICY) == SOLVED + 24 * H


@pytest.mark.parametrize("now", [SOLVED, SOLVED + 23 * H, SOLVED + 24 * H - timedelta(microseconds=1)])
def test_before_the_follow_up_time_nothing_is_said(now: datetime) -> None:
    step = on_due(solved(), now, POLICY)
    assert step.notices == []
    assert step.next_due == SOLVED + 24 * H


def test_a_solved_ticket_gets_one_follow_up_a_day_after_its_solution_and_nothing_more() -> None:
    # Given a ticket solved at SOLVED, long past its SLA measured from its last update
    item = solved()

    # When the sweep looks at it 24 h after the solution
    step = on_due(item, SOLVED + 24 * H, POLICY)

    # Then the customer alone is asked whether everything works now: no SLA notices for a solved ticket
    assert len(step.notices) == 1
    follow_up = step.notices[0]
    assert follow_up.kind is NoticeKind.TICKET_FOLLOW_UP
    assert follow_up.audience is Audience.CUSTOMER
    said = TicketFollowUpPayload.model_validate(follow_up.payload)
    assert (said.ticket_id, said.subject, said.solved_at) == (
        "tk-1",
        "Invoice shows the wrong address",
        SOLVED,
    )

    # And nothing more is scheduled
    assert step.next_due is None


def test_the_follow_up_has_the_same_id_whichever_sweep_sends_it() -> None:
    one = on_due(solved(), SOLVED + 24 * H, POLICY)
    two = on_due(solved(), SOLVED + 30 * H, POLICY)
    replay = on_due(solved(), SOLVED + 24 * H, POLICY)
    assert ids(one.notices) == ids(two.notices) == ids(replay.notices)
    assert len(ids(one.notices)) == 1


def test_a_ticket_solved_again_is_followed_up_again() -> None:
    first = on_due(solved(), SOLVED + 24 * H, POLICY)
    solved_again_at = SOLVED + 72 * H
    again = on_due(solved(solved_at=solved_again_at.isoformat()), solved_again_at + 24 * H, POLICY)
    assert len(again.notices) == 1
    assert ids(again.notices).isdisjoint(ids(first.notices))


def test_a_solved_ticket_without_a_solution_time_breaks_the_contract() -> None:
    with pytest.raises(InvalidTicket) as caught:
        ticket(ticket_id="tk-9", status="solved")
    assert caught.value.key == {"ticket_id": "tk-9"}
    assert "tk-9" in str(caught.value)
    assert any("solved_at" in problem for problem in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"updated_at": "2026-03-02T09:00:00"}, "updated_at"),  # no offset
        ({"status": "escalated"}, "status"),
        ({"priority": "critical"}, "priority"),
        ({"subject": ""}, "subject"),
    ],
)
def test_a_ticket_breaking_the_contract_names_the_field_and_the_ticket(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidTicket) as caught:
        ticket(ticket_id="tk-9", **overrides)
    assert caught.value.key == {"ticket_id": "tk-9"}
    assert any(problem.startswith(f"{field}:") for problem in caught.value.problems), caught.value.problems


# -- an update restarts the clock ----------------------------------------------------------------


def test_an_update_restarts_the_clock() -> None:
    # Given a ticket that would breach at 72 h, but was updated again at 60 h
    updated_again = UPDATED + 60 * H
    item = ticket(updated_at=updated_again.isoformat())

    # When the sweep looks at it at the old breach time
    step = on_due(item, BREACH_1, POLICY)

    # Then nothing is said: the clock started again at the update
    assert step.notices == []
    assert step.next_due == updated_again + timedelta(hours=57, minutes=36)
    assert first_due(item, POLICY) == step.next_due


def test_after_an_update_the_same_window_gets_new_notice_ids() -> None:
    # Given the first-window notices before an update...
    before = on_due(ticket(), WARN_1, POLICY).notices + on_due(ticket(), BREACH_1, POLICY).notices

    # ...and the first-window notices after it (the ticket was updated, then went quiet again)
    updated_again = UPDATED + 100 * H
    item = ticket(updated_at=updated_again.isoformat())
    after = (
        on_due(item, updated_again + timedelta(hours=57, minutes=36), POLICY).notices
        + on_due(item, updated_again + 72 * H, POLICY).notices
    )

    # Then they are the same kinds of notice, for window 1, but new ones: delivery sends them
    assert sorted(n.kind for n in after) == sorted(n.kind for n in before)
    assert {n.payload["window"] for n in after if "window" in n.payload} == {1}
    assert ids(after).isdisjoint(ids(before))


def test_notice_ids_name_the_ticket() -> None:
    one = on_due(ticket(ticket_id="tk-1"), BREACH_1, POLICY)
    other = on_due(ticket(ticket_id="tk-2"), BREACH_1, POLICY)
    assert ids(one.notices).isdisjoint(ids(other.notices))


# -- properties ----------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
slas = st.integers(min_value=1, max_value=24 * 60 * 60).map(lambda minutes: timedelta(minutes=minutes))
shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2)
offsets = st.integers(min_value=-(10**6), max_value=10**8).map(lambda seconds: timedelta(seconds=seconds))


def policy_with(sla: timedelta, share: Decimal) -> TicketPolicy:
    return TicketPolicy(
        sla={"urgent": sla, "high": sla, "normal": sla, "low": sla}, warn_share=share, follow_up_after=24 * H
    )


@given(
    updated_at=moments,
    sla=slas,
    share=shares,
    offset=offsets,
    extra=st.integers(min_value=0, max_value=999_999),
    status=st.sampled_from(["new", "open", "on_hold"]),
)
def test_on_due_always_moves_forward_and_is_deterministic(
    updated_at: datetime, sla: timedelta, share: Decimal, offset: timedelta, extra: int, status: str
) -> None:
    item = ticket(status=status, updated_at=updated_at.isoformat())
    policy = policy_with(sla, share)
    now = updated_at + offset + timedelta(microseconds=extra)

    step = on_due(item, now, policy)
    again = on_due(item, now, policy)

    # It is never due again at or before the time it was looked at, so a sweep cannot spin on it
    assert step.next_due is not None
    assert step.next_due > now
    # The same facts give the same notices, so a replayed sweep sends nothing twice
    assert [n.notice_id for n in step.notices] == [n.notice_id for n in again.notices]
    assert len(ids(step.notices)) == len(step.notices)

    # And the next due time is a real boundary: something new is said then
    following = on_due(item, step.next_due, policy)
    assert following.notices
    assert ids(following.notices).isdisjoint(ids(step.notices))


@given(solved_at=moments, offset=offsets)
def test_a_solved_ticket_is_followed_up_once_whenever_the_sweeps_run(
    solved_at: datetime, offset: timedelta
) -> None:
    item = solved(solved_at=solved_at.isoformat())
    now = solved_at + offset
    step = on_due(item, now, POLICY)
    if now < solved_at + POLICY.follow_up_after:
        assert (step.notices, step.next_due) == ([], solved_at + POLICY.follow_up_after)
    else:
        assert [n.kind for n in step.notices] == [NoticeKind.TICKET_FOLLOW_UP]
        assert step.next_due is None
        at_the_time = on_due(item, solved_at + POLICY.follow_up_after, POLICY)
        assert ids(step.notices) == ids(at_the_time.notices)
