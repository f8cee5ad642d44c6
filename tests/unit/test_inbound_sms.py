"""Two-way SMS without AWS: reading what End User Messaging publishes, what a customer's words mean
(English and Spanish, however they are typed), the replies, and the service's decisions with
in-memory fakes (answers through the real AnswerService)."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from headsup.adapters.answers import AnswerOutcome, Recorded
from headsup.adapters.senders import PermanentSendError, SendThrottled
from headsup.domain.answers import ANSWERS, Answer, AnswerLink
from headsup.domain.inbound_sms import (
    TEAM_TEXT_LIMIT,
    Intent,
    MalformedInboundSms,
    Sender,
    SentNotice,
    answer_for,
    normalise,
    read_keyword,
    read_record,
    team_text,
)
from headsup.domain.kinds import NoticeKind
from headsup.domain.messages import RenderedSms
from headsup.domain.notices import NoticeRequest
from headsup.domain.preferences import Preferences
from headsup.handlers.settings import DeliverySettings
from headsup.logic.answers import AnswerService, BusinessHours
from headsup.logic.inbound_sms import NO_CUSTOMER, InboundSmsService
from headsup.rendering.renderer import NoticeRenderer, sms_encoding, sms_segments
from headsup.rendering.sms_replies import SmsReplies

from sim.samples import EDGE_CUSTOMERS, LOCALES, sample_customer, sample_request

AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
PHONE = "+4915112345678"
BUSINESS_NUMBER = "+18002345678"
FOLLOW_UP = "0" * 31 + "1"
OLDER_FOLLOW_UP = "0" * 31 + "2"
BILL = "0" * 31 + "3"


def payload(body: str = "2", **overrides: Any) -> dict[str, Any]:
    return {
        "originationNumber": PHONE,
        "destinationNumber": BUSINESS_NUMBER,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        **overrides,
    }


def record(message: Any, **sns: Any) -> dict[str, Any]:
    body = message if isinstance(message, str) else json.dumps(message)
    return {
        "EventSource": "aws:sns",
        "Sns": {"MessageId": "sns-1", "Message": body, "Timestamp": "2026-11-24T16:00:00.000Z", **sns},
    }


# ------------------------------------------------------------------------------------- the message


def test_a_message_as_end_user_messaging_publishes_it_is_read_with_the_time_sns_took_it() -> None:
    received = read_record(record(payload("Yes", newField="ignored")))

    assert received.message.origination_number == PHONE
    assert received.message.message_body == "Yes"
    assert received.message.inbound_message_id == "cae173d2-66b9-564c-8309-21f858e9fb84"
    assert (received.at, received.sns_message_id) == (AT, "sns-1")


def test_the_keyword_and_the_previous_message_id_are_optional() -> None:
    data = {k: v for k, v in payload().items() if k not in ("messageKeyword", "previousPublishedMessageId")}

    assert read_record(record(data)).message.message_keyword is None


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("not a record", "record: not an object"),
        ({"EventSource": "aws:sns"}, "Sns."),
        (record("{not json"), "Sns.Message: not JSON"),
        (record("[1, 2]"), "Sns.Message: not a JSON object"),
        (record(payload(), Timestamp="yesterday"), "Sns.Timestamp"),
        (record(payload(), Timestamp="2026-11-24T16:00:00"), "Sns.Timestamp"),
        (
            record({k: v for k, v in payload().items() if k != "messageBody"}),
            "Message.messageBody: Field required",
        ),
        (
            record(payload(originationNumber=4915112345678)),
            "Message.originationNumber: Input should be a valid string",
        ),
        (record(payload(messageBody=None)), "Message.messageBody"),
        (record(payload(inboundMessageId="../../etc/passwd x")), "Message.inboundMessageId"),
        (record(payload(inboundMessageId="")), "Message.inboundMessageId"),
        (record(payload(destinationNumber="")), "Message.destinationNumber"),
    ],
)
def test_a_malformed_record_names_the_field_at_fault_never_the_number_or_the_words(
    bad: Any, problem: str
) -> None:
    with pytest.raises(MalformedInboundSms) as raised:
        read_record(bad)

    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems
    described = str(raised.value)
    assert "4915112345678" not in described
    assert raised.value.__cause__ is None  # pydantic's own text (which quotes values) is not chained


# ------------------------------------------------------------------------------------------ words


@pytest.mark.parametrize(
    ("body", "intent", "language"),
    [
        ("1", Intent.FIRST, None),
        (" YES ", Intent.FIRST, None),
        ("y", Intent.FIRST, None),
        ("Ok.", Intent.FIRST, None),
        ("fixed!", Intent.FIRST, None),
        ("Fine", Intent.FIRST, None),
        ("si", Intent.FIRST, "es"),
        ("SÍ", Intent.FIRST, "es"),
        ("¡Sí!", Intent.FIRST, "es"),
        ("\uff11", Intent.FIRST, None),  # a full-width 1
        ("1\ufe0f\u20e3", Intent.FIRST, None),  # the keycap emoji 1
        ("\u200f1\u200e", Intent.FIRST, None),  # 1 between right-to-left and left-to-right marks
        ("2", Intent.SECOND, None),
        ("No", Intent.SECOND, None),
        ("n?", Intent.SECOND, None),
        ("Reschedule", Intent.SECOND, None),
        ("LATER", Intent.SECOND, None),
        ("cambiar", Intent.SECOND, "es"),
        ("Luego...", Intent.SECOND, "es"),
        ("call", Intent.CALL, None),
        ("Call me!", Intent.CALL, None),
        ("llámame", Intent.CALL, "es"),
        ("AYUDA", Intent.HELP, "es"),
        ("info", Intent.HELP, None),
        ("Alto", Intent.STOP, "es"),
        ("cancelar", Intent.STOP, "es"),
        ("PARAR", Intent.STOP, "es"),
        ("baja.", Intent.STOP, "es"),
        ("unsubscribe", Intent.STOP, None),
        ("Cancel", Intent.STOP, None),
        ("END", Intent.STOP, None),
        ("quit", Intent.STOP, None),
        ("opt-out", Intent.STOP, None),
        ("👍", Intent.TEXT, None),
        ("نعم", Intent.TEXT, None),  # "yes" in Arabic: not a word we offered; a person reads it
        ("כן", Intent.TEXT, None),
        ("yes please, but after 5", Intent.TEXT, None),
        ("12", Intent.TEXT, None),
        ("", Intent.TEXT, None),
        ("   ", Intent.TEXT, None),
        ("x" * 10_000, Intent.TEXT, None),
        ("1" + " " * 10_000, Intent.FIRST, None),  # surrounding whitespace, however much
    ],
)
def test_the_words_headsup_answers_to_in_english_and_spanish(
    body: str, intent: Intent, language: str | None
) -> None:
    reading = read_keyword(body)

    assert (reading.intent, reading.language) == (intent, language)


def test_a_message_that_begins_with_help_or_stop_was_answered_by_the_number_itself() -> None:
    # End User Messaging replies to a message that begins with a mandatory keyword, and a STOP
    # opts the number out on its side: headsup records the opt-out but never replies twice.
    assert read_keyword("HELP").answered_by_aws
    assert read_keyword("help me with my bill").answered_by_aws
    assert read_keyword("Stop").answered_by_aws
    stop_texting = read_keyword("stop texting me")
    assert (stop_texting.intent, stop_texting.stops, stop_texting.answered_by_aws) == (
        Intent.TEXT,
        True,
        True,
    )
    assert not read_keyword("AYUDA").answered_by_aws
    assert not read_keyword("stopping by later?").stops
    assert read_keyword("BAJA").stops


def test_normalising_a_long_message_reads_none_of_it() -> None:
    assert normalise("a" * 41) == ""
    assert normalise("¡¿ Sí ?!") == "si"


@pytest.mark.parametrize(
    ("kind", "intent", "answer"),
    [
        (NoticeKind.TICKET_FOLLOW_UP, Intent.FIRST, Answer.FIXED),
        (NoticeKind.TICKET_FOLLOW_UP, Intent.SECOND, Answer.NOT_FIXED),
        (NoticeKind.TICKET_FOLLOW_UP, Intent.CALL, None),
        (NoticeKind.CALLBACK_OVERDUE, Intent.FIRST, Answer.CALL_NOW),
        (NoticeKind.CALLBACK_OVERDUE, Intent.CALL, Answer.CALL_NOW),
        (NoticeKind.CALLBACK_OVERDUE, Intent.SECOND, Answer.CALL_LATER),
        (NoticeKind.VISIT_ON_THE_WAY, Intent.SECOND, Answer.RESCHEDULE),
        (NoticeKind.VISIT_RUNNING_LATE, Intent.FIRST, Answer.FINE),
        (NoticeKind.VISIT_DONE, Intent.SECOND, Answer.NOT_RIGHT),
        (NoticeKind.BILL_INCREASE, Intent.FIRST, None),
        (NoticeKind.TICKET_FOLLOW_UP, Intent.HELP, None),
    ],
)
def test_1_is_the_first_answer_a_notice_offers_and_2_the_second(
    kind: NoticeKind, intent: Intent, answer: Answer | None
) -> None:
    assert answer_for(kind, intent) is answer


def test_what_the_team_reads_keeps_the_words_and_scripts_but_not_control_or_override_characters() -> None:
    text, cut = team_text("  Hola\u202e gnihton\x00 مرحبا 🙏\nline two\x07  ")

    assert (text, cut) == ("Hola gnihton مرحبا 🙏\nline two", False)
    long_text, long_cut = team_text("é" * 10_000)
    assert (len(long_text), long_cut, long_text[-1]) == (TEAM_TEXT_LIMIT, True, "\u2026")


# ---------------------------------------------------------------------------------------- replies


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "es-ES", "es-MX", "de-DE", "ja-JP"])
def test_every_reply_is_one_gsm7_segment_and_signed_with_the_business_name(locale: str) -> None:
    words = SmsReplies("Example Co")
    zone = ZoneInfo("America/Chicago")
    texts = [
        words.thanks(answer, locale=locale, zone=zone, slot=AT + timedelta(days=1), at=AT).text
        for answer in Answer
    ]
    texts += [words.help(locale).text, words.to_team(locale).text, words.stopped(locale).text]

    for text in texts:
        assert text.startswith("Example Co: ")
        assert (sms_encoding(text), sms_segments(text)) == ("GSM-7", 1), text
    assert "STOP" in words.help(locale).text


@pytest.mark.parametrize(
    ("locale", "zone", "slot", "expected"),
    [
        ("en-US", "America/New_York", datetime(2026, 11, 24, 20, tzinfo=UTC), "We'll call you at 3:00 PM."),
        (
            "en-US",
            "America/New_York",
            datetime(2026, 11, 25, 14, tzinfo=UTC),
            "We'll call you on Nov 25 at 9:00 AM.",
        ),
        ("es-ES", "Europe/Madrid", datetime(2026, 11, 24, 18, tzinfo=UTC), "Le llamaremos a las 19:00."),
        (
            "es-ES",
            "Europe/Madrid",
            datetime(2026, 11, 25, 0, tzinfo=UTC),
            "Le llamaremos el 25 nov a la 1:00.",
        ),
        (
            "es-MX",
            "America/Mexico_City",
            datetime(2026, 11, 24, 20, tzinfo=UTC),
            "Le llamaremos a las 2:00 p.m.",
        ),
    ],
)
def test_call_me_later_says_when_on_the_customers_clock(
    locale: str, zone: str, slot: datetime, expected: str
) -> None:
    text = (
        SmsReplies("Example Co")
        .thanks(Answer.CALL_LATER, locale=locale, zone=ZoneInfo(zone), slot=slot, at=AT)
        .text
    )

    assert text == f"Example Co: {expected}"


# ----------------------------------------------------------------------------- SMS offering answers


def two_way_renderer(on: bool) -> NoticeRenderer:
    kinds = frozenset(kind.value for kind in ANSWERS) if on else frozenset()
    return NoticeRenderer(
        Path(__file__).parents[2] / "templates",
        business_name="Example Co",
        support_reply_to="help@example.com",
        two_way_sms_kinds=kinds,
    )


@pytest.mark.parametrize("kind", list(ANSWERS))
def test_with_two_way_sms_the_answerable_kinds_ask_for_1_or_2_within_the_segment_budget(
    kind: NoticeKind,
) -> None:
    on, off = two_way_renderer(on=True), two_way_renderer(on=False)
    for locale in (*LOCALES, "es-MX"):
        for label, fields in EDGE_CUSTOMERS.items():
            customer = sample_customer(locale=locale, **fields)
            asked = on.render_sms(sample_request(kind), customer).text
            plain = off.render_sms(sample_request(kind), customer).text
            # The budget `headsup check-templates` holds every SMS to (3 segments), and how to stop.
            assert sms_segments(asked) <= 3, (locale, label, asked)
            assert "STOP" in asked
            assert "Reply 1 " in asked or "Responda 1 " in asked, asked
            assert ", 2 " in asked
            assert "Reply 1" not in plain
            assert "Responda 1" not in plain


def test_two_way_sms_offers_answers_only_for_the_kinds_whose_answers_are_on() -> None:
    on = DeliverySettings.model_construct(two_way_sms=True, answer_kinds="ticket_follow_up,visit_done")
    off = DeliverySettings.model_construct(two_way_sms=False, answer_kinds="ticket_follow_up,visit_done")

    assert on.sms_answer_kinds == {"ticket_follow_up", "visit_done"}
    assert off.sms_answer_kinds == frozenset()


# -------------------------------------------------------------------------------------------- fakes


@dataclass
class FakeSenders:
    by_phone: dict[str, list[Sender]] = field(default_factory=dict)

    def find(self, phone: str) -> list[Sender]:
        return list(self.by_phone.get(phone, []))


@dataclass
class FakeNotices:
    """The ledger's items, by notice id; answers recorded by FakeAnswerLedger land here."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def sent_since(self, customer_id: str, since: datetime) -> list[SentNotice]:
        found = [
            SentNotice(
                notice_id=notice_id,
                kind=item["kind"],
                status=item["status"],
                sent_at=item["sent_at"],
                subject=item.get("subject"),
                answer=item.get("answer"),
                answer_reference=item.get("answer_reference"),
            )
            for notice_id, item in self.items.items()
            if item["customer_id"] == customer_id and item["sent_at"] >= since.isoformat()
        ]
        return sorted(found, key=lambda notice: notice.sent_at, reverse=True)


