"""One-tap answers to a notice, through the signed link in it: `/answer/{token}`.

* GET shows the question with one button per answer (each a form that POSTs back here); it
  changes nothing, because mail scanners and link previewers fetch every URL in a message.
* POST `answer=<answer>` (and `slot=<ISO time>` for "call me later") records the answer on the
  notice's ledger item, once, and writes it on the business's item the notice was about (the
  ticket reopened, the callback re-promised, the visit marked), then queues a team notice when
  someone must act. A second POST changes nothing and says what was recorded.
* Every link that does not verify (tampered, expired, another key, a notice of another customer)
  gets the same 404, so the endpoint tells a prober nothing.

No AWS here: the handler passes the adapters in. The token is never logged.
"""

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol

from babel import Locale

from headsup.adapters.answers import AnswerOutcome, Recorded, subject_reference
from headsup.adapters.notice_queue import NoticeQueue
from headsup.domain import answers as answer_links
from headsup.domain.answers import NEEDS_THE_TEAM, Answer, AnswerLink, InvalidAnswerLink
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.payloads import CustomerAnswerPayload
from headsup.logic.unsubscribe import MAX_TOKEN_LENGTH, Response
from headsup.platform.observability import logger, metrics
from headsup.rendering.answer_words import PageText, page_text
from headsup.rendering.formatting import LocaleFormatter

_TEAM_KIND = {"tickets": NoticeKind.TICKET_ANSWER, "callbacks": NoticeKind.CALLBACK_ANSWER}


class AnswerLedger(Protocol):
    def record(  # noqa: PLR0913 - the answer, and where, when and by what message it came
        self,
        link: AnswerLink,
        answer: Answer,
        *,
        slot: datetime | None,
        source: str,
        now: datetime,
        reference: str | None = None,
    ) -> AnswerOutcome: ...


class AnswerEffects(Protocol):
    def apply(
        self, subject: str, customer_id: str, answer: Answer, *, slot: datetime | None, now: datetime
    ) -> bool: ...


@dataclass(frozen=True)
class GivenAnswer:
    link: AnswerLink
    answer: Answer
    slot: datetime | None
    source: str  # `link` or `sms`
    at: datetime
    # The inbound SMS that carried the answer: the same message handled again (a retry after a
    # failure part-way) finishes what it started instead of finding the notice answered.
    reference: str | None = None


@dataclass(frozen=True)
class BusinessHours:
    opening: time
    closing: time


