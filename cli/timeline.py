"""A notice's story in plain words: detected, held, sent, what the provider reported, the fallback,
and what the customer answered (and the team's notice the answer made).

`headsup notices` (a table for the support desk) and the outbox page (a list per notice) tell
it the same way, from the same ledger fields, so an agent reading one and an operator reading
the other never see two versions. The words are for a person ("bounced (address does not
exist)", "no receipt yet"), never the ledger's codes; the codes stay in `--json`.

Nothing here imports the run record (cli.outbox imports this module): a notice is anything with
the ledger's fields (`NoticeFacts`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol
from zoneinfo import ZoneInfo

from headsup.domain.answers import CALL_NOW_WITHIN, NEEDS_THE_TEAM, Answer
from headsup.rendering.answer_words import ENGLISH

Tone = Literal["ok", "wait", "bad", "plain"]

# The delivery function's reasons (headsup.domain.policy, headsup.domain.recheck), as a support
# agent would say them; a reason not listed reads as its words (`no_channel` -> `no channel`).
REASONS: Final = {
    "quiet_hours": "quiet hours",
    "frequency_cap": "daily limit reached",
    "do_not_contact": "the customer asked not to be contacted",
    "expired": "no longer useful",
    "opted_out_topic": "the customer opted out of this topic",
    "paused": "the customer paused their notices",
    "no_channel": "no way to reach the customer",
    "no_longer_true": "no longer true",
    "superseded": "replaced by a newer notice",
    "already_told": "the customer was told already",
    "nothing_to_correct": "nothing to correct",
}
# The provider's reason (`delivery_detail`): SES bounce subtypes in snake case, and the SMS
# carriers' answers as headsup.domain.sms_receipts names them.
DETAILS: Final = {
    "no_email": "address does not exist",
    "no_such_address": "address does not exist",
    "general": "refused by the recipient's mail server",
    "suppressed": "address on the suppression list",
    "on_account_suppression_list": "address on our suppression list",
    "mailbox_full": "mailbox full",
    "message_too_large": "message too large",
    "content_rejected": "content refused",
    "attachment_rejected": "attachment refused",
    "undetermined": "no reason given",
    "unreachable": "phone unreachable",
    "carrier_unreachable": "carrier unreachable",
    "unknown_error": "the carrier gave no reason",
    "blocked": "blocked by the carrier or the phone",
    "opted_out": "the number opted out of texts",
    "invalid_number": "not a valid mobile number",
    "over_max_price": "over the SMS price limit",
    "too_long": "message too long",
}
# Each delivery state (headsup.domain.receipts.DeliveryState) as words, its tone, and the
# provider's reason to give when the receipt carried none.
STATES: Final[dict[str, tuple[str, Tone, str | None]]] = {
    "delivered": ("delivered", "ok", None),
    "opened": ("delivered and opened", "ok", None),
    "clicked": ("delivered, link clicked", "ok", None),
    "complained": ("delivered, marked as spam", "bad", None),
    "delayed": ("delayed", "wait", "the provider is still trying"),
    "bounced:transient": ("bounced", "bad", "the provider gave up after temporary failures"),
    "bounced:permanent": ("bounced", "bad", "permanent"),
    "failed:transient": ("not delivered", "bad", "the carrier gave up"),
    "failed:permanent": ("failed", "bad", "permanent"),
    "rejected": ("refused by the email service", "bad", None),
    "rendering_failed": ("failed", "bad", "the email could not be built"),
}
# Where each state puts a sent notice in the `simulate` summary: every state in exactly one.
RECEIPT_OUTCOMES: Final = ("delivered", "bounced", "failed", "delayed", "no receipt yet")
_OUTCOME_OF_STATE: Final = {
    "delivered": "delivered",
    "opened": "delivered",
    "clicked": "delivered",
    "complained": "delivered",  # it arrived; the complaint came after
    "delayed": "delayed",
    "bounced:transient": "bounced",
    "bounced:permanent": "bounced",
    "failed:transient": "failed",
    "failed:permanent": "failed",
    "rejected": "failed",
    "rendering_failed": "failed",
}
CUSTOMER_CHANNELS: Final = ("email", "sms")
# What an answer changes that the answer alone tells (headsup.domain.answers.effect_on_item); the
# other answers change what the team's notice says (its own step), or nothing.
_ANSWER_EFFECTS: Final = {
    "not_fixed": "ticket reopened",
    "fixed": "ticket confirmed fixed",
    "call_now": f"to be called within {CALL_NOW_WITHIN.seconds // 60} minutes",
}
_ANSWER_SOURCES: Final = {"link": "link", "sms": "SMS reply"}
_CHANNELS: Final = {"email": "email", "sms": "SMS", "escalation_topic": "the team", "team": "the team"}


class NoticeFacts(Protocol):
    """The ledger fields a timeline reads (cli.outbox.RunNotice has them all)."""

    @property
    def notice_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def detected_at(self) -> datetime: ...
    @property
    def settled_at(self) -> datetime: ...
    @property
    def sent_at(self) -> datetime | None: ...
    @property
    def hold_until(self) -> datetime | None: ...
    @property
    def delivery_state(self) -> str | None: ...
    @property
    def delivery_at(self) -> datetime | None: ...
    @property
    def delivery_detail(self) -> str | None: ...
    @property
    def resolved_by_receipt(self) -> str | None: ...
    @property
    def fallback_notice_id(self) -> str | None: ...
    @property
    def fallback_channel(self) -> str | None: ...
    @property
    def fallback_status(self) -> str | None: ...
    @property
    def fallback_at(self) -> datetime | None: ...
    @property
    def fallback_detail(self) -> str | None: ...
    @property
    def fallback_completed_at(self) -> datetime | None: ...
    @property
    def fallback_of(self) -> str | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def answer_source(self) -> str | None: ...
    @property
    def answer_slot(self) -> datetime | None: ...


@dataclass(frozen=True)
class Clock:
    """Times as a person reads them: on the customer's clock when it is known, else UTC."""

    zone: ZoneInfo | None = None

    @property
    def name(self) -> str:
        return "UTC" if self.zone is None else self.zone.key

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone) if self.zone is not None else moment.astimezone(ZoneInfo("UTC"))

    def day_and_time(self, moment: datetime) -> str:
        return f"{self.local(moment):%a %d %b %H:%M}"

    def time(self, moment: datetime, day: datetime | None = None) -> str:
        """`08:02` on `day`'s date (the customer's), else with its own date."""
        local = self.local(moment)
        if day is not None and local.date() == self.local(day).date():
            return f"{local:%H:%M}"
        return self.day_and_time(moment)


