"""Two-way SMS on the template's stack in moto: what a customer texts back, as AWS End User Messaging
publishes it to InboundSmsTopic, handed by the topic's subscription to InboundSmsFunction, which
answers the notice they were sent (as the email's links do), helps, opts them out, or tells the team."""

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine
from moto import mock_aws

from emulator import sent_sms, topic_messages
from emulator.faults import FaultPlan, injected
from emulator.iam import denied
from emulator.sources.sns import SnsSource
from sim.pipeline import LocalPipeline
from tests.integration.test_sweeps import NOW, PROMISED, callback, ticket
from tests.stack import BUSINESS_HOURS, JONAS, bill

BUSINESS_NUMBER = "+18002345678"
JONAS_PHONE = JONAS["phone"]
STRANGER = "+14155550142"


def inbound(pipeline: LocalPipeline) -> SnsSource:
    return SnsSource(pipeline.deployment, "InboundSmsFunction", "Inbound")


def message(body: str, *, sender: str = JONAS_PHONE, inbound_id: str = "in-1") -> str:
    """The JSON End User Messaging publishes for one message texted to the business's number."""
    return json.dumps(
        {
            "originationNumber": sender,
            "destinationNumber": BUSINESS_NUMBER,
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": body,
            "inboundMessageId": inbound_id,
            "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }
    )


def text(pipeline: LocalPipeline, body: str, **options: str) -> Any:
    return inbound(pipeline).deliver(message(body, **options))


def follow_up_texted_to_jonas(pipeline: LocalPipeline) -> dict[str, Any]:
    pipeline.put_tickets(
        [
            ticket(
                30,
                NOW,
                customer_id="cust-jonas",
                status="solved",
                solved_at=(NOW - timedelta(hours=25)).isoformat(),
            )
        ]
    )
    pipeline.sweep_at(NOW)
    [entry] = pipeline.ledger()
    assert (entry["kind"], entry["status"], entry["channel"]) == ("ticket_follow_up", "sent", "sms")
    return entry


def ticket_item(pipeline: LocalPipeline) -> dict[str, Any]:
    [item] = pipeline._scan("TicketsTable")
    return item


def replies(before: int = 0) -> list[Any]:
    return sent_sms()[before:]


def team_messages(pipeline: LocalPipeline, kind: str) -> list[dict[str, Any]]:
    return [
        json.loads(m.message)
        for m in topic_messages(pipeline.deployment, "EscalationTopic")
        if m.attributes.get("kind", {}).get("Value") == kind
    ]


# ----------------------------------------------------------------------------------------- answers


def test_replying_2_to_the_follow_up_reopens_the_ticket_once_and_a_replay_changes_nothing(
    pipeline: LocalPipeline,
) -> None:
    # Given the follow-up texted to Jonas
    follow_up = follow_up_texted_to_jonas(pipeline)
    source = inbound(pipeline)

    # When he replies "2", and SNS delivers the same message again
    payload = message("2")
    message_id = source.publish(payload)
    event = source.event(message_id, payload, None, {})
    first = source.invoke(event)
    pipeline.deliver_notices()
    ticket_after, sms_after, team_after = ticket_item(pipeline), len(sent_sms()), len(pipeline.escalations())
    replay = source.invoke(event)
    pipeline.deliver_notices()

    # Then the ticket was reopened once, the team told once, and he got one reply
    assert (first, replay) == ({"answered": 1}, {"repeated": 1})
    assert (
        ticket_after["status"],
        ticket_after["reopened_by_customer"],
        ticket_after["customer_answer"],
    ) == (
        "open",
        True,
        "not_fixed",
    )
    assert (ticket_item(pipeline), len(sent_sms()), len(pipeline.escalations())) == (
        ticket_after,
        sms_after,
        team_after,
    )
    [team] = team_messages(pipeline, "ticket_answer")
    assert (team["reference"], team["answer"], team["source"]) == ("t-1", "not_fixed", "sms")
    [reply] = replies(before=1)
    assert reply.phone_number == JONAS_PHONE
    assert "reopened your request" in reply.message
    answered = next(e for e in pipeline.ledger() if e["notice_id"] == follow_up["notice_id"])
    assert (answered["answer"], answered["answer_source"], answered["answer_reference"]) == (
        "not_fixed",
        "sms",
        "in-1",
    )


def test_yes_with_accents_and_punctuation_confirms_the_fix_without_waking_the_team(
    pipeline: LocalPipeline,
) -> None:
    follow_up_texted_to_jonas(pipeline)

    assert text(pipeline, " ¡Sí! ") == {"answered": 1}
    pipeline.deliver_notices()

    item = ticket_item(pipeline)
    assert (item["status"], item["customer_answer"]) == ("solved", "fixed")
    assert team_messages(pipeline, "ticket_answer") == []
    assert "Nos alegra que ya funcione" in replies(before=1)[0].message  # "sí": answered in Spanish


def test_later_to_an_overdue_callback_moves_its_promise_to_the_first_slot_and_says_when(
    pipeline: LocalPipeline,
) -> None:
    # Given the overdue callback's apology texted to Jonas (Berlin)
    pipeline.put_callbacks([callback(customer_id="cust-jonas")])
    pipeline.sweep_at(PROMISED + timedelta(minutes=20))
    apology = next(e for e in pipeline.ledger() if e["kind"] == "callback_overdue")
    assert apology["channel"] == "sms"

    # When he replies "later"
    assert text(pipeline, "Later") == {"answered": 1}

    # Then the callback is promised for the first slot offered on his clock, and the reply says when
    [item] = pipeline._scan("CallbacksTable")
    assert item["customer_answer"] == "call_later"
    promised = datetime.fromisoformat(item["promised_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert (promised.minute, promised >= BUSINESS_HOURS + timedelta(hours=2)) == (0, True)
    [reply] = replies(before=1)
    assert reply.message.startswith("Example Co: We'll call you ")
    assert promised.strftime("%H:%M") in reply.message


# ------------------------------------------------------------------------------------ keywords


def test_stop_opts_the_customer_out_of_sms_and_the_next_sms_notice_says_why_it_was_not_sent(
    pipeline: LocalPipeline,
) -> None:
    # When Jonas texts STOP (End User Messaging confirms it itself: no second reply)
    assert text(pipeline, "STOP") == {"opted_out": 1}

    # Then his preferences say so, with where it came from
    [prefs] = pipeline._scan("PreferencesTable")
    assert prefs["opted_out_channels"] == {"sms"}
    assert prefs["last_change"] == "sms_keyword"
    assert sent_sms() == []

    # ...and the next notice that would go by SMS does not, and says why
    pipeline.put_bills([bill("cust-jonas", "2026-10", "100.00"), bill("cust-jonas", "2026-11", "150.00")])
    pipeline.run()
    [entry] = [e for e in pipeline.ledger() if e["kind"] == "bill_increase"]
    assert entry["status"] == "skipped"
    assert "sms" in entry["reason"]
    assert "opted out" in entry["reason"]
    assert sent_sms() == []


def test_a_spanish_opt_out_word_is_confirmed_in_spanish(pipeline: LocalPipeline) -> None:
    pipeline.put_customers([{**JONAS, "locale": "es-ES"}])

    assert text(pipeline, "Baja.") == {"opted_out": 1}

    [prefs] = pipeline._scan("PreferencesTable")
    assert prefs["opted_out_channels"] == {"sms"}
    [reply] = sent_sms()
    assert reply.message == "Example Co: Ya no le enviaremos SMS."


@pytest.mark.parametrize(
    ("body", "locale", "expected"),
    [
        ("AYUDA", "de-DE", "Responda 1 o 2"),  # asked in Spanish: answered in Spanish
        ("ayuda", "es-MX", "Responda 1 o 2"),
        ("Info", "de-DE", "Reply 1 or 2 to answer our last text"),  # German: English, as notices
        ("info", "es-MX", "Responda 1 o 2"),
    ],
)
def test_help_words_get_how_to_answer_and_how_to_stop_in_the_customers_language(
    pipeline: LocalPipeline, body: str, locale: str, expected: str
) -> None:
    pipeline.put_customers([{**JONAS, "locale": locale}])

    assert text(pipeline, body) == {"help": 1}

    [reply] = sent_sms()
    assert reply.phone_number == JONAS_PHONE
    assert reply.message.startswith("Example Co: ")
    assert expected in reply.message
    assert "STOP" in reply.message
    assert team_messages(pipeline, "customer_message") == []


def test_help_itself_is_answered_by_the_number_so_the_function_does_not_reply_twice(
    pipeline: LocalPipeline,
) -> None:
    assert text(pipeline, "HELP") == {"help": 1}

    assert sent_sms() == []
    pipeline.deliver_notices()
    assert team_messages(pipeline, "customer_message") == []


# --------------------------------------------------------------------------------------- the team


def test_free_text_goes_to_the_team_with_the_words_and_the_customer_is_told_a_person_will_reply(
    pipeline: LocalPipeline,
) -> None:
    follow_up = follow_up_texted_to_jonas(pipeline)
    words = "Can you come after 5pm instead? 🙏 مرحبا"

    assert text(pipeline, words) == {"to_team": 1}
    pipeline.deliver_notices()

    [team] = team_messages(pipeline, "customer_message")
    assert (team["customer_id"], team["text"], team["why"]) == ("cust-jonas", words, "free_text")
    assert (team["replied_to_notice_id"], team["reference"], team["sender"]) == (
        follow_up["notice_id"],
        "t-1",
        None,
    )
    assert words in team["summary"]
    [reply] = replies(before=1)
    assert reply.message == "Example Co: Thanks, a person will reply soon."


def test_a_number_not_on_file_goes_to_the_team_with_no_customer_and_the_number_to_reply_to(
    pipeline: LocalPipeline,
) -> None:
    assert text(pipeline, "1", sender=STRANGER) == {"to_team": 1}
    pipeline.deliver_notices()

    [escalation] = [
        m for m in pipeline.escalations() if m.attributes.get("kind", {}).get("Value") == "customer_message"
    ]
    assert escalation.subject == "SMS from a number not on file"
    body = json.loads(escalation.message)
    assert (body["customer_id"], body["sender"], body["why"], body["text"]) == (
        None,
        STRANGER,
        "not_on_file",
        "1",
    )
    [reply] = sent_sms()
    assert reply.phone_number == STRANGER


def test_a_10000_character_message_reaches_the_team_cut_to_an_sms_worth(pipeline: LocalPipeline) -> None:
    assert text(pipeline, "x" * 10_000) == {"to_team": 1}
    pipeline.deliver_notices()

    [team] = team_messages(pipeline, "customer_message")
    assert (len(team["text"]), team["text_truncated"]) == (1600, True)


# ------------------------------------------------------------------------------ bad input, privacy


def test_a_malformed_message_fails_alone_and_its_log_names_the_fields_not_the_values(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    bad = json.dumps(
        {"originationNumber": 4915112345678, "messageBody": "secret words", "inboundMessageId": "in-9"}
    )

    assert inbound(pipeline).deliver(bad) == {"malformed": 1}
    assert inbound(pipeline).deliver("not json at all: secret words") == {"malformed": 1}

    logs = lambda_logs.getvalue()
    assert "Message.originationNumber" in logs
    assert "Message.destinationNumber" in logs
    assert "Sns.Message: not JSON" in logs
    assert "secret words" not in logs
    assert "4915112345678" not in logs


def test_no_number_or_words_in_the_logs(pipeline: LocalPipeline, lambda_logs: io.StringIO) -> None:
    follow_up_texted_to_jonas(pipeline)
    words = "my router is flashing red again"

    for body, inbound_id in ((words, "in-a"), ("2", "in-b"), ("ayuda", "in-c"), ("STOP now", "in-d")):
        text(pipeline, body, inbound_id=inbound_id)
    text(pipeline, "hello from me", sender=STRANGER, inbound_id="in-e")
    pipeline.deliver_notices()

    logs = lambda_logs.getvalue()
    assert "Inbound SMS handled" in logs
    for secret in (JONAS_PHONE, JONAS_PHONE.lstrip("+"), STRANGER, words, "hello from me", BUSINESS_NUMBER):
        assert secret not in logs


# ------------------------------------------------------------------------------------------- IAM


def test_every_call_the_function_makes_is_allowed_by_its_template_policy(pipeline: LocalPipeline) -> None:
    # moto does not enforce IAM: a permission missing from template.yaml would only fail in AWS
    follow_up_texted_to_jonas(pipeline)
    pipeline.put_callbacks([callback(customer_id="cust-jonas", callback_id="cb-9")])
    with injected(FaultPlan(seed=1)) as plan:
        text(pipeline, "2", inbound_id="in-1")
        text(pipeline, "2", inbound_id="in-1")  # the same message again: read, nothing written
        text(pipeline, "what now?", inbound_id="in-2")
        text(pipeline, "ayuda", inbound_id="in-3")
        text(pipeline, "stop", inbound_id="in-4")
        text(pipeline, "hi", sender=STRANGER, inbound_id="in-5")
    calls = [call for call in plan.calls if call.function == "InboundSmsFunction"]

    made = {(call.service, call.operation) for call in calls}
    assert made >= {
        ("dynamodb", "Query"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "UpdateItem"),
        ("sqs", "SendMessage"),
        ("sns", "Publish"),
    }
    refused = [
        found
        for call in calls
        for found in denied(
            pipeline.deployment, "InboundSmsFunction", call.service, call.operation, call.params
        )
    ]
    assert refused == []
    # Replies go from the number the customer texted, which is where their next answer must land.
    publishes = [call.params for call in calls if call.operation == "Publish"]
    assert all(
        p["MessageAttributes"]["AWS.MM.SMS.OriginationNumber"]["StringValue"] == BUSINESS_NUMBER
        for p in publishes
    )


def test_a_reply_that_could_not_be_sent_is_retried_with_the_message_and_the_answer_is_not_repeated(
    pipeline: LocalPipeline,
) -> None:
    # Given the follow-up, and SNS throttling the first reply (not retried in the function)
    follow_up_texted_to_jonas(pipeline)
    plan = FaultPlan(seed=1)
    plan.error("sns", "Publish", "Throttling", "Rate exceeded", function="InboundSmsFunction", times=1)
    source = inbound(pipeline)
    payload = message("no")
    event = source.event(source.publish(payload), payload, None, {})

    # When the invocation fails, and Lambda retries it
    with injected(plan):
        with pytest.raises(Exception, match="not recorded"):
            source.invoke(event)
        retried = source.invoke(event)
    pipeline.deliver_notices()

    # Then the answer stands once, the team was told once, and the reply went once
    assert retried == {"answered": 1}
    assert ticket_item(pipeline)["status"] == "open"
    assert len(team_messages(pipeline, "ticket_answer")) == 1
    assert len(replies(before=1)) == 1
    # ...and undoing the note of the message (DeleteItem) is allowed too
    calls = [call for call in plan.calls if call.function == "InboundSmsFunction"]
    assert ("dynamodb", "DeleteItem") in {(call.service, call.operation) for call in calls}
    deployment = pipeline.deployment
    assert [d for c in calls for d in denied(deployment, c.function, c.service, c.operation, c.params)] == []


# ---------------------------------------------------------------------- the number, when it is on


@pytest.fixture
def two_way_pipeline() -> Iterator[LocalPipeline]:
    """The stack with its own two-way number (TwoWaySmsNumberCountry=US)."""
    with time_machine.travel(BUSINESS_HOURS, tick=True), mock_aws():
        local = LocalPipeline.provision({"TwoWaySmsNumberCountry": "US"})
        local.put_customers([JONAS])
        yield local


def test_with_the_stacks_number_sms_offer_the_answers_and_go_from_that_number(
    two_way_pipeline: LocalPipeline,
) -> None:
    pipeline = two_way_pipeline
    number = pipeline.deployment.get_att("TwoWaySmsNumber", "PhoneNumber")
    with injected(FaultPlan(seed=1)) as plan:
        follow_up_texted_to_jonas(pipeline)

    [sms] = sent_sms()
    assert "Reply 1 if fixed, 2 if not. Reply STOP to opt out." in sms.message
    [publish] = [
        c.params for c in plan.calls if c.function == "NoticeDeliveryFunction" and c.operation == "Publish"
    ]
    assert publish["MessageAttributes"]["AWS.MM.SMS.OriginationNumber"]["StringValue"] == number
    # The number's two-way channel is the topic the function is subscribed to, with a role to publish
    resources = pipeline.deployment.resources
    assert resources["TwoWaySmsNumber"]["Properties"]["TwoWay"]["ChannelArn"] == {"Ref": "InboundSmsTopic"}
    assert inbound(pipeline).topic_arn == pipeline.deployment.ref("InboundSmsTopic")


def test_without_the_number_sms_do_not_offer_answers(pipeline: LocalPipeline) -> None:
    follow_up_texted_to_jonas(pipeline)

    [sms] = sent_sms()
    assert "Reply 1" not in sms.message
    assert "If not, reply to support@example.com" in sms.message
    # The topic is there all the same: a number set up outside the stack may point at it.
    topics = boto3.client("sns").list_topics()["Topics"]
    assert pipeline.deployment.ref("InboundSmsTopic") in [topic["TopicArn"] for topic in topics]
