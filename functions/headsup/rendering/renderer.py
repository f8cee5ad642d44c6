"""Render a notice from templates/ with Jinja2: email (subject, HTML, text) and SMS.

StrictUndefined makes a missing value an error instead of a blank ("Hi ,"); HTML is
autoescaped, and customer data is only ever passed as values, never compiled as template
source, so a name like "{{7*7}}" or "<script>" is shown literally.

Customer notices speak the customer's language: for a locale whose language is `xx`
("es-MX" -> "es"), each file is looked up as `xx/<kind>/<file>` first and `<kind>/<file>` (English,
at the root) after, one file at a time, so a kind translated in part falls back for the rest
only. Numbers and dates follow the full locale either way. Team notices stay in English: they are
read by the team, not by the customer.
"""

import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
)
from pydantic import BaseModel, ValidationError

from headsup.domain.answers import ANSWERS, Answer
from headsup.domain.customer import Customer
from headsup.domain.kinds import KINDS
from headsup.domain.messages import RenderedEmail, RenderedEscalation, RenderedSms
from headsup.domain.notices import NoticeRequest
from headsup.rendering.answer_words import page_text
from headsup.rendering.formatting import LocaleFormatter, formatter_for


class RenderError(RuntimeError):
    """A template could not be rendered for this notice (a template or data bug)."""


class InvalidPayload(ValueError):
    """The notice request's payload does not match its kind's model."""


_SNS_SUBJECT_LIMIT = 99  # SNS: "less than 100 characters"


# Folds template line breaks, and also the no-break spaces Babel puts in "52,00 €", which are
# not in the GSM-7 alphabet and would turn a 1-segment SMS into a UCS-2 one.
_WHITESPACE = re.compile(r"\s+")
SMS_NAME_LIMIT = 30  # characters of a first name an SMS greets with


