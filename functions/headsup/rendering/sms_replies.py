"""What headsup texts back to a customer's SMS, in English or Spanish: one GSM-7 segment each
for a business name of ordinary length (the words avoid the accents GSM-7 lacks, which would
turn the reply into UCS-2 at 70 characters a segment)."""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from headsup.domain.answers import CALL_NOW_WITHIN, Answer
from headsup.domain.messages import RenderedSms
from headsup.rendering.formatting import LocaleFormatter
from headsup.rendering.renderer import english_for, gsm_friendly

_WHITESPACE = re.compile(r"\s+")
_CALL_NOW_MINUTES = int(CALL_NOW_WITHIN.total_seconds() // 60)


@dataclass(frozen=True)
class ReplyWords:
    thanks: dict[Answer, str]  # CALL_LATER's has `{time}`: "at 3:00 PM" / "a las 15:00"
    help: str
    to_team: str
    stopped: str


ENGLISH = ReplyWords(
    thanks={
        Answer.FIXED: "Thanks for letting us know. Glad it's fixed!",
        Answer.NOT_FIXED: "Sorry it's still not right. We've reopened your request and will be in touch.",
        Answer.CALL_NOW: f"We'll call you within {_CALL_NOW_MINUTES} minutes.",
        Answer.CALL_LATER: "We'll call you {time}.",
        Answer.FINE: "Thanks, see you soon.",
        Answer.RESCHEDULE: "We'll contact you to find a better time.",
        Answer.ALL_GOOD: "Thanks for letting us know.",
        Answer.NOT_RIGHT: "Sorry about that. We'll contact you to put it right.",
    },
    help="Reply 1 or 2 to answer our last text; anything else goes to a person. Reply STOP to opt out.",
    to_team="Thanks, a person will reply soon.",
    stopped="You will get no more texts from us.",
)

SPANISH = ReplyWords(
    thanks={
        Answer.FIXED: "Gracias por avisarnos. Nos alegra que ya funcione.",
        Answer.NOT_FIXED: "Sentimos que siga sin funcionar. Hemos reabierto su solicitud y le contactaremos.",
        Answer.CALL_NOW: f"Le llamaremos en {_CALL_NOW_MINUTES} minutos como mucho.",
        Answer.CALL_LATER: "Le llamaremos {time}.",
        Answer.FINE: "Gracias, hasta pronto.",
        Answer.RESCHEDULE: "Le contactaremos para buscar otra hora.",
        Answer.ALL_GOOD: "Gracias por avisarnos.",
        Answer.NOT_RIGHT: "Lo sentimos. Le contactaremos para solucionarlo.",
    },
    help="Responda 1 o 2 a nuestro mensaje; cualquier otro texto lo lee una persona. Baja: responda STOP.",
    to_team="Gracias, le responde una persona en breve.",
    stopped="Ya no le enviaremos SMS.",
)


@dataclass(frozen=True)
class SmsReplies:
    """The replies, signed with the business's name as every SMS is."""

    business_name: str

    def thanks(
        self, answer: Answer, *, locale: str, zone: ZoneInfo, slot: datetime | None, at: datetime
    ) -> RenderedSms:
        words = _words(locale)
        text = words.thanks[answer]
        if slot is not None:
            text = text.format(time=_when(slot, at, _formatter(locale, zone), spanish=words is SPANISH))
            text = text.replace("..", ".")  # es-MX times end in "p.m."
        return self._sms(text)

    def help(self, locale: str) -> RenderedSms:
        return self._sms(_words(locale).help)

    def to_team(self, locale: str) -> RenderedSms:
        return self._sms(_words(locale).to_team)

    def stopped(self, locale: str) -> RenderedSms:
        return self._sms(_words(locale).stopped)

    def _sms(self, text: str) -> RenderedSms:
        return RenderedSms(text=_WHITESPACE.sub(" ", gsm_friendly(f"{self.business_name}: {text}")).strip())


def _words(locale: str) -> ReplyWords:
    return SPANISH if _language(locale) == "es" else ENGLISH


def _language(locale: str) -> str:
    return locale.replace("_", "-").split("-")[0].lower()


def _formatter(locale: str, zone: ZoneInfo) -> LocaleFormatter:
    """The customer's own conventions when the words are in their language, else English with their
    region's (as notices do)."""
    try:
        parsed = Locale.parse(locale, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        parsed = Locale.parse("en_US")
    if parsed.language not in ("en", "es"):
        parsed = english_for(parsed.territory)
    return LocaleFormatter(parsed, zone)


def _when(slot: datetime, at: datetime, fmt: LocaleFormatter, *, spanish: bool) -> str:
    """ "at 3:00 PM" / "a las 15:00"; with the day when it is not today on their clock."""
    time, date = fmt.time(slot), slot.astimezone(fmt.zone).date()
    other_day = date != at.astimezone(fmt.zone).date()
    if not spanish:
        return f"on {fmt.short_date(date)} at {time}" if other_day else f"at {time}"
    # Spanish puts an article before the hour that agrees with it: "a la 1:00", "a las 15:00".
    article = "la" if time.split(":")[0].lstrip("0") == "1" else "las"
    day = f"el {fmt.short_date(date).rstrip('.')} " if other_day else ""
    return f"{day}a {article} {time}"
