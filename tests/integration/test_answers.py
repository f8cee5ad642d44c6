"""One-tap answers on the template's stack in moto: the link in the email the stack sent, followed
through the HTTP API (payload 2.0, form posts base64-encoded as API Gateway sends them) to
AnswerFunction, which writes the answer on the business's item and queues the team's notice."""

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import time_machine
from headsup.domain import answers

from emulator import sent_emails, topic_messages
from emulator.faults import FaultPlan, injected
from emulator.iam import denied
from emulator.sources.http_api import HttpApiSource
from sim.pipeline import LocalPipeline
from tests.integration.test_sweeps import NOW, PROMISED, callback, ticket
from tests.integration.test_unsubscribe_handler import deployed_key
from tests.integration.test_visits import MARIA, WINDOW_START, visit

FORM = {"content-type": "application/x-www-form-urlencoded"}


def answer_api(pipeline: LocalPipeline) -> HttpApiSource:
    return HttpApiSource(pipeline.deployment, "AnswerFunction")


def answer_links(html: str) -> dict[str, str]:
    """The email's answer buttons: answer -> the link's path and query, as the customer taps it."""
    links = re.findall(r'href="(https://[^"]+/answer/[^"?]+\?answer=(\w+))"', html)
    return {answer: urlsplit(url).path + "?" + urlsplit(url).query for url, answer in links}


def follow_up_emailed(pipeline: LocalPipeline) -> dict[str, str]:
    pipeline.put_tickets(
        [ticket(30, NOW, status="solved", solved_at=(NOW - timedelta(hours=25)).isoformat())]
    )
    pipeline.sweep_at(NOW)
    [email] = sent_emails()
    assert email.html is not None
    return answer_links(email.html)


def ticket_item(pipeline: LocalPipeline) -> dict[str, Any]:
    [item] = [t for t in pipeline._scan("TicketsTable") if t["ticket_id"] == "t-1"]
    return item


def post(api: HttpApiSource, path_and_query: str, **form: str) -> Any:
    body = "&".join(f"{name}={value}" for name, value in form.items())
    return api.request("POST", path_and_query.partition("?")[0], body=body, headers=FORM)


def test_the_follow_up_email_offers_both_answers_and_a_get_changes_nothing(pipeline: LocalPipeline) -> None:
    links = follow_up_emailed(pipeline)
    assert set(links) == {"fixed", "not_fixed"}
    before = ticket_item(pipeline)

    page = answer_api(pipeline).request(
        "GET", links["not_fixed"].partition("?")[0], query={"answer": "not_fixed"}
    )

    assert page.status == 200
    assert "Is everything working now?" in page.body
    assert page.body.index("No, still a problem") < page.body.index("Yes, it&#x27;s fixed")
    assert ticket_item(pipeline) == before
    assert "answer" not in pipeline.ledger()[0]


def test_still_a_problem_reopens_the_ticket_once_and_tells_the_team(pipeline: LocalPipeline) -> None:
    # Given the follow-up email, and the customer tapping "No, still a problem" (twice)
    links = follow_up_emailed(pipeline)
    api = answer_api(pipeline)
    first = post(api, links["not_fixed"], answer="not_fixed")
    second = post(api, links["not_fixed"], answer="fixed")
    pipeline.deliver_notices()

    # Then the ticket is open again, its SLA clock restarted, and the team was told once
    assert (first.status, second.status) == (200, 200)
    assert "reopened your ticket" in first.body
    assert "already have your answer" in second.body
    item = ticket_item(pipeline)
    assert (item["status"], item["reopened_by_customer"], item["customer_answer"]) == (
        "open",
        True,
        "not_fixed",
    )
    assert item["updated_at"] > (NOW - timedelta(hours=1)).isoformat()
    [team] = [
        m for m in topic_messages(pipeline.deployment, "EscalationTopic") if "answered" in (m.subject or "")
    ]
    assert "t-1" in (team.subject or "")
    notice = next(e for e in pipeline.ledger() if e["kind"] == "ticket_follow_up")
    assert (notice["answer"], notice["answer_source"]) == ("not_fixed", "link")


def test_yes_its_fixed_is_recorded_on_the_ticket_and_the_team_is_not_woken(pipeline: LocalPipeline) -> None:
    links = follow_up_emailed(pipeline)

    response = post(answer_api(pipeline), links["fixed"], answer="fixed")
    pipeline.deliver_notices()

    assert response.status == 200
    item = ticket_item(pipeline)
    assert (item["status"], item["customer_answer"]) == ("solved", "fixed")
    assert "customer_confirmed_fixed_at" in item
    assert [e["kind"] for e in pipeline.ledger()] == ["ticket_follow_up"]


