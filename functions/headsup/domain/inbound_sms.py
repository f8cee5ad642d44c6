"""Customers' SMS replies (two-way SMS), read: the message End User Messaging publishes, what its
words mean, and what of it may reach the team. Pure.

AWS End User Messaging SMS publishes each message a customer sends to the business's number to
InboundSmsTopic, as a JSON object (docs: "Example of a two-way SMS message payload for Amazon SNS
topics"): `originationNumber` (the customer), `destinationNumber` (the business's number),
`messageKeyword`, `messageBody`, `inboundMessageId`, `previousPublishedMessageId`.

Nothing in the message identifies a customer or a notice: the sender is matched by the phone on
file and the notice by what headsup last sent them (logic/inbound_sms.py). The number and the
text are personal data: a malformed message's problems name fields, never values.
"""

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from headsup.domain.answers import ANSWERS, Answer
from headsup.domain.kinds import NoticeKind
from headsup.platform.errors import contract_problems

# What the team gets of a message: an SMS is at most 1,600 characters (10 concatenated segments);
# anything longer did not come from a phone, and the rest is cut.
TEAM_TEXT_LIMIT: Final = 1600
# Keywords are one or two short words: a longer message is never one, and is not normalised.
_KEYWORD_LIMIT: Final = 40
# Bidirectional embedding, override and isolate controls: they can make a message display as
# something else than it says (a "Trojan Source" trick); right-to-left text itself is kept.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class MalformedInboundSms(ValueError):
    """An SNS record that is not a readable inbound SMS. `problems` name the fields at fault,
    never their values (a phone number, the customer's words)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class InboundSms(BaseModel):
    """One message a customer sent, as End User Messaging publishes it (fields it adds later are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    origination_number: Annotated[StrictStr, Field(alias="originationNumber", min_length=1, max_length=32)]
    destination_number: Annotated[StrictStr, Field(alias="destinationNumber", min_length=1, max_length=32)]
    message_body: Annotated[StrictStr, Field(alias="messageBody")]
    inbound_message_id: Annotated[
        StrictStr, Field(alias="inboundMessageId", pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$")
    ]
    # Not used to decide anything: the keyword AWS matched, and AWS's id of the last message it
    # sent the customer (our SMS go through SNS, whose ids it does not know).
    message_keyword: Annotated[StrictStr | None, Field(alias="messageKeyword")] = None
    previous_published_message_id: Annotated[StrictStr | None, Field(alias="previousPublishedMessageId")] = (
        None
    )


class _SnsEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    message_id: Annotated[StrictStr, Field(alias="MessageId", min_length=1)]
    message: Annotated[StrictStr, Field(alias="Message")]
    timestamp: Annotated[AwareDatetime, Field(alias="Timestamp")]


@dataclass(frozen=True)
class Received:
    """An inbound SMS and when SNS took it: the time answers are recorded at, the same on a retry."""

    message: InboundSms
    at: datetime
    sns_message_id: str


def read_record(record: Mapping[str, Any]) -> Received:
    """One Lambda SNS record; MalformedInboundSms names what is wrong with it."""
    if not isinstance(record, Mapping):
        raise MalformedInboundSms(["record: not an object"])
    try:
        envelope = _SnsEnvelope.model_validate(record.get("Sns"))
    except ValidationError as exc:
        raise MalformedInboundSms([f"Sns.{problem}" for problem in contract_problems(exc)]) from None
    try:
        data = json.loads(envelope.message)
    except ValueError:
        raise MalformedInboundSms(["Sns.Message: not JSON"]) from None
    if not isinstance(data, dict):
        raise MalformedInboundSms(["Sns.Message: not a JSON object"])
    try:
        message = InboundSms.model_validate(data)
    except ValidationError as exc:
        # `from None`: pydantic's own text quotes the values (the number, the words).
        raise MalformedInboundSms([f"Message.{problem}" for problem in contract_problems(exc)]) from None
    return Received(message=message, at=envelope.timestamp, sns_message_id=envelope.message_id)


# ------------------------------------------------------------------------------------------ keywords


class Intent(StrEnum):
    FIRST = "first"  # 1, yes, ok, fixed...: the first answer the notice offers
    SECOND = "second"  # 2, no, reschedule, later...: the second
    CALL = "call"  # "call me" to an overdue callback's apology
    HELP = "help"
    STOP = "stop"
    TEXT = "text"  # anything else: for a person to read


_WORDS: Final[dict[Intent, frozenset[str]]] = {
    Intent.FIRST: frozenset({"1", "yes", "y", "si", "ok", "okay", "fixed", "fine"}),
    Intent.SECOND: frozenset({"2", "no", "n", "reschedule", "cambiar", "later", "luego"}),
    Intent.CALL: frozenset({"call", "call me", "llamar", "llamame", "llameme"}),
    Intent.HELP: frozenset({"help", "ayuda", "info"}),
    # AWS's own opt-out words (STOP, UNSUBSCRIBE, CANCEL, END, QUIT, ARRET, OPTOUT, REMOVE, TD...)
    # and their Spanish equivalents: an opt-out is honoured whatever language it comes in.
    Intent.STOP: frozenset(
        {
            "stop",
            "stopall",
            "unsubscribe",
            "cancel",
            "end",
            "quit",
            "optout",
            "opt-out",
            "opt out",
            "remove",
            "arret",
            "td",
            "alto",
            "cancelar",
            "parar",
            "baja",
        }
    ),
}
_SPANISH: Final = frozenset(
    {"si", "cambiar", "luego", "llamar", "llamame", "llameme", "ayuda", "alto", "cancelar", "parar", "baja"}
)
# End User Messaging answers a message that *begins with* one of the number's mandatory keywords
# itself (with the number's HELP and STOP messages), and a STOP puts the number on its opt-out list.
_ANSWERED_BY_AWS: Final = frozenset({"help", "stop"})


@dataclass(frozen=True)
class Reading:
    intent: Intent
    language: str | None = None  # "es" when the word is Spanish only
    answered_by_aws: bool = False  # the message begins with HELP or STOP: the number has replied
    stops: bool = False  # an opt-out: the whole message is an opt-out word, or it begins with STOP


def normalise(text: str) -> str:
    """A short message as its words, for matching: compatibility forms (full-width digits), case,
    accents, invisible format characters, surrounding punctuation and repeated spaces dropped.
    "¡Sí!" -> "si", a full-width "1." -> "1", the keycap emoji 1 -> "1". A long message is
    returned empty, unread."""
    stripped = text.strip()
    if len(stripped) > _KEYWORD_LIMIT:
        return ""
    decomposed = unicodedata.normalize("NFKD", stripped)
    kept = "".join(
        ch for ch in decomposed if unicodedata.category(ch)[0] != "M" and unicodedata.category(ch) != "Cf"
    )
    words = kept.casefold().split()
    return " ".join(words).strip("".join(_punctuation_in(kept)) + " ")


def _punctuation_in(text: str) -> set[str]:
    return {ch for ch in text if unicodedata.category(ch).startswith("P")}


def read_keyword(body: str) -> Reading:
    """What a message means, if it is one of the words headsup answers to; TEXT otherwise."""
    words = normalise(body)
    first = normalise(body.strip().split(maxsplit=1)[0]) if body.strip() else ""
    answered_by_aws = first in _ANSWERED_BY_AWS
    intent = next((intent for intent, known in _WORDS.items() if words in known), Intent.TEXT)
    return Reading(
        intent=intent,
        language="es" if words in _SPANISH else None,
        answered_by_aws=answered_by_aws,
        stops=intent is Intent.STOP or first == "stop",
    )


def answer_for(kind: NoticeKind, intent: Intent) -> Answer | None:
    """The answer a word gives to a notice of `kind`: 1 / yes for its first answer, 2 / no / later
    for its second; "call" only to an overdue callback's apology (call me now)."""
    choices = ANSWERS.get(kind)
    if choices is None:
        return None
    if intent is Intent.FIRST:
        return choices[0]
    if intent is Intent.SECOND:
        return choices[1]
    if intent is Intent.CALL and kind is NoticeKind.CALLBACK_OVERDUE:
        return Answer.CALL_NOW
    return None


def team_text(body: str) -> tuple[str, bool]:
    """The message as the team may read it, and whether it was cut: control characters (but line
    breaks and tabs) and bidirectional overrides removed, at most TEAM_TEXT_LIMIT characters."""
    text = unicodedata.normalize("NFC", body)
    cleaned = "".join(
        ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    ).strip()
    if len(cleaned) <= TEAM_TEXT_LIMIT:
        return cleaned, False
    return cleaned[: TEAM_TEXT_LIMIT - 1] + "\u2026", True


# ------------------------------------------------------------------------------ who, and about what


@dataclass(frozen=True)
class Sender:
    """A customer whose phone on file is the number a message came from (as the business wrote
    it: unvalidated locale and timezone)."""

    customer_id: str
    locale: str | None
    timezone: str | None
    do_not_contact: bool = False


@dataclass(frozen=True)
class SentNotice:
    """A notice the customer was sent, as the ledger has it now."""

    notice_id: str
    kind: str
    status: str
    sent_at: str  # ISO 8601 UTC, as the ledger writes it
    subject: str | None = None  # `tickets/t-1`: the item it was about
    answer: str | None = None
    answer_reference: str | None = None  # the inbound SMS that answered it, if one did

    def answerable(self, enabled_kinds: frozenset[str]) -> bool:
        return self.status == "sent" and self.kind in enabled_kinds and self.kind in ANSWERS


def place_of(sender: Sender | None, *, default_locale: str, default_timezone: str) -> tuple[str, ZoneInfo]:
    """The locale and clock to answer a sender in: theirs where the business wrote a known one,
    else the business's defaults (as for notices)."""
    locale, timezone = default_locale, default_timezone
    if sender is not None and sender.locale:
        try:
            Locale.parse(sender.locale, sep="-")
            locale = sender.locale
        except (ValueError, TypeError, UnknownLocaleError):
            pass
    if sender is not None and sender.timezone:
        try:
            ZoneInfo(sender.timezone)
            timezone = sender.timezone
        except (ValueError, ZoneInfoNotFoundError):
            pass
    return locale, ZoneInfo(timezone)