@dataclass
class FakeAnswerLedger:
    notices: FakeNotices

    def record(
        self,
        link: AnswerLink,
        answer: Answer,
        *,
        slot: datetime | None,
        source: str,
        now: datetime,
        reference: str | None = None,
    ) -> AnswerOutcome:
        item = self.notices.items.get(link.notice_id)
        if item is None or item["customer_id"] != link.customer_id or item["kind"] != link.kind:
            return AnswerOutcome(Recorded.UNKNOWN)
        if "answer" in item:
            if reference is not None and item.get("answer_reference") == reference:
                return AnswerOutcome(Recorded.RECORDED, item.get("subject"))
            return AnswerOutcome(Recorded.ALREADY, item.get("subject"), item["answer"])
        item |= {"answer": answer.value, "answer_source": source, "answer_reference": reference}
        return AnswerOutcome(Recorded.RECORDED, item.get("subject"))


@dataclass
class FakeEffects:
    written: list[tuple[str, str, Answer, datetime | None]] = field(default_factory=list)

    def apply(
        self, subject: str, customer_id: str, answer: Answer, *, slot: datetime | None, now: datetime
    ) -> bool:
        self.written.append((subject, customer_id, answer, slot))
        return True


@dataclass
class FakeQueue:
    requests: list[NoticeRequest] = field(default_factory=list)

    def put(self, request: NoticeRequest) -> None:
        self.requests.append(request)


