"""The customers who text back: what they reply to the SMS the stack sent from its two-way number.

With two-way SMS on (TwoWaySmsNumberCountry), the SMS of the kinds that take an answer end with
"Reply 1 ... 2 ..." ("Responda 1 ... 2 ..." in Spanish). A seeded share of the customers who got
one reply, a little while after it arrived: most answer "1" or "2" ("SI" / "NO" in Spanish), a few
send STOP (ALTO), a few write something of their own ("Can you come after 5pm?"), one or two ask
for HELP (AYUDA). Each reply is published as AWS End User Messaging publishes a message texted to
the number (headsup.domain.inbound_sms: `originationNumber` the customer, `destinationNumber` the
stack's number...) to InboundSmsTopic, whose subscription hands it to InboundSmsFunction.

Nobody replies to an SMS the ledger does not show delivered, nor to the function's own replies
(they are no notice), nor to an SMS that offers no answer. What each customer replies is drawn
from the run's seed, their phone and the SMS's text (and how often that text went to that phone
before), never from SNS's message id, which moto makes random: the same run gives the same replies.
"""

import json
import random
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3

from sim.answers import DELIVERED, LATEST, SOONEST

if TYPE_CHECKING:
    from emulator import Deployment
    from emulator.providers import SentSms
    from sim.pipeline import LocalPipeline

# What the SMS of an answerable kind says to offer its answers (templates/**/sms.txt.j2: "Reply 1
# if fixed, 2 if not"), not the function's HELP reply ("Reply 1 or 2 to answer our last text"),
# which is no notice (the ledger, read before anyone replies, would say so too).
OFFERS: Final = {"en": re.compile(r"\bReply 1 (?!or )"), "es": re.compile(r"\bResponda 1 (?!o )")}
# What customers text back, by what they mean: the first answer, the second, an opt-out, words
# of their own for a person to read, a request for help; in English or Spanish.
WORDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "en": {
        "first": ("1",),
        "second": ("2",),
        "stop": ("STOP",),
        "text": ("Can you come after 5pm?", "Can someone call me about this?"),
        "help": ("HELP",),
    },
    "es": {
        "first": ("SI", "1"),
        "second": ("NO", "2"),
        "stop": ("ALTO",),
        "text": ("¿Pueden venir más tarde?", "¿Me pueden llamar por esto?"),
        "help": ("AYUDA",),
    },
}
# Among those who reply: most answer, mostly "1"; a few opt out, write, or ask for help.
REPLY_WEIGHTS: Final = {"first": 0.5, "second": 0.15, "stop": 0.08, "text": 0.15, "help": 0.12}
# The keywords End User Messaging names in `messageKeyword` (the number's mandatory ones); any
# other message carries the account's default keyword.
_KEYWORDS: Final = ("STOP", "HELP")


@dataclass(frozen=True)
class ReplyShares:
    """How customers reply: the share who do, and what they reply by weight."""

    replying: float = 0.7
    weights: Mapping[str, float] = field(default_factory=lambda: REPLY_WEIGHTS)


@dataclass(frozen=True)
class Reply:
    """What one customer texts back to one SMS, and when."""

    means: str  # `first`, `second`, `stop`, `text` or `help`
    body: str
    after: timedelta  # how long after the SMS arrived
    inbound_message_id: str


def language_of(text: str) -> str | None:
    """The language of an SMS that offers answers (`en`, `es`); None: it offers none."""
    return next((language for language, offer in OFFERS.items() if offer.search(text)), None)


def reply_to(
    seed: int, phone: str, text: str, *, occurrence: int = 0, shares: ReplyShares = ReplyShares()
) -> Reply | None:
    """Whether the customer at `phone` replies to the SMS `text`, what and when, in the SMS's
    language; None: they do not (or it offers no answer). Drawn from the run's seed, the phone,
    the text, and how many times that text went to that phone before."""
    language = language_of(text)
    draw = random.Random(f"{seed}/reply/{phone}/{text}/{occurrence}")  # noqa: S311 - simulation
    if language is None or draw.random() >= shares.replying:
        return None
    means = draw.choices(list(shares.weights), weights=list(shares.weights.values()))[0]
    body = draw.choice(WORDS[language][means])
    after = SOONEST + (LATEST - SOONEST) * draw.random()
    return Reply(means, body, after, str(uuid.UUID(int=draw.getrandbits(128), version=4)))


