"""The simulated customers' answers: the seeded draw, and reading the buttons and forms as a browser
would (no AWS here: tests/integration/test_sim_answers.py runs them through the stack)."""

from collections import Counter
from datetime import timedelta

import pytest
from headsup.domain.kinds import NoticeKind

from cli.main import TEMPLATES, UNSUBSCRIBE, renderer
from sim.answers import LATEST, SOONEST, Shares, answer_links, intent, page_forms
from sim.samples import sample_customer, sample_request

ANSWER_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/answer/eyJ2IjoxfQ.c2ln"


def test_the_same_run_and_notice_draw_the_same_answer() -> None:
    offered = ["fixed", "not_fixed"]

    draws = [intent(7, f"notice-{n}", offered) for n in range(50)]

    assert draws == [intent(7, f"notice-{n}", offered) for n in range(50)]
    assert draws != [intent(8, f"notice-{n}", offered) for n in range(50)]  # another run, other answers


def test_about_half_answer_mostly_that_it_is_fixed_a_few_tap_twice_within_the_hour_and_a_half() -> None:
    # Given 4,000 follow-ups of one run
    draws = [intent(7, f"notice-{n}", ["fixed", "not_fixed"]) for n in range(4000)]

    answered = [draw for draw in draws if draw is not None]
    answers = Counter(draw.answer for draw in answered)

    # Then about half do nothing, and of the rest about 70 % say it is fixed, 30 % that it is not
    assert 0.46 < len(answered) / len(draws) < 0.54
    assert 0.66 < answers["fixed"] / len(answered) < 0.74
    assert set(answers) == {"fixed", "not_fixed"}
    assert 0.03 < sum(draw.twice for draw in answered) / len(answered) < 0.07
    assert all(SOONEST <= draw.after <= LATEST for draw in answered)
    assert max(draw.after for draw in answered) - min(draw.after for draw in answered) > timedelta(hours=1)


@pytest.mark.parametrize(
    ("offered", "usual", "share"),
    [
        (["call_now", "call_later"], "call_later", 0.6),
        (["fine", "reschedule"], "fine", 0.85),
        (["all_good", "not_right"], "all_good", 0.85),
    ],
)
def test_each_kinds_buttons_have_their_usual_answer(offered: list[str], usual: str, share: float) -> None:
    answered = [d for d in (intent(3, f"n{n}", offered) for n in range(4000)) if d is not None]

    assert abs(sum(d.answer == usual for d in answered) / len(answered) - share) < 0.04
    assert {d.answer for d in answered} == set(offered)  # the others too, a few


def test_nobody_answers_without_buttons_or_when_nobody_is_to_answer() -> None:
    assert intent(7, "n1", []) is None
    assert all(intent(7, f"n{n}", ["fixed"], Shares(answering=0.0)) is None for n in range(100))
    assert all(intent(7, f"n{n}", ["fixed"], Shares(answering=1.0)) is not None for n in range(100))
    # An answer of weight 0 is never given; one without a weight counts as 1
    everyone = Shares(answering=1.0, weights={"fixed": 0.0})
    draws = [intent(7, f"n{n}", ["fixed", "not_fixed"], everyone) for n in range(100)]
    assert {draw.answer for draw in draws if draw is not None} == {"not_fixed"}


@pytest.mark.parametrize(
    ("kind", "answers"),
    [
        (NoticeKind.TICKET_FOLLOW_UP, {"fixed", "not_fixed"}),
        (NoticeKind.CALLBACK_OVERDUE, {"call_now", "call_later"}),
        (NoticeKind.VISIT_DONE, {"all_good", "not_right"}),
    ],
)
def test_the_buttons_are_read_from_the_emails_html_and_no_other_link(
    kind: NoticeKind, answers: set[str]
) -> None:
    # Given the email as delivery renders it, with its answer link and its unsubscribe link
    email = renderer(TEMPLATES).render_email(
        sample_request(kind), sample_customer(), unsubscribe_url=UNSUBSCRIBE, answer_url=ANSWER_URL
    )

    links = answer_links(email.html)

    # Then each button is the link's path and query, as a tap asks the API for it
    assert links == {answer: f"/answer/eyJ2IjoxfQ.c2ln?answer={answer}" for answer in answers}


def test_an_email_without_buttons_has_none() -> None:
    email = renderer(TEMPLATES).render_email(
        sample_request(NoticeKind.BILL_INCREASE), sample_customer(), unsubscribe_url=UNSUBSCRIBE
    )

    assert answer_links(email.html) == {}
    assert answer_links('<a href="https://x.example/answer/?answer=fixed">no token</a>') == {}
    assert answer_links('<a href="https://x.example/answer/t/more?answer=fixed">deeper</a>') == {}


def test_a_pages_post_forms_are_the_fields_their_submit_sends_in_order() -> None:
    page = (
        '<form method="get"><input name="q" value="search"></form>'
        '<form method="post"><input type="hidden" name="answer" value="call_now">'
        "<button>Call me now</button></form>"
        '<form method="POST"><input type="hidden" name="answer" value="call_later">'
        '<input type="hidden" name="slot" value="2026-11-24T22:00:00+00:00"><button>14:00</button></form>'
        '<form method="post"><input type="hidden" name="answer" value="call_later">'
        '<input type="hidden" name="slot" value="2026-11-25T17:00:00+00:00"><button>09:00</button></form>'
    )

    assert page_forms(page) == [
        {"answer": "call_now"},
        {"answer": "call_later", "slot": "2026-11-24T22:00:00+00:00"},
        {"answer": "call_later", "slot": "2026-11-25T17:00:00+00:00"},
    ]
    assert page_forms("<p>Already answered</p>") == []