@dataclass
class FakePreferences:
    opted_out: dict[str, set[str]] = field(default_factory=dict)
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    def get(self, customer_id: str) -> Preferences:
        return Preferences(customer_id, opted_out_channels=frozenset(self.opted_out.get(customer_id, set())))

    def opt_out_channel(self, customer_id: str, channel: str, *, source: str, now: datetime) -> None:
        self.opted_out.setdefault(customer_id, set()).add(channel)
        self.changes.append((customer_id, channel, source))


@dataclass
class FakeLog:
    handled: dict[str, str] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)
    finish_loses: bool = False  # another copy of the message finished first

    def seen(self, inbound_message_id: str) -> bool:
        return inbound_message_id in self.handled

    def finish(self, inbound_message_id: str, result: str, *, customer_id: str | None, now: datetime) -> bool:
        if self.finish_loses or inbound_message_id in self.handled:
            return False
        self.handled[inbound_message_id] = result
        return True

    def forget(self, inbound_message_id: str) -> None:
        self.handled.pop(inbound_message_id, None)
        self.forgotten.append(inbound_message_id)


@dataclass
class FakeReplies:
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    fail_with: Exception | None = None

    def send_sms(
        self, to: str, sms: RenderedSms, *, notice_id: str, kind: str, origination: str | None = None
    ) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((to, sms.text, origination))
        return f"sms-{len(self.sent)}"