def inbound_message(reply: Reply, *, sender: str, number: str, previous: str, account_id: str) -> str:
    """The JSON End User Messaging publishes for `reply`, texted from `sender` to the stack's
    `number` in answer to the SMS SNS accepted as `previous`."""
    keyword = reply.body.upper()
    return json.dumps(
        {
            "originationNumber": sender,
            "destinationNumber": number,
            "messageKeyword": keyword if keyword in _KEYWORDS else f"KEYWORD_{account_id}",
            "messageBody": reply.body,
            "inboundMessageId": reply.inbound_message_id,
            "previousPublishedMessageId": previous,
        },
        ensure_ascii=False,
    )


def stack_number(deployment: "Deployment") -> str | None:
    """The stack's two-way number (the emulator's stand-in for it); None: two-way SMS is off."""
    if not deployment.condition("HasTwoWaySmsNumber"):
        return None
    return deployment.get_att("TwoWaySmsNumber", "PhoneNumber")


@dataclass(frozen=True)
class Texted:
    """One customer's reply to one SMS, and what InboundSmsFunction made of it (`{"answered": 1}`)."""

    sms_message_id: str
    phone: str
    reply: Reply
    result: Any


@dataclass(frozen=True)
class _Waiting:
    due: datetime
    sms: "SentSms"
    reply: Reply


class Texters:
    """The customers, replying (or not) to each SMS with answers the stack sent from its number."""

    def __init__(self, pipeline: "LocalPipeline", *, seed: int, shares: ReplyShares = ReplyShares()) -> None:
        self._pipeline = pipeline
        self._seed = seed
        self._shares = shares
        self._number = stack_number(pipeline.deployment)
        self._seen = 0  # SMS SNS accepted that were looked at
        self._occurrences: Counter[tuple[str, str]] = Counter()
        self._waiting: list[_Waiting] = []
        self._dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
        self.texted: list[Texted] = []

    def reply(self) -> int:
        """Note the SMS sent since the last call, and send the replies whose time has come;
        returns how many were sent now."""
        if self._number is None:
            return 0  # no number: nothing a customer texts reaches the stack
        now = datetime.now(UTC)
        self._note_new_sms(now)
        due = [waiting for waiting in self._waiting if waiting.due <= now]
        self._waiting = [waiting for waiting in self._waiting if waiting.due > now]
        arrived = self._delivered_notices() if due else set()
        sent = [self._text(waiting, self._number) for waiting in due if waiting.sms.message_id in arrived]
        self.texted += sent
        return len(sent)

    def _note_new_sms(self, now: datetime) -> None:
        from emulator import sent_sms

        fresh = sent_sms(self._pipeline.deployment.region)[self._seen :]
        self._seen += len(fresh)
        for sms in fresh:
            key = (sms.phone_number, sms.message)
            chosen = reply_to(self._seed, *key, occurrence=self._occurrences[key], shares=self._shares)
            self._occurrences[key] += 1
            if chosen is not None:
                self._waiting.append(_Waiting(now + chosen.after, sms, chosen))

    def _delivered_notices(self) -> set[str]:
        """The provider message ids of the notices sent by SMS that the ledger shows delivered."""
        paginator = self._dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._pipeline.deployment.ref("NoticeLedgerTable"),
            FilterExpression="#channel = :sms AND attribute_exists(provider_message_id)",
            ProjectionExpression="provider_message_id, delivery_state",
            ExpressionAttributeNames={"#channel": "channel"},
            ExpressionAttributeValues={":sms": {"S": "sms"}},
        )
        return {
            item["provider_message_id"]["S"]
            for page in pages
            for item in page["Items"]
            if item.get("delivery_state", {}).get("S") in DELIVERED
        }

    def _text(self, waiting: _Waiting, number: str) -> Texted:
        message = inbound_message(
            waiting.reply,
            sender=waiting.sms.phone_number,
            number=number,
            previous=waiting.sms.message_id,
            account_id=self._pipeline.deployment.account_id,
        )
        result = self._pipeline.inbound_sms.deliver(message)
        return Texted(waiting.sms.message_id, waiting.sms.phone_number, waiting.reply, result)