class NoticeRenderer:
    def __init__(  # noqa: PLR0913 - the templates, and who and how the notices speak for
        self,
        templates_dir: Path,
        business_name: str,
        *,
        support_reply_to: str = "",
        team_locale: Locale | None = None,
        team_zone: ZoneInfo | None = None,
        two_way_sms_kinds: frozenset[str] = frozenset(),
    ) -> None:
        """`two_way_sms_kinds`: the kinds whose SMS offer answers ("Reply 1 if fixed, 2 if not"),
        when the business has a two-way number; none by default."""
        if not templates_dir.is_dir():
            raise FileNotFoundError(f"templates directory {templates_dir} does not exist")
        loader = FileSystemLoader(templates_dir)
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            # The templates ship with the function and never change under it: no stat() per render,
            # and every compiled template is kept (a few hundred files at most).
            "auto_reload": False,
            "cache_size": -1,
        }
        # Which translations exist, read once: a notice's figures follow the language it is written in.
        self._templates = frozenset(loader.list_templates())
        self._html = Environment(autoescape=True, **options)
        self._text = Environment(autoescape=False, **options)  # noqa: S701 - plain text, never HTML
        # The template each (environment, lookup order) resolved to, with its globals: one entry
        # per file name.
        self._chosen: dict[tuple[bool, tuple[str, ...]], tuple[Template, dict[str, Any]]] = {}
        self._business_name = business_name
        self._support_reply_to = support_reply_to
        self._two_way_sms_kinds = two_way_sms_kinds
        # The team reads times on the business's own clock (DefaultLocale / DefaultTimezone).
        self._team_formatter = LocaleFormatter(
            team_locale or Locale.parse("en_US"), team_zone or ZoneInfo("UTC")
        )

    def render_email(
        self,
        request: NoticeRequest,
        customer: Customer,
        *,
        unsubscribe_url: str | None = None,
        answer_url: str | None = None,
    ) -> RenderedEmail:
        """`unsubscribe_url`: the signed one-click link for this customer and topic, shown in the
        footer (and sent as List-Unsubscribe by the sender). `answer_url`: the notice's signed
        answer link; its answers are shown as buttons under the notice's own words."""
        context = {
            **self._context(request, customer),
            "unsubscribe_url": unsubscribe_url,
            "answers": answer_buttons(request, customer, answer_url, business=self._business_name),
        }

        def part(env: Environment, file: str) -> str:
            formatted = {**context, "fmt": self._formatter(customer, request, file)}
            return self._render(env, _in_language(customer, request, file), formatted, request)

        subject = part(self._text, "email_subject.txt.j2")
        html = part(self._html, "email.html.j2")
        text = part(self._text, "email.txt.j2")
        return RenderedEmail(
            subject=_WHITESPACE.sub(" ", subject).strip(), html=html, text=text.strip() + "\n"
        )

    def render_sms(self, request: NoticeRequest, customer: Customer) -> RenderedSms:
        # SNS refuses an SMS over 1,600 bytes; a name as long as a paragraph must not cost the notice.
        if len(customer.first_name) > SMS_NAME_LIMIT:
            customer = customer.model_copy(
                update={"first_name": customer.first_name[:SMS_NAME_LIMIT].rstrip()}
            )
        context = {
            **self._context(request, customer),
            "fmt": self._formatter(customer, request, "sms.txt.j2"),
        }
        text = self._render(self._text, _in_language(customer, request, "sms.txt.j2"), context, request)
        return RenderedSms(text=_WHITESPACE.sub(" ", gsm_friendly(text)).strip())

    def render_escalation(self, request: NoticeRequest) -> RenderedEscalation:
        notice = self._payload(request)
        context = {"notice": notice, "fmt": self._team_formatter, "business_name": self._business_name}
        folder = request.kind.value
        subject = _WHITESPACE.sub(
            " ", self._render(self._text, [f"{folder}/subject.txt.j2"], context, request)
        ).strip()
        summary = _WHITESPACE.sub(
            " ", self._render(self._text, [f"{folder}/summary.txt.j2"], context, request)
        ).strip()
        body = {
            "kind": request.kind.value,
            "notice_id": request.notice_id,
            "customer_id": request.customer_id,
            "detected_at": request.detected_at.isoformat(),
            "summary": summary,
            **notice.model_dump(mode="json"),
        }
        return RenderedEscalation(
            subject=_sns_subject(subject), body=json.dumps(body, indent=2, ensure_ascii=False)
        )

    def _payload(self, request: NoticeRequest) -> BaseModel:
        try:
            return KINDS[request.kind].payload.model_validate(request.payload)
        except ValidationError as exc:
            fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
            raise InvalidPayload(f"{request.kind} payload invalid at {', '.join(fields)}") from exc

    def _context(self, request: NoticeRequest, customer: Customer) -> dict[str, Any]:
        """What every template of a notice sees but `fmt`, which depends on the file's language."""
        return {
            "customer": customer,
            "notice": self._payload(request),
            "business_name": self._business_name,
            "support_reply_to": self._support_reply_to,
            "topic": request.topic.value,
            "unsubscribe_url": None,
            "answers": None,
            # The SMS asks for an answer by reply (two-way SMS on, the kind's answers on).
            "two_way_sms": request.kind.value in self._two_way_sms_kinds,
        }

    def _formatter(self, customer: Customer, request: NoticeRequest, file: str) -> LocaleFormatter:
        return formatter_for(self._writing_locale(customer, request, file), customer.zone)

    def _writing_locale(self, customer: Customer, request: NoticeRequest, file: str) -> Locale:
        """The locale figures are written in: the customer's own when the words are in their
        language; when they fall back to English, English with the customer's regional number
        conventions ("22,40 US$" for en_DE), never "Your novembre bill" or a date in Japanese
        script inside an English sentence (which would also make the SMS UCS-2)."""
        locale = customer.babel_locale
        if locale.language == "en" or f"{locale.language}/{request.kind.value}/{file}" in self._templates:
            return locale
        return english_for(locale.territory)

    def _render(
        self, env: Environment, names: Sequence[str], context: dict[str, Any], request: NoticeRequest
    ) -> str:
        """Render the first of `names` that exists; an error names the file that failed (or, when
        none exists, the last: the English one every kind must have)."""
        name = names[-1]
        template = None
        try:
            template, template_globals = self._template(env, names)
            name = template.name or name
            return _fill(template, template_globals, context)
        except TemplateError as exc:
            line = _template_line(exc, template.filename if template else None)
            where = f"{name}, line {line}" if line else name
            raise RenderError(f"{where} failed for notice {request.notice_id}: {exc}") from exc

    def _template(self, env: Environment, names: Sequence[str]) -> tuple[Template, dict[str, Any]]:
        """The first of `names` that exists, as `env.select_template` finds it, looked up once (the
        files were listed at start, so a translation that does not exist is not searched for
        again), and its globals."""
        key = (env is self._html, tuple(names))
        chosen = self._chosen.get(key)
        if chosen is None:
            existing = [name for name in names if name in self._templates]
            template = env.get_template(existing[0]) if existing else env.select_template(names)
            chosen = self._chosen[key] = (template, dict(template.globals))
        return chosen