@dataclass
class Stack:
    senders: FakeSenders
    notices: FakeNotices
    effects: FakeEffects
    queue: FakeQueue
    preferences: FakePreferences
    log: FakeLog
    replies: FakeReplies
    service: InboundSmsService

    def text(self, body: str, *, inbound_id: str = "in-1", sender: str = PHONE) -> str:
        message = payload(body, inboundMessageId=inbound_id, originationNumber=sender)
        return self.service.handle(read_record(record(message)))


JONAS = Sender("cust-jonas", locale="de-DE", timezone="Europe/Berlin")


def stack(*senders: Sender, enabled: frozenset[str] = frozenset(k.value for k in ANSWERS)) -> Stack:
    found, notices = FakeSenders({PHONE: list(senders)}), FakeNotices()
    effects, queue, preferences, log, replies = (
        FakeEffects(),
        FakeQueue(),
        FakePreferences(),
        FakeLog(),
        FakeReplies(),
    )
    service = InboundSmsService(
        senders=found,
        notices=notices,
        preferences=preferences,
        log=log,
        answers=AnswerService(
            ledger=FakeAnswerLedger(notices),
            effects=effects,
            queue=queue,
            hours=BusinessHours(time(8), time(21)),
            enabled_kinds=enabled,
            business_name="Example Co",
        ),
        queue=queue,
        replies=replies,
        words=SmsReplies("Example Co"),
        window=timedelta(hours=72),
        default_locale="en-US",
        default_timezone="America/New_York",
    )
    return Stack(found, notices, effects, queue, preferences, log, replies, service)