@dataclass(frozen=True)
class Step:
    """One event of a notice: `what` happened (at `at`, if known), with a `note` on why."""

    what: str
    at: datetime | None = None
    note: str | None = None
    tone: Tone = "plain"

    def text(self, clock: Clock, day: datetime | None = None) -> str:
        when = "" if self.at is None else f" {clock.time(self.at, day)}"
        return f"{self.what}{when}" + (f" ({self.note})" if self.note else "")


def reason_words(reason: str | None) -> str:
    """`frequency_cap+quiet_hours` -> `daily limit reached, quiet hours`;
    `no_longer_true: callback done` -> `no longer true: callback done`."""
    if not reason:
        return ""
    code, _, detail = reason.partition(":")
    words = ", ".join(REASONS.get(part, part.replace("_", " ")) for part in code.strip().split("+"))
    return f"{words}: {detail.strip()}" if detail.strip() else words


def detail_words(detail: str | None) -> str | None:
    return None if not detail else DETAILS.get(detail, detail.replace("_", " "))


def channel_words(channel: str | None) -> str:
    return _CHANNELS.get(channel or "", channel or "-")


def receipt_outcome(state: str | None) -> str:
    """Which of RECEIPT_OUTCOMES a sent notice with this delivery state counts under."""
    if state is None:
        return "no receipt yet"
    return _OUTCOME_OF_STATE[state]


def reached_customer(notice: NoticeFacts) -> bool:
    """Sent (or probably sent) to the customer by a channel that reports back."""
    return notice.status in ("sent", "unconfirmed") and notice.channel in CUSTOMER_CHANNELS


def sent_time(notice: NoticeFacts) -> datetime | None:
    # `sent_at` is kept only for customer notices (it feeds the daily cap); a team notice was
    # sent when it settled.
    if notice.sent_at is not None:
        return notice.sent_at
    return notice.settled_at if notice.status == "sent" else None


def hold_step(notice: NoticeFacts) -> Step | None:
    if notice.hold_until is None:
        return None
    if notice.status == "held":
        return Step("held until", notice.hold_until, reason_words(notice.reason), "wait")
    return Step("waited until", notice.hold_until, reason_words(notice.reason) or None, "plain")


def outcome_step(notice: NoticeFacts) -> Step:  # noqa: PLR0911 - one plain sentence per status
    """What delivery did with the notice (its `status`), in words."""
    reason = reason_words(notice.reason) or None
    match notice.status:
        case "sent":
            return Step("sent", sent_time(notice), None, "ok")
        case "held":
            return hold_step(notice) or Step("held", None, reason, "wait")
        case "skipped":
            return Step("not sent", notice.settled_at, reason, "plain")
        case "unconfirmed" if notice.resolved_by_receipt:
            return Step("sent (confirmed by the provider's receipt)", sent_time(notice), None, "ok")
        case "unconfirmed":
            return Step("maybe sent", sent_time(notice), "cut off before the provider confirmed it", "bad")
        case "dead_lettered":
            return Step("not sent: stuck in the dead-letter queue", notice.settled_at, reason, "bad")
        case "in_progress":
            return Step("being sent now", None, None, "wait")
    return Step(notice.status.replace("_", " "), notice.settled_at, reason, "bad")


