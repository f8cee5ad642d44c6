"""The simulated customers' SMS replies: the seeded draw, and the message End User Messaging would
publish for one (no AWS here: tests/integration/test_sim_replies.py runs them through the stack)."""

import json
from collections import Counter

import pytest
from headsup.domain.inbound_sms import Intent, read_keyword

from sim.answers import LATEST, SOONEST
from sim.replies import ReplyShares, inbound_message, language_of, reply_to

FOLLOW_UP = (
    "Example Co: Hi Ana, on 23 Nov we solved your request. Is everything working now? "
    "Reply 1 if fixed, 2 if not. Reply STOP to opt out."
)
SEGUIMIENTO = (
    "Example Co: Hola, Ana. ¿Ya funciona todo bien? Responda 1 si ya funciona, 2 si no. Baja: responda STOP."
)
BILL = "Example Co: Hi Ana, your bill for November is 12.40 more than October's. Reply STOP to opt out."
HELP_REPLY = (
    "Example Co: Reply 1 or 2 to answer our last text; anything else goes to a person. Reply STOP to opt out."
)
PHONES = [f"+1415555{n:04d}" for n in range(4000)]
# What headsup reads each kind of reply as (headsup.domain.inbound_sms.read_keyword).
MEANS = {
    "first": Intent.FIRST,
    "second": Intent.SECOND,
    "stop": Intent.STOP,
    "text": Intent.TEXT,
    "help": Intent.HELP,
}


def test_the_same_run_phone_and_text_draw_the_same_reply() -> None:
    draws = [reply_to(7, phone, FOLLOW_UP) for phone in PHONES[:50]]

    assert draws == [reply_to(7, phone, FOLLOW_UP) for phone in PHONES[:50]]
    assert draws != [reply_to(8, phone, FOLLOW_UP) for phone in PHONES[:50]]  # another run
    # The same text to the same phone a second time draws afresh
    assert draws != [reply_to(7, phone, FOLLOW_UP, occurrence=1) for phone in PHONES[:50]]


def test_most_who_reply_answer_1_or_2_a_few_stop_write_or_ask_for_help() -> None:
    # Given 4,000 follow-ups of one run
    draws = [reply_to(7, phone, FOLLOW_UP) for phone in PHONES]

    replied = [draw for draw in draws if draw is not None]
    means = Counter(draw.means for draw in replied)

    # Then about 70 % reply; of them about 65 % answer, mostly "1", and the rest each a few
    assert 0.66 < len(replied) / len(draws) < 0.74
    assert 0.61 < (means["first"] + means["second"]) / len(replied) < 0.69
    assert means["first"] > 2 * means["second"]
    for few in ("stop", "text", "help"):
        assert 0.05 < means[few] / len(replied) < 0.2
    assert all(SOONEST <= draw.after <= LATEST for draw in replied)
    assert len({draw.inbound_message_id for draw in replied}) == len(replied)  # one id per message


@pytest.mark.parametrize(
    ("sms", "language", "words"),
    [
        (FOLLOW_UP, "en", {"1", "2", "STOP", "HELP", "Can you come after 5pm?"}),
        (SEGUIMIENTO, "es", {"SI", "NO", "ALTO", "AYUDA", "¿Pueden venir más tarde?"}),
    ],
)
def test_customers_reply_in_the_sms_language_with_words_headsup_reads_as_they_mean(
    sms: str, language: str, words: set[str]
) -> None:
    replied = [d for d in (reply_to(3, phone, sms) for phone in PHONES) if d is not None]

    assert language_of(sms) == language
    assert words <= {draw.body for draw in replied}
    for draw in replied:
        reading = read_keyword(draw.body)
        assert reading.intent is MEANS[draw.means], draw
        assert reading.language in ((None, "es") if language == "es" else (None,))


def test_nobody_replies_to_an_sms_that_offers_no_answer_or_when_nobody_is_to_reply() -> None:
    assert language_of(BILL) is None
    assert language_of(HELP_REPLY) is None  # the function's own reply is no notice
    assert all(reply_to(7, phone, BILL) is None for phone in PHONES[:200])
    assert all(
        reply_to(7, phone, FOLLOW_UP, shares=ReplyShares(replying=0.0)) is None for phone in PHONES[:200]
    )
    assert all(reply_to(7, phone, FOLLOW_UP, shares=ReplyShares(replying=1.0)) for phone in PHONES[:200])


def test_a_reply_is_published_in_end_user_messagings_shape() -> None:
    stop = next(d for d in (reply_to(7, p, FOLLOW_UP) for p in PHONES) if d is not None and d.means == "stop")
    text = next(
        d for d in (reply_to(7, p, SEGUIMIENTO) for p in PHONES) if d is not None and d.means == "text"
    )

    published = [
        json.loads(
            inbound_message(
                d, sender="+14155550101", number="+18002345678", previous="sns-1", account_id="123456789012"
            )
        )
        for d in (stop, text)
    ]

    assert published[0] == {
        "originationNumber": "+14155550101",
        "destinationNumber": "+18002345678",
        "messageKeyword": "STOP",
        "messageBody": "STOP",
        "inboundMessageId": stop.inbound_message_id,
        "previousPublishedMessageId": "sns-1",
    }
    assert published[1]["messageKeyword"] == "KEYWORD_123456789012"
    assert published[1]["messageBody"] == text.body