def sent(notice_id: str, kind: str, hours_ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "customer_id": "cust-jonas",
        "kind": kind,
        "status": "sent",
        "sent_at": (AT - timedelta(hours=hours_ago)).isoformat(),
        "subject": "tickets/t-1",
        **extra,
    }


# ----------------------------------------------------------------------------------- the service


def test_2_answers_the_newest_notice_still_waiting_for_an_answer() -> None:
    jonas = stack(JONAS)
    jonas.notices.items = {
        FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1, answer="fixed"),  # answered by its link
        OLDER_FOLLOW_UP: sent(OLDER_FOLLOW_UP, "ticket_follow_up", 5, subject="tickets/t-0"),
        BILL: sent(BILL, "bill_increase", 0.5),  # newest, but takes no answer
    }

    assert jonas.text("2") == "answered"

    assert jonas.notices.items[OLDER_FOLLOW_UP]["answer"] == "not_fixed"
    assert jonas.effects.written == [("tickets/t-0", "cust-jonas", Answer.NOT_FIXED, None)]
    [team] = jonas.queue.requests
    assert (team.kind, team.payload["reference"], team.payload["source"]) == (
        NoticeKind.TICKET_ANSWER,
        "t-0",
        "sms",
    )
    [(to, text, origination)] = jonas.replies.sent
    assert (to, origination) == (PHONE, BUSINESS_NUMBER)
    assert "reopened" in text


