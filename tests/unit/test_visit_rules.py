"""Technician visits: what a change to a visit, or its window passing, tells the customer.

The window is 17:00-19:00 UTC and the slip policy 15 minutes: a customer hears "on the way" once,
"running late" when the ETA leaves the window (and again only when it slips 15 minutes further
than the ETA they were told), and "thank you" once the visit is done.
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from headsup.domain.assertions import Told
from headsup.domain.kinds import Audience, NoticeKind, Topic
from headsup.domain.notices import NoticeRequest
from headsup.domain.payloads import (
    VisitDonePayload,
    VisitEtaEarlierPayload,
    VisitOnTheWayPayload,
    VisitRunningLatePayload,
)
from headsup.domain.visits import rules
from headsup.domain.visits.models import InvalidVisit, Visit
from headsup.domain.visits.rules import VisitPolicy, VisitStep, on_change, on_window_end
from headsup.handlers.visit_detector import settled_later
from hypothesis import given
from hypothesis import strategies as st

POLICY = VisitPolicy(slip=timedelta(minutes=15))
WINDOW_START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
ON_TIME_ETA = datetime(2026, 11, 24, 17, 50, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 17, 20, tzinfo=UTC)
BERLIN_OFFSET = timezone(timedelta(hours=1))


def visit(**overrides: Any) -> Visit:
    """A scheduled visit inside its window; datetimes may be given as datetimes or as written."""
    item: dict[str, Any] = {
        "visit_id": "v-1",
        "customer_id": "cust-1",
        "window_start": WINDOW_START,
        "window_end": WINDOW_END,
        "eta": ON_TIME_ETA,
        "status": "scheduled",
        "technician_name": "Carlos Mendes",
        **overrides,
    }
    as_written = {key: _as_written(value) for key, value in item.items() if value is not None}
    return Visit.from_item(as_written)


def _as_written(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def change(
    previous: Visit | None,
    current: Visit,
    late_eta: datetime | None = None,
    *,
    now: datetime = NOW,
    is_settled_later: bool = False,
    news: int = 0,
) -> VisitStep:
    step = on_change(previous, current, late_eta, POLICY, now, news=news)
    return rules.settled_later(step, late_eta, news) if is_settled_later else step


def kinds(step: VisitStep) -> list[NoticeKind]:
    return [notice.kind for notice in step.notices]


def the_only(kind: NoticeKind, step: VisitStep) -> NoticeRequest:
    matching = [notice for notice in step.notices if notice.kind is kind]
    assert len(matching) == 1, kinds(step)
    return matching[0]


def late_payload(notice: NoticeRequest) -> VisitRunningLatePayload:
    assert notice.kind is NoticeKind.VISIT_RUNNING_LATE
    return VisitRunningLatePayload.model_validate(notice.payload)


def minutes_after_window(minutes: float) -> datetime:
    return WINDOW_END + timedelta(minutes=minutes)


# -- on the way ------------------------------------------------------------------------------------


def test_setting_off_gives_one_on_the_way_notice_with_the_first_name_and_the_eta() -> None:
    # Given a scheduled visit
    before = visit(status="scheduled")

    # When the technician's app marks it en route, with an ETA inside the window
    step = change(before, visit(status="en_route", address_hint="side gate"))

    # Then exactly one "on the way" notice goes to the customer, about visits
    assert kinds(step) == [NoticeKind.VISIT_ON_THE_WAY]
    notice = step.notices[0]
    assert notice.customer_id == "cust-1"
    assert notice.detected_at == NOW
    assert notice.audience is Audience.CUSTOMER
    assert notice.topic is Topic.VISITS
    # And it names the technician by first name only, with the ETA
    said = VisitOnTheWayPayload.model_validate(notice.payload)
    assert said.technician_first_name == "Carlos"
    assert "Mendes" not in str(notice.payload)
    assert said.eta == ON_TIME_ETA
    assert said.visit_id == "v-1"
    assert said.address_hint == "side gate"


def test_visit_news_expires_instead_of_waiting_out_a_hold() -> None:
    # "On the way" is no news once the technician is due; "running late" an hour after the new ETA
    on_the_way = the_only(NoticeKind.VISIT_ON_THE_WAY, change(visit(), visit(status="en_route")))
    assert on_the_way.expires_at == ON_TIME_ETA

    late_eta = minutes_after_window(40)
    late = the_only(NoticeKind.VISIT_RUNNING_LATE, change(visit(), visit(eta=late_eta)))
    assert late.expires_at == late_eta + timedelta(hours=1)

    # With no new ETA (the window ended and nobody arrived), an hour from when that was seen
    now = minutes_after_window(5)
    unannounced = the_only(NoticeKind.VISIT_RUNNING_LATE, on_window_end(visit(), None, now))
    assert unannounced.expires_at == now + timedelta(hours=1)


def test_a_visit_first_seen_en_route_is_announced_once() -> None:
    # Given no earlier image (the business inserts the visit already en route)
    step = change(None, visit(status="en_route"))
    # Then the customer is still told the technician is on the way
    assert kinds(step) == [NoticeKind.VISIT_ON_THE_WAY]


def test_an_update_to_a_visit_already_en_route_does_not_announce_it_again() -> None:
    # Given a visit already en route, whose ETA the app refreshes (still inside the window)
    before = visit(status="en_route")
    after = visit(status="en_route", eta=ON_TIME_ETA + timedelta(minutes=5))

    # When the change is read
    step = change(before, after)

    # Then nothing is said
    assert step.notices == []


def test_setting_off_again_after_turning_back_gives_the_same_notice_id() -> None:
    # A technician who turns back and sets off again produces the same notice: delivered once.
    first = the_only(NoticeKind.VISIT_ON_THE_WAY, change(visit(), visit(status="en_route")))
    again = change(
        visit(status="scheduled"), visit(status="en_route", eta=ON_TIME_ETA + timedelta(minutes=20))
    )
    assert the_only(NoticeKind.VISIT_ON_THE_WAY, again).notice_id == first.notice_id


@pytest.mark.parametrize("status", ["scheduled", "arrived", "cancelled"])
def test_other_status_changes_do_not_say_on_the_way(status: str) -> None:
    step = change(visit(status="en_route"), visit(status=status))
    assert NoticeKind.VISIT_ON_THE_WAY not in kinds(step)


# -- thank you ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("before", ["arrived", "en_route", None])
def test_finishing_a_visit_gives_one_thank_you(before: str | None) -> None:
    # Given a visit that was arrived / en route / not seen before
    previous = visit(status=before) if before else None

    # When it is marked done
    step = change(previous, visit(status="done"))

    # Then exactly one thank-you goes out, naming the technician by first name
    assert kinds(step) == [NoticeKind.VISIT_DONE]
    said = VisitDonePayload.model_validate(step.notices[0].payload)
    assert said == VisitDonePayload(visit_id="v-1", technician_first_name="Carlos")
    assert step.notices[0].topic is Topic.VISITS


def test_an_update_to_a_finished_visit_does_not_thank_again() -> None:
    step = change(visit(status="done"), visit(status="done", address_hint="edited afterwards"))
    assert step.notices == []


def test_cancelling_a_visit_says_nothing() -> None:
    assert change(visit(status="en_route"), visit(status="cancelled")).notices == []


# -- running late (stream) ---------------------------------------------------------------------------


def test_eta_past_the_window_gives_a_running_late_notice_with_the_new_eta_and_reason() -> None:
    # Given an en-route visit whose ETA moves 20 minutes past the end of the window
    before = visit(status="en_route")
    late = minutes_after_window(20)
    after = visit(status="en_route", eta=late, delay_reason="  Previous job ran over  ")

    # When the change is read
    step = change(before, after)

    # Then one "running late" notice says when and why
    notice = the_only(NoticeKind.VISIT_RUNNING_LATE, step)
    assert kinds(step) == [NoticeKind.VISIT_RUNNING_LATE]
    said = late_payload(notice)
    assert said.new_eta == late
    assert said.delay_reason == "Previous job ran over"
    assert said.technician_first_name == "Carlos"
    assert (said.window_start, said.window_end) == (WINDOW_START, WINDOW_END)
    assert notice.audience is Audience.CUSTOMER
    # And the ETA told is remembered; the sweep still checks at the end of the window
    assert step.late_eta == late
    assert step.check_at == WINDOW_END


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_a_blank_delay_reason_is_no_reason(reason: str | None) -> None:
    step = change(visit(), visit(eta=minutes_after_window(30), delay_reason=reason))
    assert late_payload(the_only(NoticeKind.VISIT_RUNNING_LATE, step)).delay_reason is None


def test_eta_exactly_at_the_end_of_the_window_is_not_late() -> None:
    step = change(visit(), visit(eta=WINDOW_END))
    assert step.notices == []
    assert step.late_eta is None


def test_eta_a_minute_past_the_window_is_late() -> None:
    step = change(visit(), visit(eta=minutes_after_window(1)))
    assert kinds(step) == [NoticeKind.VISIT_RUNNING_LATE]


@pytest.mark.parametrize(
    "slip", [timedelta(minutes=1), timedelta(minutes=10), timedelta(minutes=14, seconds=59)]
)
def test_a_further_slip_under_15_minutes_says_nothing_more(slip: timedelta) -> None:
    # Given the customer was told 19:20
    told = minutes_after_window(20)

    # When the ETA moves less than 15 minutes further
    step = change(visit(eta=told), visit(eta=told + slip), told)

    # Then nothing is said, and the ETA they were told stays the reference
    assert step.notices == []
    assert step.late_eta == told


@pytest.mark.parametrize("slip", [timedelta(minutes=15), timedelta(minutes=40)])
def test_a_further_slip_of_15_minutes_or_more_is_told_again_with_its_own_id(slip: timedelta) -> None:
    # Given the customer was told 19:20 in a first notice
    told = minutes_after_window(20)
    first = the_only(NoticeKind.VISIT_RUNNING_LATE, change(visit(), visit(eta=told)))

    # When the ETA slips at least 15 minutes past it
    step = change(visit(eta=told), visit(eta=told + slip, delay_reason="Traffic"), told)

    # Then a second, distinct notice gives the new time
    second = the_only(NoticeKind.VISIT_RUNNING_LATE, step)
    assert second.notice_id != first.notice_id
    assert late_payload(second).new_eta == told + slip
    assert late_payload(second).delay_reason == "Traffic"
    assert step.late_eta == told + slip


def test_small_slips_add_up_against_the_eta_last_told_not_the_last_seen() -> None:
    # Told 19:20; then 19:30, 19:34 (each under 15 minutes from the previous) and 19:35
    told = minutes_after_window(20)
    late_eta: datetime | None = told
    said_at: list[datetime | None] = []
    for minutes in (30, 34, 35):
        step = change(visit(eta=told), visit(eta=minutes_after_window(minutes)), late_eta)
        said_at += [late_payload(notice).new_eta for notice in step.notices]
        late_eta = step.late_eta

    # Then only 19:35, 15 minutes past the 19:20 they were told, is worth a message
    assert said_at == [minutes_after_window(35)]


def test_an_eta_moving_a_little_earlier_than_told_says_nothing() -> None:
    # Given the customer was told 19:40
    told = minutes_after_window(40)

    # When the ETA moves to 19:30, less than the slip threshold earlier
    step = change(visit(eta=told), visit(eta=minutes_after_window(30)), told)

    # Then nothing, and the ETA they were told is kept
    assert step.notices == []
    assert step.late_eta == told


@pytest.mark.parametrize("new_eta", [WINDOW_END, ON_TIME_ETA])
def test_an_eta_pulled_back_inside_the_window_is_told_once_as_good_news(new_eta: datetime) -> None:
    # Given the customer was told 19:40 in a running-late notice
    told = minutes_after_window(40)

    # When the app pulls the ETA back inside the window
    step = change(visit(eta=told), visit(eta=new_eta), told)

    # Then one good-news notice, which goes only if that running-late reached the customer
    sooner = the_only(NoticeKind.VISIT_ETA_EARLIER, step)
    assert kinds(step) == [NoticeKind.VISIT_ETA_EARLIER]
    payload = VisitEtaEarlierPayload.model_validate(sooner.payload)
    assert (payload.told_eta, payload.new_eta, payload.back_on_time) == (told, new_eta, True)
    assert sooner.asserts is not None
    assert sooner.asserts.told is Told.AFTER
    assert sooner.asserts.facts == {"open": "yes", "eta": new_eta.isoformat()}
    # ...and the customer is taken to know the new ETA from now on
    assert step.late_eta == new_eta
    # The same change seen again is the same notice
    again = change(visit(eta=told), visit(eta=new_eta), told)
    assert [n.notice_id for n in again.notices] == [sooner.notice_id]


def test_an_eta_pulled_in_but_still_late_gives_good_news_or_one_late_notice() -> None:
    # Given the customer was (or was to be) told 19:40
    told = minutes_after_window(40)

    # When the ETA moves to 19:10, still after the window
    step = change(visit(eta=told), visit(eta=minutes_after_window(10)), told)

    # Then two candidates, of which delivery lets one go: the good news if the 19:40 notice
    # reached the customer, else a running-late notice with the right time
    assert sorted(kinds(step)) == [NoticeKind.VISIT_ETA_EARLIER, NoticeKind.VISIT_RUNNING_LATE]
    late = the_only(NoticeKind.VISIT_RUNNING_LATE, step)
    assert late_payload(late).new_eta == minutes_after_window(10)
    assert late.asserts is not None
    assert late.asserts.told is Told.FIRST
    assert the_only(NoticeKind.VISIT_ETA_EARLIER, step).asserts.told is Told.AFTER  # type: ignore[union-attr]


def test_setting_off_already_late_gives_both_on_the_way_and_running_late() -> None:
    step = change(visit(), visit(status="en_route", eta=minutes_after_window(30)))
    assert sorted(kinds(step)) == [NoticeKind.VISIT_ON_THE_WAY, NoticeKind.VISIT_RUNNING_LATE]
    assert step.late_eta == minutes_after_window(30)


@pytest.mark.parametrize("status", ["arrived", "done", "cancelled"])
def test_a_settled_visit_with_a_late_eta_is_never_running_late(status: str) -> None:
    step = change(visit(status="en_route"), visit(status=status, eta=minutes_after_window(45)))
    assert NoticeKind.VISIT_RUNNING_LATE not in kinds(step)


# -- settled later in the same batch ------------------------------------------------------------------


def test_settled_later_suppresses_on_the_way_and_running_late() -> None:
    # Given a change that sets off already late, followed in the same batch by the arrival
    step = change(visit(), visit(status="en_route", eta=minutes_after_window(30)), is_settled_later=True)

    # Then nothing is said, and the customer is not recorded as told
    assert step.notices == []
    assert step.late_eta is None


def test_settled_later_keeps_the_eta_already_told() -> None:
    told = minutes_after_window(20)
    step = change(visit(eta=told), visit(eta=told + timedelta(minutes=30)), told, is_settled_later=True)
    assert step.notices == []
    assert step.late_eta == told


def test_settled_later_does_not_suppress_the_thank_you() -> None:
    step = change(visit(status="arrived"), visit(status="done"), is_settled_later=True)
    assert kinds(step) == [NoticeKind.VISIT_DONE]


# -- when the sweep should look -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["arrived", "done", "cancelled"])
def test_a_settled_visit_is_not_checked_by_the_sweep(status: str) -> None:
    assert change(visit(status="en_route"), visit(status=status)).check_at is None


@pytest.mark.parametrize("status", ["scheduled", "en_route"])
def test_an_open_visit_is_checked_at_the_end_of_its_window(status: str) -> None:
    assert change(None, visit(status=status)).check_at == WINDOW_END


# -- the window passes (sweep) ----------------------------------------------------------------------------


@pytest.mark.parametrize("now", [WINDOW_START, WINDOW_END - timedelta(microseconds=1)])
def test_the_sweep_before_the_window_ends_does_nothing_and_looks_again_at_its_end(now: datetime) -> None:
    step = on_window_end(visit(status="en_route"), None, now)
    assert step.notices == []
    assert step.check_at == WINDOW_END
    assert step.late_eta is None


def test_window_passing_with_a_stale_eta_says_late_without_a_new_time() -> None:
    # Given an en-route visit whose ETA (18:30) has passed, nobody told, and the window ended
    now = minutes_after_window(2)
    current = visit(status="en_route", eta=WINDOW_END - timedelta(minutes=30), delay_reason="Traffic")

    # When the sweep checks
    step = on_window_end(current, None, now)

    # Then one late notice says there is no new time yet
    notice = the_only(NoticeKind.VISIT_RUNNING_LATE, step)
    said = late_payload(notice)
    assert said.new_eta is None
    assert said.delay_reason == "Traffic"
    assert notice.detected_at == now
    # And no ETA counts as told, so the app's next one is passed on; nothing more to check
    assert step.late_eta is None
    assert step.check_at is None


def test_window_passing_with_an_eta_still_ahead_gives_that_eta() -> None:
    now = minutes_after_window(1)
    ahead = minutes_after_window(10)

    step = on_window_end(visit(status="en_route", eta=ahead), None, now)

    assert late_payload(the_only(NoticeKind.VISIT_RUNNING_LATE, step)).new_eta == ahead
    assert step.late_eta == ahead
    assert step.check_at is None


def test_the_sweep_at_the_very_end_of_the_window_already_checks() -> None:
    step = on_window_end(visit(eta=WINDOW_END - timedelta(minutes=5)), None, WINDOW_END)
    assert kinds(step) == [NoticeKind.VISIT_RUNNING_LATE]
    assert step.late_eta is None


def test_the_sweep_says_nothing_when_the_customer_was_already_told() -> None:
    told = minutes_after_window(20)
    step = on_window_end(visit(eta=told), told, minutes_after_window(5))
    assert step.notices == []
    assert step.late_eta == told
    assert step.check_at is None


@pytest.mark.parametrize("status", ["arrived", "done", "cancelled"])
def test_the_sweep_says_nothing_about_a_settled_visit(status: str) -> None:
    step = on_window_end(visit(status=status), None, minutes_after_window(30))
    assert step == VisitStep(notices=[], late_eta=None, check_at=None)


def test_after_no_new_time_yet_the_first_eta_the_app_gives_is_told() -> None:
    # Given the sweep told the customer at 19:02 "late, no new arrival time yet; we'll let you know"
    stale = visit(status="en_route", eta=WINDOW_END - timedelta(minutes=30))
    swept = on_window_end(stale, None, minutes_after_window(2))
    assert late_payload(swept.notices[0]).new_eta is None

    # When the app then gives a new ETA of 19:10
    step = change(stale, visit(status="en_route", eta=minutes_after_window(10)), swept.late_eta)

    # Then the customer hears the new time, as promised
    assert late_payload(the_only(NoticeKind.VISIT_RUNNING_LATE, step)).new_eta == minutes_after_window(10)


# -- replays ------------------------------------------------------------------------------------------


def test_the_same_change_read_twice_gives_the_same_notice_ids() -> None:
    before = visit()
    after = visit(status="en_route", eta=minutes_after_window(20), delay_reason="Traffic")

    first = change(before, after)
    # A replay, read later (a retry): the id depends on the facts, never on when they were read
    replay = change(before, after, now=NOW + timedelta(hours=3))

    assert [n.notice_id for n in first.notices] == [n.notice_id for n in replay.notices]
    assert len({n.notice_id for n in first.notices}) == 2


def test_the_same_slip_seen_by_the_stream_and_by_the_sweep_is_one_notice() -> None:
    # Given an ETA of 19:30 that the sweep sees first (at 19:05), the stream record later
    ahead = minutes_after_window(30)
    by_sweep = on_window_end(visit(status="en_route", eta=ahead), None, minutes_after_window(5))
    by_stream = change(visit(status="en_route"), visit(status="en_route", eta=ahead))

    # Then both produce the same notice id, so the customer hears it once
    sweep_notice = the_only(NoticeKind.VISIT_RUNNING_LATE, by_sweep)
    stream_notice = the_only(NoticeKind.VISIT_RUNNING_LATE, by_stream)
    assert sweep_notice.notice_id == stream_notice.notice_id
    assert by_sweep.late_eta == by_stream.late_eta == ahead


def test_the_same_eta_written_with_another_offset_is_the_same_notice() -> None:
    late = minutes_after_window(20)
    in_utc = change(visit(), visit(eta=late))
    in_berlin = change(visit(), visit(eta=late.astimezone(BERLIN_OFFSET)))
    assert in_utc.notices[0].notice_id == in_berlin.notices[0].notice_id


def test_notices_of_different_visits_never_share_an_id() -> None:
    one = change(None, visit(status="en_route"))
    other = change(None, visit(status="en_route", visit_id="v-2"))
    assert one.notices[0].notice_id != other.notices[0].notice_id


# -- a visit that breaks the contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "bad_value"),
    [
        ({"eta": None}, "eta", None),
        ({"eta": "2026-11-24T17:53:21"}, "eta", "17:53:21"),  # no offset
        ({"window_start": "2026-11-24T16:41:07"}, "window_start", "16:41:07"),  # no offset
        ({"eta": "half past seven-ish"}, "eta", "seven-ish"),
        ({"window_end": "2026-11-24T16:07:33+00:00"}, "window_end", "16:07:33"),  # before the start
        ({"status": "on_holiday"}, "status", "on_holiday"),
        ({"technician_name": ""}, "technician_name", None),
        ({"customer_id": ""}, "customer_id", None),
    ],
)
def test_an_invalid_visit_names_the_field_and_the_visit_but_not_the_value(
    overrides: dict[str, Any], field: str, bad_value: str | None
) -> None:
    with pytest.raises(InvalidVisit) as raised:
        visit(visit_id="v-404", **overrides)

    message = str(raised.value)
    assert field in message
    assert "v-404" in message
    assert raised.value.key == {"visit_id": "v-404"}
    assert any(field in problem for problem in raised.value.problems)
    if bad_value is not None:
        assert bad_value not in message
        assert all(bad_value not in problem for problem in raised.value.problems)


def test_a_blank_technician_name_is_an_invalid_visit() -> None:
    with pytest.raises(InvalidVisit, match="technician_name"):
        visit(status="en_route", technician_name="   ")


def test_a_technician_name_of_one_word_is_its_own_first_name() -> None:
    step = change(visit(), visit(status="en_route", technician_name="Carlos"))
    assert step.notices[0].payload["technician_first_name"] == "Carlos"


# -- a property over any sequence of ETAs -------------------------------------------------------------------

eta_offsets = st.lists(st.integers(min_value=-180 * 60, max_value=300 * 60), min_size=1, max_size=25)
open_statuses = st.sampled_from(["scheduled", "en_route"])


def _told_etas(notices: list[NoticeRequest]) -> list[tuple[NoticeKind, datetime]]:
    """The lateness news the notices give: (kind, ETA), for running-late (told whatever came
    before) and good-news notices."""
    told: list[tuple[NoticeKind, datetime]] = []
    for notice in notices:
        if notice.kind is NoticeKind.VISIT_ETA_EARLIER:
            told.append((notice.kind, VisitEtaEarlierPayload.model_validate(notice.payload).new_eta))
        elif notice.kind is NoticeKind.VISIT_RUNNING_LATE and notice.asserts is not None:
            new_eta = late_payload(notice).new_eta
            if new_eta is not None and notice.asserts.told is Told.ANY:
                told.append((notice.kind, new_eta))
    return told


def _each_news_moves_the_eta_by_the_slip(
    told: list[tuple[NoticeKind, datetime]], first: datetime | None
) -> None:
    """Late news is after the window and at least a slip later than the ETA last told; good
    news at least a slip earlier."""
    last = first
    for kind, eta in told:
        if kind is NoticeKind.VISIT_RUNNING_LATE:
            assert eta > WINDOW_END
            assert last is None or eta - last >= POLICY.slip
        else:
            assert last is not None
            assert last - eta >= POLICY.slip
        last = eta


@given(offsets=eta_offsets, status=open_statuses)
def test_late_and_sooner_news_always_moves_the_eta_by_at_least_the_slip(
    offsets: list[int], status: str
) -> None:
    # Given an open visit whose ETA the app moves about, any way at all
    previous: Visit | None = None
    late_eta: datetime | None = None
    told: list[tuple[NoticeKind, datetime]] = []
    ids: list[str] = []
    news = 0
    for seconds in offsets:
        current = visit(status=status, eta=WINDOW_END + timedelta(seconds=seconds))
        step = change(previous, current, late_eta, news=news)
        told += _told_etas(step.notices)
        ids += [notice.notice_id for notice in step.notices]
        previous, late_eta, news = current, step.late_eta, step.news

    # Then each piece of news moves the ETA told by at least the slip, the right way...
    _each_news_moves_the_eta_by_the_slip(told, None)
    # ...each one is its own notice, and the ETA last told is the state kept
    assert len(set(ids)) == len(ids)
    assert late_eta == (told[-1][1] if told else None)


@given(offsets=eta_offsets, sweep_at=st.integers(min_value=0, max_value=24), sweep_after=st.integers(0, 300))
def test_the_sweep_interleaved_with_eta_changes_never_breaks_the_spacing(
    offsets: list[int], sweep_at: int, sweep_after: int
) -> None:
    # Given ETA changes, with the sweep checking (after the window) somewhere among them
    previous: Visit | None = None
    late_eta: datetime | None = None
    told: list[tuple[NoticeKind, datetime]] = []
    ids: list[str] = []
    sweep_notices = news = 0
    for index, seconds in enumerate(offsets):
        current = visit(status="en_route", eta=WINDOW_END + timedelta(seconds=seconds))
        step = change(previous, current, late_eta, news=news)
        previous, late_eta, news = current, step.late_eta, step.news
        notices = list(step.notices)
        if index == min(sweep_at, len(offsets) - 1):
            swept = on_window_end(current, late_eta, minutes_after_window(sweep_after), news=news)
            late_eta, news = swept.late_eta, swept.news
            notices += swept.notices
            sweep_notices += len(swept.notices)
        told += _told_etas(notices)
        ids += [notice.notice_id for notice in notices]

    assert sweep_notices <= 1
    _each_news_moves_the_eta_by_the_slip(told, None)
    assert len(set(ids)) == len(ids)


# -- settled later in the batch: which stream records are moot -----------------------------------------------


def stream_record(event_id: str, visit_id: str, status: str) -> dict[str, Any]:
    """A VisitsTable stream record as Lambda receives it."""
    return {
        "eventID": event_id,
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"visit_id": {"S": visit_id}},
            "NewImage": {
                "visit_id": {"S": visit_id},
                "customer_id": {"S": "cust-1"},
                "window_start": {"S": WINDOW_START.isoformat()},
                "window_end": {"S": WINDOW_END.isoformat()},
                "eta": {"S": ON_TIME_ETA.isoformat()},
                "status": {"S": status},
                "technician_name": {"S": "Carlos Mendes"},
            },
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def test_updates_before_the_arrival_in_the_same_batch_are_moot() -> None:
    # Given a batch: v-1 sets off, slips, arrives; v-2 sets off in between
    records = [
        stream_record("e1", "v-1", "en_route"),
        stream_record("e2", "v-2", "en_route"),
        stream_record("e3", "v-1", "en_route"),
        stream_record("e4", "v-1", "arrived"),
    ]

    # Then only v-1's records before its arrival are moot: not v-2's, not the arrival itself
    assert settled_later(records) == frozenset({"e1", "e3"})


@pytest.mark.parametrize("status", ["arrived", "done", "cancelled"])
def test_any_settling_status_makes_earlier_records_moot(status: str) -> None:
    records = [stream_record("e1", "v-1", "en_route"), stream_record("e2", "v-1", status)]
    assert settled_later(records) == frozenset({"e1"})


def test_records_after_the_settling_record_are_not_moot() -> None:
    # Cancelled, then rescheduled and set off again: the customer must hear about the new trip
    records = [
        stream_record("e1", "v-1", "cancelled"),
        stream_record("e2", "v-1", "scheduled"),
        stream_record("e3", "v-1", "en_route"),
    ]
    assert settled_later(records) == frozenset()


def test_other_visits_are_untouched_by_a_visit_settling() -> None:
    records = [
        stream_record("e1", "v-2", "en_route"),
        stream_record("e2", "v-3", "scheduled"),
        stream_record("e3", "v-1", "done"),
    ]
    assert settled_later(records) == frozenset()


def test_a_batch_without_a_settling_record_has_nothing_moot() -> None:
    records = [stream_record("e1", "v-1", "scheduled"), stream_record("e2", "v-1", "en_route")]
    assert settled_later(records) == frozenset()
    assert settled_later([]) == frozenset()


def test_a_record_without_a_new_image_neither_settles_nor_breaks_the_lookahead() -> None:
    removed = {"eventID": "e2", "eventName": "REMOVE", "dynamodb": {"Keys": {"visit_id": {"S": "v-1"}}}}
    records = [stream_record("e1", "v-1", "en_route"), removed, stream_record("e3", "v-1", "arrived")]
    assert settled_later(records) == frozenset({"e1", "e2"})
