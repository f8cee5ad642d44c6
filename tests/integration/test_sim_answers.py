"""The simulated customers answering through the template's stack on moto: the email the stack sent,
its button opened and the page's form posted to AnswerFunction, as `headsup simulate` does."""

from datetime import datetime, timedelta
from typing import Any

import time_machine

from cli.outbox import collect_notices
from cli.timeline import timeline
from emulator import topic_messages
from sim.answers import Respondents, Shares
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline
from tests.integration.test_sweeps import NOW, PROMISED, callback, ticket

EVERYONE = Shares(answering=1.0, twice=1.0)


def delivered_and_answered(
    pipeline: LocalPipeline, at: datetime, respondents: Respondents, *, bounced: float = 0
) -> int:
    """The mail server's report of the email sent at `at`, then the customer answering two hours later."""
    with time_machine.travel(at + timedelta(minutes=1), tick=True):
        Mailboxes(pipeline, seed=1, delayed=0, bounced=bounced).report()
        assert respondents.answer() == 0  # just arrived: they answer in a while
    with time_machine.travel(at + timedelta(hours=2), tick=True):
        answered = respondents.answer()
        pipeline.deliver_notices()
    return answered


def ticket_item(pipeline: LocalPipeline) -> dict[str, Any]:
    [item] = pipeline._scan("TicketsTable")
    return item


def test_a_customer_still_having_the_problem_reopens_the_ticket_and_a_second_tap_changes_nothing(
    pipeline: LocalPipeline,
) -> None:
    # Given the follow-up emailed to Ana a day after her ticket was solved
    pipeline.put_tickets(
        [ticket(30, NOW, status="solved", solved_at=(NOW - timedelta(hours=25)).isoformat())]
    )
    pipeline.sweep_at(NOW)
    respondents = Respondents(pipeline, seed=1, shares=Shares(answering=1.0, weights={"fixed": 0}, twice=1.0))

    # When it arrives and, a while later, she taps "No, still a problem" (twice)
    assert delivered_and_answered(pipeline, NOW, respondents) == 1

    # Then she opened the page, posted its form, and the second post was told it was answered already
    [tap] = respondents.taps
    assert (tap.answer, tap.opened, tap.posted, tap.fields) == (
        "not_fixed",
        200,
        (200, 200),
        {"answer": "not_fixed"},
    )
    assert "reopened your ticket" in tap.pages[0]
    assert "already have your answer" in tap.pages[1]
    # ... the ticket is open again, as of her first answer, and the team was told once
    item = ticket_item(pipeline)
    [follow_up] = [n for n in pipeline.ledger() if n["kind"] == "ticket_follow_up"]
    assert (item["status"], item["reopened_by_customer"], item["customer_answer"]) == (
        "open",
        True,
        "not_fixed",
    )
    assert (follow_up["answer"], follow_up["answer_source"]) == ("not_fixed", "link")
    assert item["customer_answered_at"] == follow_up["answered_at"]  # the second tap wrote nothing
    assert [n["kind"] for n in pipeline.ledger()].count("ticket_answer") == 1
    assert (
        len([m for m in topic_messages(pipeline.deployment, "EscalationTopic") if "t-1" in (m.subject or "")])
        == 1
    )
    # ... and the run's record tells it: the answer, then the team's notice
    [told] = [n for n in collect_notices(pipeline) if n.kind == "ticket_follow_up"]
    [team] = [n for n in collect_notices(pipeline) if n.kind == "ticket_answer"]
    assert [step.what for step in timeline(told, team=team)][-2:] == [
        "answered: No, still a problem (by link)",
        "to the team: sent",
    ]


def test_call_me_later_posts_the_first_time_the_page_offers_and_the_callback_moves_to_it(
    pipeline: LocalPipeline,
) -> None:
    # Given the overdue callback's apology emailed to Ana
    pipeline.put_callbacks([callback()])
    sent_at = PROMISED + timedelta(minutes=20)
    pipeline.sweep_at(sent_at)
    respondents = Respondents(pipeline, seed=1, shares=Shares(answering=1.0, weights={"call_now": 0}))

    # When she answers "Call me later"
    assert delivered_and_answered(pipeline, sent_at, respondents) == 1

    # Then she posted the first time the page offered, and the callback is promised for then
    [tap] = respondents.taps
    assert (tap.answer, tap.posted) == ("call_later", (200,))
    [item] = pipeline._scan("CallbacksTable")
    assert item["promised_at"] == tap.fields["slot"]
    [answered] = [n for n in pipeline.ledger() if n["kind"] == "callback_overdue"]
    assert answered["answer_slot"] == tap.fields["slot"]


def test_nobody_answers_an_email_that_bounced(pipeline: LocalPipeline) -> None:
    pipeline.put_tickets(
        [ticket(30, NOW, status="solved", solved_at=(NOW - timedelta(hours=25)).isoformat())]
    )
    pipeline.sweep_at(NOW)
    respondents = Respondents(pipeline, seed=1, shares=EVERYONE)

    assert delivered_and_answered(pipeline, NOW, respondents, bounced=1.0) == 0

    assert respondents.taps == []
    assert "customer_answer" not in ticket_item(pipeline)
    assert all("answer" not in notice for notice in pipeline.ledger())