@dataclass(frozen=True, kw_only=True)
class AnswerService:
    ledger: AnswerLedger
    effects: AnswerEffects
    queue: NoticeQueue
    hours: BusinessHours
    enabled_kinds: frozenset[str]
    business_name: str
    # The links' signing key. None for a service that only records answers (SMS replies carry no
    # link): every link is then invalid.
    key: bytes | None = None

    def page(self, token: str, *, now: datetime, hint: str | None = None) -> Response:
        """GET: ask; change nothing. `hint`: the answer whose button in the email was tapped,
        offered first."""
        link = self._verify(token, now)
        if link is None:
            return self.invalid_link()
        metrics.add_metric(name="AnswerPagesShown", unit="Count", value=1)
        return Response(200, self._question_html(link, now, retry=False, hint=hint))

    def answer(self, token: str, form: Mapping[str, str], *, now: datetime, source: str = "link") -> Response:
        """POST: record the answer once and act on it."""
        link = self._verify(token, now)
        if link is None:
            return self.invalid_link()
        chosen = self._read_choice(link, form, now)
        if chosen is None:
            logger.warning("Answer POST without a valid answer; nothing changed", extra=_ids(link))
            return Response(400, self._question_html(link, now, retry=True))
        answer, slot = chosen
        recorded = self.apply(GivenAnswer(link, answer, slot, source, now))
        if recorded is Recorded.UNKNOWN:
            return self.invalid_link()
        text = page_text(link.locale)
        if recorded is Recorded.ALREADY:
            return Response(200, _page(text, text.already_title, _p(text.already_body)))
        return Response(200, _page(text, text.thanks_title, _p(text.thanks[answer])))

    def apply(self, given: GivenAnswer) -> Recorded:
        """Record an answer once and act on it, however it came (a link's POST, an SMS reply):
        the one path, so an SMS "2" does exactly what the "No, still a problem" button does."""
        outcome = self.ledger.record(
            given.link,
            given.answer,
            slot=given.slot,
            source=given.source,
            now=given.at,
            reference=given.reference,
        )
        if outcome.recorded is Recorded.UNKNOWN:
            logger.warning("Answer for no notice of this customer; nothing changed", extra=_ids(given.link))
        elif outcome.recorded is Recorded.ALREADY:
            logger.info(
                "Notice already answered; nothing changed", extra={**_ids(given.link), "answer": given.answer}
            )
            metrics.add_metric(name="AnswersRepeated", unit="Count", value=1)
        else:
            self._act(given, outcome.subject)
        return outcome.recorded

    def invalid_link(self) -> Response:
        text = page_text("en")
        return Response(404, _page(text, text.invalid_title, _p(text.invalid_body)))

    def _act(self, given: GivenAnswer, subject: str | None) -> None:
        link, answer = given.link, given.answer
        applied = subject is not None and self.effects.apply(
            subject, link.customer_id, answer, slot=given.slot, now=given.at
        )
        logger.info(
            "Customer answered a notice",
            extra={**_ids(link), "answer": answer, "source": given.source, "written_on_item": applied},
        )
        metrics.add_metric(
            name="Answers" + "".join(p.title() for p in answer.split("_")), unit="Count", value=1
        )
        if answer in NEEDS_THE_TEAM and subject is not None:
            self.queue.put(_team_notice(given, subject))

    def _read_choice(
        self, link: AnswerLink, form: Mapping[str, str], now: datetime
    ) -> tuple[Answer, datetime | None] | None:
        try:
            answer = Answer(form.get("answer", ""))
        except ValueError:
            return None
        if answer not in link.choices:
            return None
        if answer is not Answer.CALL_LATER:
            return answer, None
        try:
            slot = datetime.fromisoformat(form.get("slot", ""))
        except ValueError:
            return None
        if slot.tzinfo is None or not answer_links.slot_is_acceptable(
            slot, now, link.clock, self.hours.opening, self.hours.closing
        ):
            return None
        return answer, slot

    def _verify(self, token: str, now: datetime) -> AnswerLink | None:
        try:
            if self.key is None:
                raise InvalidAnswerLink("no signing key")
            if not token or len(token) > MAX_TOKEN_LENGTH:
                raise InvalidAnswerLink("malformed")
            link = answer_links.verify(self.key, token, now=now)
            if link.kind not in self.enabled_kinds:
                raise InvalidAnswerLink("answers to this kind are turned off")
        except InvalidAnswerLink as exc:
            # One of a few fixed phrases; the token itself is never logged.
            logger.warning("Invalid answer link", extra={"reason": str(exc)})
            metrics.add_metric(name="InvalidAnswerLinks", unit="Count", value=1)
            return None
        return link

    def _question_html(self, link: AnswerLink, now: datetime, *, retry: bool, hint: str | None = None) -> str:
        text = page_text(link.locale)
        formatter = LocaleFormatter(_locale(link.locale), link.clock)
        buttons = []
        for answer in sorted(link.choices, key=lambda choice: choice.value != hint):
            if answer is Answer.CALL_LATER:
                slots = answer_links.callback_slots(now, link.clock, self.hours.opening, self.hours.closing)
                buttons += [
                    _button(text.labels[answer].format(time=formatter.datetime(s)), answer, s) for s in slots
                ]
            else:
                buttons.append(_button(text.labels[answer], answer))
        intro = _p(text.retry) if retry else ""
        question = text.questions[link.kind].format(business=self.business_name)
        return _page(text, text.question_title, intro + _p(question) + "".join(buttons))


def _team_notice(given: GivenAnswer, subject: str) -> NoticeRequest:
    kind = _TEAM_KIND.get(subject.partition("/")[0], NoticeKind.VISIT_ANSWER)
    payload = CustomerAnswerPayload(
        customer_id=given.link.customer_id,
        reference=subject_reference(subject),
        answered_kind=given.link.kind.value,
        answer=given.answer.value,
        answered_at=given.at,
        source=given.source,
        slot=given.slot,
    )
    return NoticeRequest(
        # One team notice per answered notice: a retried POST or a replayed SMS makes the same one.
        notice_id=make_notice_id(kind, given.link.notice_id),
        kind=kind,
        customer_id=given.link.customer_id,
        detected_at=given.at,
        payload=payload.model_dump(mode="json"),
    )


def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, TypeError):
        return Locale.parse("en")


def _ids(link: AnswerLink) -> dict[str, str]:
    return {"notice_id": link.notice_id, "customer_id": link.customer_id, "kind": link.kind}


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _button(label: str, answer: Answer, slot: datetime | None = None) -> str:
    # No action attribute: the form posts back to this very URL, token included.
    slot_field = f'<input type="hidden" name="slot" value="{slot.isoformat()}">' if slot else ""
    return (
        f'<form method="post"><input type="hidden" name="answer" value="{answer.value}">{slot_field}'
        f'<button type="submit">{html.escape(label)}</button></form>'
    )


def _page(text: PageText, title: str, body_html: str) -> str:
    """A whole page around `body_html`, which callers build from escaped text only."""
    return (
        f'<!doctype html><html lang="{text.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body_html}</main></body></html>"
    )