def test_the_same_message_again_is_not_acted_on_twice() -> None:
    jonas = stack(JONAS)
    jonas.notices.items = {FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1)}

    assert [jonas.text("2"), jonas.text("2")] == ["answered", "repeated"]
    assert len(jonas.effects.written) == len(jonas.queue.requests) == len(jonas.replies.sent) == 1


def test_a_reply_that_fails_undoes_the_record_and_the_retry_finishes_the_same_answer() -> None:
    # Given SNS throttling the reply
    jonas = stack(JONAS)
    jonas.notices.items = {
        FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1),
        OLDER_FOLLOW_UP: sent(OLDER_FOLLOW_UP, "ticket_follow_up", 5),
    }
    jonas.replies.fail_with = SendThrottled("Throttling")

    # When the message is handled, fails, and is handled again
    with pytest.raises(SendThrottled):
        jonas.text("2")
    jonas.replies.fail_with = None
    assert jonas.text("2") == "answered"

    # Then the same notice was answered (not the older one), and one reply went
    assert jonas.log.forgotten == ["in-1"]
    assert "answer" not in jonas.notices.items[OLDER_FOLLOW_UP]
    assert len(jonas.replies.sent) == 1
    assert {request.notice_id for request in jonas.queue.requests} == {jonas.queue.requests[0].notice_id}


def test_a_reply_refused_for_good_is_not_retried() -> None:
    jonas = stack(JONAS)
    jonas.replies.fail_with = PermanentSendError("OptedOut")

    assert jonas.text("what is this?") == "to_team"
    assert jonas.log.handled == {"in-1": "to_team"}
    assert jonas.log.forgotten == []


def test_another_copy_finishing_first_means_no_second_reply() -> None:
    jonas = stack(JONAS)
    jonas.log.finish_loses = True

    jonas.text("AYUDA")

    assert jonas.replies.sent == []


def test_an_answer_with_nothing_to_answer_goes_to_the_team() -> None:
    jonas = stack(JONAS)
    jonas.notices.items = {
        BILL: sent(BILL, "bill_increase", 2, subject="bills/cust-jonas/2026-11"),
        FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 100),  # outside the 72-hour window
    }

    assert jonas.text("1") == "to_team"

    [team] = jonas.queue.requests
    assert (team.kind, team.customer_id) == (NoticeKind.CUSTOMER_MESSAGE, "cust-jonas")
    expected = {
        "customer_id": "cust-jonas",
        "why": "nothing_to_answer",
        "text": "1",
        "replied_to_notice_id": BILL,
        "replied_to_kind": "bill_increase",
        "reference": "cust-jonas/2026-11",
        "sender": None,
        "acknowledged": True,
    }
    assert {name: team.payload[name] for name in expected} == expected
    assert jonas.effects.written == []


@pytest.mark.parametrize(
    ("body", "enabled"),
    [
        ("call", frozenset(k.value for k in ANSWERS)),  # "call" answers only an overdue callback
        ("2", frozenset({"visit_done"})),  # the follow-up's answers are turned off
    ],
)
def test_a_word_the_notice_does_not_take_goes_to_the_team(body: str, enabled: frozenset[str]) -> None:
    jonas = stack(JONAS, enabled=enabled)
    jonas.notices.items = {FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1)}

    assert jonas.text(body) == "to_team"
    assert "answer" not in jonas.notices.items[FOLLOW_UP]


