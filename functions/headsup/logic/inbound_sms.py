"""Customers' SMS replies, acted on exactly as the links in the emails are (NOTICE-LIFECYCLE:
"answered").

* The sender is the customer whose phone on file is the number the message came from; the notice
  it answers is the newest one sent to them within SmsAnswerWindowHours that takes answers and
  has none yet. Nothing in the message itself is trusted to name either.
* "1" / yes / ok and "2" / no / later answer that notice through AnswerService, the one path the
  links take: recorded once on the ledger item, written on the ticket, callback or visit, and
  escalated when someone must act. "call" asks an overdue callback for a call now.
* HELP (and AYUDA, INFO) gets how to answer and how to stop; STOP (and its synonyms, English and
  Spanish) opts the customer out of SMS for every topic. A message that begins with HELP or STOP
  was already answered by End User Messaging itself (the number's mandatory keywords): no second
  reply.
* Anything else, or an answer with nothing to answer, or a number no single customer has on
  file, goes to the team (a `customer_message` notice on EscalationTopic, with the text) and the
  sender is told a person will reply.

Each inbound message is acted on once: DueItemsTable keeps its id once handled, and a copy SNS
delivers twice changes nothing. The reply is sent last and at most once; when it cannot be sent
the record is undone and the invocation fails, so Lambda's retry handles the message again (the
answer finds its own record on the ledger and completes). The number and the words are never
logged: they go to the team's topic only.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from headsup.adapters.answers import Recorded, subject_reference
from headsup.adapters.notice_queue import NoticeQueue
from headsup.adapters.senders import PermanentSendError, UnconfirmedSend
from headsup.domain.answers import Answer, AnswerLink, callback_slots
from headsup.domain.channels import Channel, normalised_e164
from headsup.domain.inbound_sms import (
    Intent,
    Reading,
    Received,
    Sender,
    SentNotice,
    answer_for,
    place_of,
    read_keyword,
    team_text,
)
from headsup.domain.kinds import NoticeKind
from headsup.domain.messages import RenderedSms
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.payloads import CustomerMessagePayload
from headsup.domain.preferences import ChangeSource, Preferences, effective_locale
from headsup.logic.answers import AnswerService, GivenAnswer
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics
from headsup.rendering.sms_replies import SmsReplies

# The ledger's customer_id of a team notice about a number no single customer has on file (the
# payload's own customer_id is then empty): no business id looks like it.
NO_CUSTOMER = "(no customer)"
_ANSWER_INTENTS = frozenset({Intent.FIRST, Intent.SECOND, Intent.CALL})


class Senders(Protocol):
    def find(self, phone: str) -> list[Sender]: ...


class RecentNotices(Protocol):
    def sent_since(self, customer_id: str, since: datetime) -> list[SentNotice]: ...


class SmsPreferences(Protocol):
    def get(self, customer_id: str) -> Preferences: ...

    def opt_out_channel(self, customer_id: str, channel: str, *, source: str, now: datetime) -> None: ...


class InboundLog(Protocol):
    def seen(self, inbound_message_id: str) -> bool: ...

    def finish(
        self, inbound_message_id: str, result: str, *, customer_id: str | None, now: datetime
    ) -> bool: ...

    def forget(self, inbound_message_id: str) -> None: ...


class ReplySender(Protocol):
    def send_sms(
        self, to: str, sms: RenderedSms, *, notice_id: str, kind: str, origination: str | None = None
    ) -> str: ...


@dataclass(frozen=True)
class Conversation:
    """One inbound message, who sent it, and how we may answer them."""

    received: Received
    reading: Reading
    phone: str | None  # the sender's number in E.164 (personal data); None if it is not one
    senders: list[Sender]  # the customers with that number on file (usually one)
    locale: str
    zone: ZoneInfo
    may_reply: bool  # not do_not_contact, not opted out of SMS, not answered by AWS already
    may_confirm_stop: bool

    @property
    def sender(self) -> Sender | None:
        """The customer, when exactly one has the number on file."""
        return self.senders[0] if len(self.senders) == 1 else None

    @property
    def inbound_id(self) -> str:
        return self.received.message.inbound_message_id

    @property
    def at(self) -> datetime:
        return self.received.at


@dataclass(frozen=True)
class Handled:
    result: str  # `answered`, `already_answered`, `help`, `opted_out`, `to_team`
    reply: RenderedSms | None = None
    notice_id: str | None = None  # the notice answered, or the one a message to the team follows
    answer: Answer | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class InboundSmsService:
    senders: Senders
    notices: RecentNotices
    preferences: SmsPreferences
    log: InboundLog
    answers: AnswerService
    queue: NoticeQueue
    replies: ReplySender
    words: SmsReplies
    window: timedelta  # SmsAnswerWindowHours
    default_locale: str
    default_timezone: str

    def handle(self, received: Received) -> str:
        """Act on one inbound message; the result, for the invocation's counts."""
        ids = {
            "inbound_message_id": received.message.inbound_message_id,
            "sns_message_id": received.sns_message_id,
        }
        if self.log.seen(received.message.inbound_message_id):
            logger.info("Inbound SMS already handled; nothing changed", extra=ids)
            metrics.add_metric(name="InboundSmsRepeated", unit="Count", value=1)
            return "repeated"
        talk = self._conversation(received)
        handled = self._act(talk)
        replied = self._finish(talk, handled)
        logger.info(
            "Inbound SMS handled",
            extra={
                **ids,
                "customer_id": talk.sender.customer_id if talk.sender else None,
                "customers_matched": len(talk.senders),
                "result": handled.result,
                "notice_id": handled.notice_id,
                "answer": handled.answer,
                "replied": replied,
                **handled.extra,
            },
        )
        metrics.add_metric(
            name="InboundSms" + "".join(part.title() for part in handled.result.split("_")),
            unit="Count",
            value=1,
        )
        return handled.result

    def _conversation(self, received: Received) -> Conversation:
        message = received.message
        reading = read_keyword(message.message_body)
        phone = normalised_e164(message.origination_number)
        senders = self.senders.find(phone) if phone else []
        sender = senders[0] if len(senders) == 1 else None
        preferences = self.preferences.get(sender.customer_id) if sender else None
        locale, zone = place_of(
            sender, default_locale=self.default_locale, default_timezone=self.default_timezone
        )
        if preferences is not None:
            locale = effective_locale(locale, preferences)
        if reading.language:
            # They wrote in Spanish ("ayuda", "luego"): answered in Spanish, with their region's ways.
            locale = effective_locale(locale, Preferences(customer_id="", language=reading.language))
        barred = any(s.do_not_contact for s in senders)
        opted_out = preferences is not None and Channel.SMS in preferences.opted_out_channels
        reachable = phone is not None and not reading.answered_by_aws and not barred
        return Conversation(
            received=received,
            reading=reading,
            phone=phone,
            senders=senders,
            locale=locale,
            zone=zone,
            may_reply=reachable and not opted_out,
            # Confirming an opt-out is the one text a customer who opted out may still get.
            may_confirm_stop=reachable,
        )

    def _act(self, talk: Conversation) -> Handled:
        reading = talk.reading
        if reading.stops:
            # STOP is about the number: every customer who has it on file stops getting SMS.
            for each in talk.senders:
                self.preferences.opt_out_channel(
                    each.customer_id, Channel.SMS, source=ChangeSource.SMS_KEYWORD, now=talk.at
                )
        if reading.intent is Intent.STOP:
            return Handled("opted_out", self.words.stopped(talk.locale) if talk.may_confirm_stop else None)
        if reading.intent is Intent.HELP:
            return Handled("help", self.words.help(talk.locale) if talk.may_reply else None)
        sender = talk.sender
        recent = self.notices.sent_since(sender.customer_id, talk.at - self.window) if sender else []
        if reading.intent in _ANSWER_INTENTS and sender is not None:
            answered = self._answer(talk, sender, recent)
            if answered is not None:
                return answered
        return self._to_team(talk, recent)

    def _answer(self, talk: Conversation, sender: Sender, recent: list[SentNotice]) -> Handled | None:
        """Answer the newest notice that takes answers and has none yet (or the one this very
        message answered, when it is handled again); None when there is nothing to answer."""
        candidates = [notice for notice in recent if notice.answerable(self.answers.enabled_kinds)]
        notice = next((n for n in candidates if n.answer_reference == talk.inbound_id), None) or next(
            (n for n in candidates if n.answer is None), None
        )
        if notice is None:
            return None
        kind = NoticeKind(notice.kind)
        answer = answer_for(kind, talk.reading.intent)
        slot = self._first_slot(talk) if answer is Answer.CALL_LATER else None
        if answer is None or (answer is Answer.CALL_LATER and slot is None):
            return None
        link = AnswerLink(
            notice_id=notice.notice_id,
            customer_id=sender.customer_id,
            kind=kind,
            locale=talk.locale,
            zone=str(talk.zone),
            expires_at=talk.at,
        )
        recorded = self.answers.apply(
            GivenAnswer(link, answer, slot, source="sms", at=talk.at, reference=talk.inbound_id)
        )
        if recorded is Recorded.UNKNOWN:
            return None
        if recorded is Recorded.ALREADY:  # answered a moment ago, by a tap on the email's link
            return Handled("already_answered", notice_id=notice.notice_id)
        reply = (
            self.words.thanks(answer, locale=talk.locale, zone=talk.zone, slot=slot, at=talk.at)
            if talk.may_reply
            else None
        )
        return Handled("answered", reply, notice.notice_id, answer)

    def _first_slot(self, talk: Conversation) -> datetime | None:
        """ "Later": the first time the callback page would offer, on the customer's clock, inside
        the business's hours; the reply says when."""
        hours = self.answers.hours
        slots = callback_slots(talk.at, talk.zone, hours.opening, hours.closing, count=1)
        return slots[0] if slots else None

    def _to_team(self, talk: Conversation, recent: list[SentNotice]) -> Handled:
        sender = talk.sender
        about = next((notice for notice in recent if notice.status == "sent"), None)
        text, cut = team_text(talk.received.message.message_body)
        payload = CustomerMessagePayload(
            customer_id=sender.customer_id if sender else None,
            matched_customers=[s.customer_id for s in talk.senders] if len(talk.senders) > 1 else [],
            # The team can reach someone not (uniquely) on file only by the number they wrote from.
            sender=None if sender else (talk.phone or talk.received.message.origination_number),
            inbound_message_id=talk.inbound_id,
            received_at=talk.at,
            text=text,
            text_truncated=cut,
            why=_why(talk),
            replied_to_notice_id=about.notice_id if about else None,
            replied_to_kind=about.kind if about else None,
            reference=subject_reference(about.subject) if about and about.subject else None,
            acknowledged=talk.may_reply,
        )
        self.queue.put(
            NoticeRequest(
                # One team notice per inbound message, however often it is handled.
                notice_id=make_notice_id(NoticeKind.CUSTOMER_MESSAGE, talk.inbound_id),
                kind=NoticeKind.CUSTOMER_MESSAGE,
                customer_id=sender.customer_id if sender else NO_CUSTOMER,
                detected_at=talk.at,
                payload=payload.model_dump(mode="json"),
            )
        )
        reply = self.words.to_team(talk.locale) if talk.may_reply else None
        return Handled("to_team", reply, about.notice_id if about else None, extra={"why": payload.why})

    def _finish(self, talk: Conversation, handled: Handled) -> bool:
        """Record the message handled, then reply (at most once); whether a reply went."""
        ids = {"inbound_message_id": talk.inbound_id, "sns_message_id": talk.received.sns_message_id}
        customer_id = talk.sender.customer_id if talk.sender else None
        if not self.log.finish(talk.inbound_id, handled.result, customer_id=customer_id, now=talk.at):
            logger.info("Inbound SMS handled meanwhile by another copy of it; no reply", extra=ids)
            return False
        if handled.reply is None or talk.phone is None:
            return False
        try:
            self.replies.send_sms(
                talk.phone,
                handled.reply,
                notice_id=make_notice_id(NoticeKind.CUSTOMER_MESSAGE, "reply", talk.inbound_id),
                kind="sms_reply",
                # From the number they texted, so that their next answer reaches it too.
                origination=normalised_e164(talk.received.message.destination_number),
            )
        except (PermanentSendError, UnconfirmedSend) as exc:
            # Refused for good (an opted-out number), or maybe sent: never sent again.
            logger.warning(
                "SMS reply not sent, or not confirmed", extra={**ids, "error": describe_error(exc)}
            )
            metrics.add_metric(name="InboundSmsRepliesFailed", unit="Count", value=1)
            return False
        except Exception:
            # Not sent (throttled, an outage): handle the message again on Lambda's retry.
            self.log.forget(talk.inbound_id)
            raise
        return True


def _why(talk: Conversation) -> str:
    if not talk.senders:
        return "not_on_file"
    if len(talk.senders) > 1:
        return "shared_number"
    if talk.reading.intent in _ANSWER_INTENTS:
        return "nothing_to_answer"
    return "free_text"
