"""The simulated customers texting back through the template's stack on moto, with two-way SMS on:
the SMS the stack sent, the phone's delivery report, and the customer's reply published as End
User Messaging publishes it to InboundSmsTopic, for InboundSmsFunction, as `headsup simulate` does."""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from moto import mock_aws

from cli.outbox import collect_notices, collect_sms_opt_outs
from cli.timeline import timeline
from emulator import sent_sms, topic_messages
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline
from sim.replies import ReplyShares, Texters, stack_number
from tests.integration.test_inbound_sms import follow_up_texted_to_jonas, ticket_item
from tests.integration.test_sweeps import NOW
from tests.stack import JONAS


def everyone(means: str) -> ReplyShares:
    """Every customer replies, and with `means` (`second`, `stop`, `text`...)."""
    return ReplyShares(replying=1.0, weights={means: 1.0})


@pytest.fixture
def two_way() -> Iterator[LocalPipeline]:
    """The stack with its own two-way number (TwoWaySmsNumberCountry=US), an hour before NOW."""
    with time_machine.travel(NOW - timedelta(hours=1), tick=True), mock_aws():
        local = LocalPipeline.provision({"TwoWaySmsNumberCountry": "US"})
        local.put_customers([JONAS])
        yield local


def reported_and_replied(pipeline: LocalPipeline, texters: Texters, *, failed: float = 0) -> int:
    """The phone's report of the SMS sent at NOW, then the customer replying two hours later."""
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):
        Mailboxes(pipeline, seed=1, sms_failed=0, sms_failed_permanently=failed).report()
        assert texters.reply() == 0  # just arrived: they reply in a while
    with time_machine.travel(NOW + timedelta(hours=2), tick=True):
        replied = texters.reply()
        pipeline.deliver_notices()
    return replied


def ledger_of(pipeline: LocalPipeline, kind: str) -> list[dict[str, Any]]:
    return [entry for entry in pipeline.ledger() if entry["kind"] == kind]


@pytest.mark.parametrize(("locale", "words"), [("en-US", {"2"}), ("es-ES", {"2", "NO"})])
def test_replying_2_to_the_follow_up_reopens_the_ticket_and_the_ledger_says_it_came_by_sms(
    two_way: LocalPipeline, locale: str, words: set[str]
) -> None:
    # Given the follow-up texted to Jonas from the stack's number, offering answers in his language
    two_way.put_customers([{**JONAS, "locale": locale}])
    follow_up = follow_up_texted_to_jonas(two_way)
    [sms] = sent_sms()
    assert ("Responda 1" if locale == "es-ES" else "Reply 1") in sms.message
    texters = Texters(two_way, seed=1, shares=everyone("second"))

    # When it is delivered and, a while later, he replies "2" (or "NO")
    assert reported_and_replied(two_way, texters) == 1

    # Then the message went from his phone to the stack's number, and the function answered it
    [texted] = texters.texted
    assert (texted.sms_message_id, texted.phone, texted.reply.body in words) == (
        sms.message_id,
        JONAS["phone"],
        True,
    )
    assert texted.result == {"answered": 1}
    [published] = topic_messages(two_way.deployment, "InboundSmsTopic")
    message = json.loads(published.message)
    assert (message["originationNumber"], message["destinationNumber"]) == (
        JONAS["phone"],
        stack_number(two_way.deployment),
    )
    assert message["previousPublishedMessageId"] == sms.message_id
    # ... the ticket is open again, the team told, and the ledger has his answer, by SMS
    assert (ticket_item(two_way)["status"], ticket_item(two_way)["customer_answer"]) == ("open", "not_fixed")
    [answered] = [e for e in two_way.ledger() if e["notice_id"] == follow_up["notice_id"]]
    assert (answered["answer"], answered["answer_source"]) == ("not_fixed", "sms")
    assert len(ledger_of(two_way, "ticket_answer")) == 1
    # ... and the run's record tells it so
    [told] = [n for n in collect_notices(two_way) if n.kind == "ticket_follow_up"]
    assert any(step.what == "answered: No, still a problem (by SMS reply)" for step in timeline(told))


def test_stop_records_the_sms_opt_out_in_the_customers_preferences(two_way: LocalPipeline) -> None:
    follow_up_texted_to_jonas(two_way)
    texters = Texters(two_way, seed=1, shares=everyone("stop"))

    assert reported_and_replied(two_way, texters) == 1

    assert texters.texted[0].result == {"opted_out": 1}
    [prefs] = two_way.preferences()
    assert (prefs["opted_out_channels"], prefs["last_change"]) == ({"sms"}, "sms_keyword")
    assert list(collect_sms_opt_outs(two_way)) == ["cust-jonas"]
    assert collect_sms_opt_outs(two_way)["cust-jonas"] >= NOW + timedelta(hours=2)


def test_free_text_reaches_the_team_as_a_customer_message(two_way: LocalPipeline) -> None:
    follow_up = follow_up_texted_to_jonas(two_way)
    texters = Texters(two_way, seed=1, shares=everyone("text"))

    assert reported_and_replied(two_way, texters) == 1

    [texted] = texters.texted
    assert texted.result == {"to_team": 1}
    [entry] = ledger_of(two_way, "customer_message")
    assert (entry["customer_id"], entry["status"]) == ("cust-jonas", "sent")
    [team] = [n for n in collect_notices(two_way) if n.kind == "customer_message"]
    assert team.message is not None
    body = json.loads(team.message.text)
    assert (body["text"], body["why"], body["replied_to_notice_id"]) == (
        texted.reply.body,
        "free_text",
        follow_up["notice_id"],
    )
    assert ticket_item(two_way)["status"] == "solved"  # words for a person change nothing by themselves


def test_nobody_replies_to_an_sms_that_never_arrived(two_way: LocalPipeline) -> None:
    follow_up_texted_to_jonas(two_way)
    texters = Texters(two_way, seed=1, shares=everyone("second"))

    assert reported_and_replied(two_way, texters, failed=1.0) == 0

    assert topic_messages(two_way.deployment, "InboundSmsTopic") == []


def test_without_the_stacks_number_nobody_can_text_it(pipeline: LocalPipeline) -> None:
    follow_up_texted_to_jonas(pipeline)
    texters = Texters(pipeline, seed=1, shares=everyone("second"))

    with time_machine.travel(NOW + timedelta(hours=3), tick=True):
        assert (stack_number(pipeline.deployment), texters.reply()) == (None, 0)
