"""Answer links and call-back hours without AWS (domain/answers.py), and what each answer writes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from headsup.domain import answers
from headsup.domain.answers import Answer, AnswerLink, InvalidAnswerLink, effect_on_item
from headsup.domain.kinds import NoticeKind
from headsup.domain.unsubscribe_tokens import sign as sign_unsubscribe

KEY = b"k" * 32
NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
LA = ZoneInfo("America/Los_Angeles")
LINK = AnswerLink(
    notice_id="a" * 32,
    customer_id="cust-1",
    kind=NoticeKind.TICKET_FOLLOW_UP,
    locale="es-ES",
    zone="America/Los_Angeles",
    expires_at=NOW + timedelta(days=14),
)


def test_a_signed_link_reads_back_as_signed() -> None:
    assert answers.verify(KEY, answers.sign(KEY, LINK), now=NOW) == LINK


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-dot",
        answers.sign(b"another key" * 3, LINK),
        answers.sign(KEY, LINK)[:-2],
        answers.sign(KEY, LINK).replace(".", ".A", 1),
        sign_unsubscribe(KEY, "cust-1", "tickets"),  # an unsubscribe token is not an answer link
        answers.sign(KEY, AnswerLink(**{**LINK.__dict__, "kind": NoticeKind.BILL_INCREASE})),
        answers.sign(KEY, AnswerLink(**{**LINK.__dict__, "zone": "Mars/Olympus"})),
    ],
)
def test_a_link_that_is_not_ours_as_signed_is_refused(token: str) -> None:
    with pytest.raises(InvalidAnswerLink):
        answers.verify(KEY, token, now=NOW)


def test_a_link_stops_working_when_it_expires() -> None:
    token = answers.sign(KEY, LINK)

    answers.verify(KEY, token, now=LINK.expires_at - timedelta(seconds=1))
    with pytest.raises(InvalidAnswerLink, match="expired"):
        answers.verify(KEY, token, now=LINK.expires_at)


def test_call_back_hours_are_whole_hours_ahead_apart_and_inside_business_hours_on_the_clock() -> None:
    slots = answers.callback_slots(NOW, LA, time(8), time(21))

    local = [slot.astimezone(LA) for slot in slots]
    assert [f"{s:%a %H:%M}" for s in local] == ["Tue 10:00", "Tue 13:00", "Tue 16:00"]
    assert all(answers.slot_is_acceptable(slot, NOW, LA, time(8), time(21)) for slot in slots)


def test_late_in_the_day_the_hours_offered_are_tomorrows() -> None:
    evening = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 20:00 in Los Angeles

    local = [slot.astimezone(LA) for slot in answers.callback_slots(evening, LA, time(8), time(21))]

    assert [f"{s:%a %H:%M}" for s in local] == ["Wed 08:00", "Wed 11:00", "Wed 14:00"]


@pytest.mark.parametrize(
    "slot",
    [
        NOW - timedelta(hours=1),  # past
        datetime(2026, 11, 25, 6, 0, tzinfo=UTC),  # 22:00 on the customer's clock
        NOW + timedelta(hours=3, minutes=30),  # not on the hour
        NOW + timedelta(days=9),  # too far
    ],
)
def test_a_posted_slot_outside_what_could_be_offered_is_refused(slot: datetime) -> None:
    assert not answers.slot_is_acceptable(slot, NOW, LA, time(8), time(21))


def test_still_a_problem_reopens_the_ticket_and_a_call_moves_only_a_pending_promise() -> None:
    reopened, _ = effect_on_item(Answer.NOT_FIXED, now=NOW, slot=None)
    always, pending_only = effect_on_item(Answer.CALL_NOW, now=NOW, slot=None)

    assert (reopened["status"], reopened["reopened_by_customer"], reopened["updated_at"]) == (
        "open",
        True,
        NOW.isoformat(),
    )
    assert always == {"customer_answer": "call_now", "customer_answered_at": NOW.isoformat()}
    assert pending_only == {"promised_at": (NOW + timedelta(minutes=15)).isoformat()}