def test_call_me_later_moves_the_callbacks_promise_to_the_slot_chosen(pipeline: LocalPipeline) -> None:
    # Given an overdue callback's apology emailed to Ana (Los Angeles)
    pipeline.put_callbacks([callback()])
    pipeline.sweep_at(PROMISED + timedelta(minutes=20))
    [email] = sent_emails()
    links = answer_links(email.html or "")
    api = answer_api(pipeline)

    # When she opens "Call me later" and picks the first time offered
    page = api.request("GET", links["call_later"].partition("?")[0])
    slot = re.findall(r'name="slot" value="([^"]+)"', page.body)[0]
    response = post(api, links["call_later"], answer="call_later", slot=slot.replace("+", "%2B"))

    # Then the callback is promised for that time, and the team told
    assert response.status == 200
    [item] = pipeline._scan("CallbacksTable")
    assert item["promised_at"] == datetime.fromisoformat(slot).isoformat()
    assert item["customer_answer"] == "call_later"


@pytest.mark.parametrize(
    "form",
    [
        {"answer": "reschedule"},  # not an answer to this notice
        {"answer": "call_later"},
        {"answer": "x" * 10_000},
        {"answer": "✅"},
        {"answer": "fixed\u202e"},
    ],
)
def test_an_answer_the_notice_does_not_take_changes_nothing(
    pipeline: LocalPipeline, form: dict[str, str]
) -> None:
    links = follow_up_emailed(pipeline)
    before = ticket_item(pipeline)

    response = post(answer_api(pipeline), links["fixed"], **form)

    assert response.status == 400
    assert ticket_item(pipeline) == before


def test_tampered_expired_and_foreign_links_get_the_same_404_and_change_nothing(
    pipeline: LocalPipeline,
) -> None:
    links = follow_up_emailed(pipeline)
    token = links["fixed"].partition("?")[0].rsplit("/", 1)[1]
    key = deployed_key(pipeline.deployment)
    genuine = answers.verify(key, token, now=NOW)
    foreign = answers.sign(key, answers.AnswerLink(**{**genuine.__dict__, "customer_id": "cust-jonas"}))
    expired = answers.sign(
        key, answers.AnswerLink(**{**genuine.__dict__, "expires_at": NOW - timedelta(days=1)})
    )
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    before = ticket_item(pipeline)

    api = answer_api(pipeline)
    responses = [post(api, f"/answer/{bad}", answer="not_fixed") for bad in (tampered, expired, foreign)]

    assert [r.status for r in responses] == [404, 404, 404]
    assert len({r.body for r in responses}) == 1
    assert ticket_item(pipeline) == before
    assert (
        boto3.client("sqs").get_queue_attributes(
            QueueUrl=pipeline.deployment.ref("NoticeQueue"), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )


# ------------------------------------------------------------------ visits


@pytest.fixture
def visits(pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    """The morning of Maria's visit, as tests/integration/test_visits.py plays it."""
    with time_machine.travel(WINDOW_START - timedelta(minutes=20), tick=True):
        pipeline.put_customers([MARIA])
        pipeline.put_visits([visit()])
        pipeline.index_changes()
        yield pipeline


@pytest.mark.parametrize(("answer", "team_told"), [("not_right", True), ("all_good", False)])
def test_a_visit_answer_is_written_on_the_visit_and_only_a_problem_goes_to_the_team(
    visits: LocalPipeline, answer: str, team_told: bool
) -> None:
    # Given Maria's visit done, and its thank-you emailed with its two answers
    visits.put_visits([visit(status="arrived")])
    visits.put_visits([visit(status="done")])
    visits.index_changes()
    visits.deliver_notices()
    [email] = sent_emails()
    links = answer_links(email.html or "")
    assert set(links) == {"all_good", "not_right"}

    # When she answers
    response = post(answer_api(visits), links[answer], answer=answer)
    visits.deliver_notices()

    # Then the visit carries her answer, and only a problem wakes the team
    assert response.status == 200
    [item] = visits._scan("VisitsTable")
    assert item["customer_answer"] == answer
    team = [e for e in visits.ledger() if e["kind"] == "visit_answer"]
    assert bool(team) is team_told


def test_every_call_an_answer_makes_is_allowed_by_the_functions_template_policy(
    pipeline: LocalPipeline,
) -> None:
    # moto does not enforce IAM: a permission missing from template.yaml would only fail in AWS
    links = follow_up_emailed(pipeline)
    with injected(FaultPlan()) as plan:
        answer_api(pipeline).request("GET", links["not_fixed"].partition("?")[0])
        post(answer_api(pipeline), links["not_fixed"], answer="not_fixed")

    calls = [call for call in plan.calls if call.function == "AnswerFunction"]
    assert {(call.service, call.operation) for call in calls} >= {
        ("dynamodb", "UpdateItem"),
        ("sqs", "SendMessage"),
        ("secretsmanager", "GetSecretValue"),
    }
    refused = {
        denial
        for call in calls
        for denial in denied(pipeline.deployment, "AnswerFunction", call.service, call.operation, call.params)
    }
    assert refused == set()