def delivery_step(notice: NoticeFacts) -> Step | None:
    """What the provider reported became of the message; `no receipt yet` for a customer notice
    that went out without one. None where no receipt is to come (not sent, or to the team)."""
    state = notice.delivery_state
    if state is None:
        return Step("no receipt yet", None, None, "wait") if reached_customer(notice) else None
    what, tone, default_note = STATES.get(state, (state.replace("_", " "), "plain", None))
    return Step(what, notice.delivery_at, detail_words(notice.delivery_detail) or default_note, tone)


def fallback_step(notice: NoticeFacts, fallback: NoticeFacts | None = None) -> Step | None:
    """The second attempt by the other channel after this one never arrived: as the fallback's own
    ledger item tells it when it was read (it also has its receipt), else as delivery recorded its
    outcome on this one. On the second attempt itself: which notice it stands in for."""
    if notice.fallback_of:
        return Step(f"second attempt of notice {notice.fallback_of}")
    if not notice.fallback_notice_id:
        return None
    status: str | None
    at: datetime | None
    if fallback is not None:
        channel, status, why = fallback.channel, fallback.status, fallback.reason
        at = sent_time(fallback) or fallback.settled_at
    else:
        channel, status, why = notice.fallback_channel, notice.fallback_status, notice.fallback_detail
        at = notice.fallback_completed_at or notice.fallback_at
    status = status or "queued"  # started, and no outcome recorded yet
    what = f"fallback by {channel_words(channel) if channel else 'the other channel'}: "
    what += _FALLBACK_STATUSES.get(status, status.replace("_", " "))
    arrived = delivery_step(fallback) if fallback is not None else None
    if arrived is not None and arrived.at is not None:
        # Its receipt ends the story: told at the receipt's time.
        return Step(f"{what}, {arrived.what}", arrived.at, arrived.note, arrived.tone)
    tone: Tone = "ok" if status == "sent" else "wait" if status in _FALLBACK_WAITING else "bad"
    note = reason_words(why) if status != "sent" else arrived.what if arrived is not None else None
    return Step(what, at, note or None, tone)


_FALLBACK_STATUSES: Final = {
    "skipped": "not sent",
    "in_progress": "being sent",
    "unconfirmed": "maybe sent",
    "dead_lettered": "stuck in the dead-letter queue",
}
_FALLBACK_WAITING: Final = ("queued", "held", "in_progress")


def answer_words(answer: str, slot: datetime | None = None, clock: Clock | None = None) -> str:
    """`not_fixed` -> `No, still a problem`: the button the customer tapped, in English; "call me
    later" with the time they chose (on `clock`: UTC unless given)."""
    try:
        known = Answer(answer)
    except ValueError:
        return answer.replace("_", " ")
    if known is Answer.CALL_LATER:
        if slot is None:
            return ENGLISH.later_label
        return ENGLISH.labels[known].format(time=(clock or Clock()).day_and_time(slot))
    return ENGLISH.labels[known]


def answer_step(notice: NoticeFacts, clock: Clock | None = None) -> Step | None:
    """What the customer answered, how and when, and what the answer alone says it changed
    (`ticket reopened`); None when they did not answer."""
    if not notice.answer:
        return None
    source = _ANSWER_SOURCES.get(notice.answer_source or "", notice.answer_source or "link")
    what = f"answered: {answer_words(notice.answer, notice.answer_slot, clock)} (by {source})"
    tone: Tone = "wait" if notice.answer in NEEDS_THE_TEAM else "ok"
    return Step(what, notice.answered_at, _ANSWER_EFFECTS.get(notice.answer), tone)


def team_step(team: NoticeFacts) -> Step:
    """The team's notice an answer made (`ticket_answer`...), as delivery settled it."""
    outcome = outcome_step(team)
    return Step(f"to the team: {outcome.what}", outcome.at, outcome.note, outcome.tone)


def answered_step(answered: NoticeFacts, clock: Clock | None = None) -> Step:
    """On the team's notice: the customer's answer it passes on, and to which notice (its time is
    on that notice's own timeline)."""
    words = answer_words(answered.answer or "", answered.answer_slot, clock)
    return Step(f"the customer's answer to notice {answered.notice_id}: {words}")


def timeline(
    notice: NoticeFacts,
    fallback: NoticeFacts | None = None,
    *,
    team: NoticeFacts | None = None,
    answered: NoticeFacts | None = None,
    clock: Clock | None = None,
) -> list[Step]:
    """The notice's events in order: detected, held, sent (or not), the receipt, the fallback, the
    customer's answer and the team's notice it made (`team`); on such a team notice, the answer
    it passes on (`answered`: the notice answered)."""
    steps = [Step("detected", notice.detected_at)]
    hold = hold_step(notice)
    if hold is not None and notice.status != "held":
        steps.append(hold)
    steps.append(outcome_step(notice))
    steps += [
        step
        for step in (
            delivery_step(notice),
            fallback_step(notice, fallback),
            answer_step(notice, clock),
            team_step(team) if team is not None else None,
            answered_step(answered, clock) if answered is not None else None,
        )
        if step is not None
    ]
    return steps