def _fill(template: Template, template_globals: dict[str, Any], context: dict[str, Any]) -> str:
    """`template.render(context)`, given the template's globals as a plain dict: `render` copies
    them out of their ChainMap at every call, half the cost of a short template. The context the
    template sees is the same (its globals, then `context` over them)."""
    ctx = template.new_context({**template_globals, **context}, shared=True)
    try:
        return template.environment.concat(template.root_render_func(ctx))
    except Exception:  # noqa: BLE001 - as Template.render: Jinja rewrites the traceback to the template's lines
        template.environment.handle_exception()


def _template_line(exc: TemplateError, filename: str | None) -> int | None:
    """The template line at fault: given for a syntax error, else found in the traceback (Jinja
    maps rendering frames back to the template's own file and line)."""
    if isinstance(exc, TemplateSyntaxError):
        return int(exc.lineno)
    line = None
    frame = exc.__traceback__
    while frame is not None:
        if filename and frame.tb_frame.f_code.co_filename == filename:
            line = frame.tb_lineno
        frame = frame.tb_next
    return line


@lru_cache(maxsize=64)
def english_for(territory: str | None) -> Locale:
    """English as written in `territory` where CLDR has it (en_DE, en_FR, en_GB...), else
    international English (en_001: "15 December 2026", "€22.40")."""
    if territory:
        try:
            return Locale.parse(f"en_{territory}")
        except UnknownLocaleError:
            pass
    return Locale.parse("en_001")


def answer_buttons(
    request: NoticeRequest, customer: Customer, answer_url: str | None, *, business: str
) -> dict[str, Any] | None:
    """The question and one (label, URL) per answer, in the customer's language. Each URL names its
    answer only as a hint for the page, which asks again before anything changes."""
    if answer_url is None or request.kind not in ANSWERS:
        return None
    words = page_text(customer.locale)
    choices = [
        (
            words.later_label if answer is Answer.CALL_LATER else words.labels[answer],
            f"{answer_url}?answer={answer}",
        )
        for answer in ANSWERS[request.kind]
    ]
    return {"question": words.questions[request.kind].format(business=business), "choices": choices}


def _in_language(customer: Customer, request: NoticeRequest, file: str) -> list[str]:
    """Where a customer template is looked for: in the customer's language, then in English."""
    name = f"{request.kind.value}/{file}"
    return [f"{customer.babel_locale.language}/{name}", name]


# Typographic punctuation that customers and agents paste in (curly quotes, dashes) and its
# GSM-7 stand-in: one such character would switch the whole SMS to UCS-2, 67 characters a
# segment instead of 160, and double or triple its cost. Letters (é, ë, ß) are left as written:
# a customer's name is not ours to change.
_GSM_STAND_INS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
    }
)  # fmt: skip


def gsm_friendly(text: str) -> str:
    """SMS text in the GSM-7 alphabet where a faithful stand-in exists.

    Punctuation gets its plain form; a letter outside GSM-7 whose base letter is in it loses its
    accent (a with acute -> a, as carriers' "smart encoding" does), while letters GSM-7 has (e with
    acute, n with tilde, u with umlaut) stay as written. Anything else (other scripts, emoji)
    stays too, and the message goes as UCS-2. Email is never changed this way.
    """
    if not text.isascii():  # every stand-in replaces a non-ASCII character
        text = text.translate(_GSM_STAND_INS)
    if GSM7.issuperset(text):  # the usual case: nothing to look at letter by letter
        return text
    return "".join(_gsm_letter(ch) for ch in text)


def _gsm_letter(ch: str) -> str:
    if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
        return ch
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and all(c in GSM7_BASIC for c in base) else ch


def _sns_subject(text: str) -> str:
    """SNS rejects a subject that is not ASCII, has control characters or is 100 characters or
    more; never lose the notice over it."""
    text = gsm_friendly(text)
    printable = text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)
    ascii_only = printable.encode("ascii", "replace").decode("ascii")
    if len(ascii_only) <= _SNS_SUBJECT_LIMIT:
        return ascii_only
    return ascii_only[: _SNS_SUBJECT_LIMIT - 3] + "..."


GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")
GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENDED)


def sms_encoding(text: str) -> str:
    """`GSM-7` if every character is in the GSM 03.38 alphabet (basic or extended), else `UCS-2`."""
    return "GSM-7" if GSM7.issuperset(text) else "UCS-2"


def sms_segments(text: str) -> int:
    """How many SMS segments a carrier bills for `text` (GSM-7 or, failing that, UCS-2)."""
    if sms_encoding(text) == "GSM-7":
        units = len(text) + sum(map(text.count, GSM7_EXTENDED))  # an extended character takes two
        return 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else -(-units // 67)