def test_a_shared_number_answers_nothing_and_the_team_gets_who_shares_it() -> None:
    ana = Sender("cust-ana", locale="en-US", timezone="America/Los_Angeles")
    family = stack(JONAS, ana)

    assert family.text("2") == "to_team"

    [team] = family.queue.requests
    assert (team.customer_id, team.payload["customer_id"], team.payload["why"]) == (
        NO_CUSTOMER,
        None,
        "shared_number",
    )
    assert (team.payload["matched_customers"], team.payload["sender"]) == (["cust-jonas", "cust-ana"], PHONE)


def test_stop_opts_out_everyone_with_the_number_and_aws_confirms_it() -> None:
    ana = Sender("cust-ana", locale="en-US", timezone="America/Los_Angeles")
    family = stack(JONAS, ana)

    assert family.text("STOP") == "opted_out"

    assert family.preferences.changes == [
        ("cust-jonas", "sms", "sms_keyword"),
        ("cust-ana", "sms", "sms_keyword"),
    ]
    assert family.replies.sent == []  # the number's own STOP message answered


def test_stop_at_the_start_of_a_message_opts_out_and_the_words_still_reach_the_team() -> None:
    jonas = stack(JONAS)

    assert jonas.text("Stop sending me these, call me instead") == "to_team"

    assert jonas.preferences.opted_out == {"cust-jonas": {"sms"}}
    [team] = jonas.queue.requests
    assert team.payload["acknowledged"] is False
    assert jonas.replies.sent == []


def test_a_customer_who_opted_out_of_sms_gets_no_reply_but_is_still_heard() -> None:
    jonas = stack(JONAS)
    jonas.preferences.opted_out["cust-jonas"] = {"sms"}
    jonas.notices.items = {FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1)}

    assert jonas.text("2", inbound_id="in-1") == "answered"
    assert jonas.text("help", inbound_id="in-2") == "help"
    assert jonas.text("parar", inbound_id="in-3") == "opted_out"

    # Only the confirmation of an opt-out the number itself does not know (PARAR)
    assert [text for _, text, _ in jonas.replies.sent] == ["Example Co: Ya no le enviaremos SMS."]


def test_do_not_contact_is_heard_and_never_texted() -> None:
    jonas = stack(Sender("cust-jonas", locale="de-DE", timezone="Europe/Berlin", do_not_contact=True))
    jonas.notices.items = {FOLLOW_UP: sent(FOLLOW_UP, "ticket_follow_up", 1)}

    assert jonas.text("2", inbound_id="in-1") == "answered"
    assert jonas.text("alto", inbound_id="in-2") == "opted_out"
    assert jonas.replies.sent == []


def test_a_number_not_on_file_is_answered_in_the_language_it_wrote_in() -> None:
    nobody = stack()

    assert nobody.text("ayuda") == "help"
    assert nobody.text("hola, quien es?", inbound_id="in-2") == "to_team"

    [(_, text, _)] = nobody.replies.sent[:1]
    assert text.startswith("Example Co: Responda 1 o 2")
    [team] = nobody.queue.requests
    assert (team.customer_id, team.payload["sender"], team.payload["why"]) == (
        NO_CUSTOMER,
        PHONE,
        "not_on_file",
    )


def test_a_sender_that_is_not_a_phone_number_is_not_looked_up_or_replied_to() -> None:
    nobody = stack(JONAS)

    assert nobody.text("hello", sender="ACME-ALERT") == "to_team"

    [team] = nobody.queue.requests
    assert team.payload["sender"] == "ACME-ALERT"
    assert nobody.replies.sent == []


def test_the_team_notice_id_comes_from_the_inbound_message_so_a_retry_queues_the_same_one() -> None:
    first, second = stack(JONAS), stack(JONAS)

    first.text("hello?")
    second.text("hello?")

    assert first.queue.requests[0].notice_id == second.queue.requests[0].notice_id
