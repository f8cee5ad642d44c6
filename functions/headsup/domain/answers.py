"""What a customer may answer to a notice, and the signed link that carries the answer. Pure.

Each answerable kind offers a fixed set of answers (`ANSWERS`). A link names the notice, its
customer and kind, the customer's locale and clock (so the page speaks their language and offers
times on their clock without reading anything), and when it expires; it is signed with the same
key as the unsubscribe links (an HMAC: tamper-evident, no personal data, nothing to look up).
The answer is never in the link: the page asks, and the customer's POST says which (a mail
scanner that fetches the link changes nothing).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headsup.domain.kinds import NoticeKind

_VERSION = 1
_PREFIX = b"answer:"  # a signed answer link can never pass for an unsubscribe link, nor the reverse


class Answer(StrEnum):
    FIXED = "fixed"
    NOT_FIXED = "not_fixed"
    CALL_NOW = "call_now"
    CALL_LATER = "call_later"  # with a slot
    FINE = "fine"
    RESCHEDULE = "reschedule"
    ALL_GOOD = "all_good"
    NOT_RIGHT = "not_right"


ANSWERS: dict[NoticeKind, tuple[Answer, ...]] = {
    NoticeKind.TICKET_FOLLOW_UP: (Answer.FIXED, Answer.NOT_FIXED),
    NoticeKind.CALLBACK_OVERDUE: (Answer.CALL_NOW, Answer.CALL_LATER),
    NoticeKind.VISIT_ON_THE_WAY: (Answer.FINE, Answer.RESCHEDULE),
    NoticeKind.VISIT_RUNNING_LATE: (Answer.FINE, Answer.RESCHEDULE),
    NoticeKind.VISIT_DONE: (Answer.ALL_GOOD, Answer.NOT_RIGHT),
}
# Answers the team must act on: they are escalated.
NEEDS_THE_TEAM = frozenset(
    {Answer.NOT_FIXED, Answer.CALL_NOW, Answer.CALL_LATER, Answer.RESCHEDULE, Answer.NOT_RIGHT}
)
CALL_NOW_WITHIN = timedelta(minutes=15)


class InvalidAnswerLink(ValueError):
    """Tampered, truncated, expired or signed with another key: one answer for all (a 404)."""


@dataclass(frozen=True)
class AnswerLink:
    notice_id: str
    customer_id: str
    kind: NoticeKind
    locale: str
    zone: str
    expires_at: datetime

    @property
    def choices(self) -> tuple[Answer, ...]:
        return ANSWERS[self.kind]

    @property
    def clock(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


def sign(key: bytes, link: AnswerLink) -> str:
    fields = {
        "v": _VERSION,
        "n": link.notice_id,
        "c": link.customer_id,
        "k": link.kind.value,
        "l": link.locale,
        "z": link.zone,
        "e": int(link.expires_at.timestamp()),
    }
    payload = json.dumps(fields, separators=(",", ":")).encode()
    return f"{_encode(payload)}.{_encode(_mac(key, payload))}"


def verify(key: bytes, token: str, *, now: datetime) -> AnswerLink:
    try:
        encoded_payload, encoded_mac = token.split(".")
        payload, mac = _decode(encoded_payload), _decode(encoded_mac)
    except ValueError as exc:
        raise InvalidAnswerLink("malformed") from exc
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidAnswerLink("bad signature")
    try:
        data = json.loads(payload)
        link = AnswerLink(
            notice_id=str(data["n"]),
            customer_id=str(data["c"]),
            kind=NoticeKind(data["k"]),
            locale=str(data["l"]),
            zone=str(ZoneInfo(str(data["z"]))),
            expires_at=datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, ZoneInfoNotFoundError) as exc:
        raise InvalidAnswerLink("bad payload") from exc
    if data.get("v") != _VERSION or link.kind not in ANSWERS:
        raise InvalidAnswerLink("bad payload")
    if now >= link.expires_at:
        raise InvalidAnswerLink("expired")
    return link


def callback_slots(
    now: datetime, zone: ZoneInfo, opening: time, closing: time, count: int = 3
) -> list[datetime]:
    """Times a customer may ask to be called back: whole hours at least two hours ahead, inside
    the business's hours on the customer's clock, the next `count` of them (today's, then
    tomorrow's morning and afternoon). An empty window (opening == closing) means any hour."""
    local = now.astimezone(zone)
    start = (local + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    slots: list[datetime] = []
    candidate = start
    while len(slots) < count and candidate < local + timedelta(days=3):
        if _in_window(candidate.time(), opening, closing) and _spread(slots, candidate):
            slots.append(candidate.astimezone(UTC))
        candidate = (candidate + timedelta(hours=1)).astimezone(zone)
    return slots


def slot_is_acceptable(slot: datetime, now: datetime, zone: ZoneInfo, opening: time, closing: time) -> bool:
    """A slot the customer posted back: on the hour, ahead of now, within a week, in the window."""
    local = slot.astimezone(zone)
    on_the_hour = local.minute == 0 and local.second == 0 and local.microsecond == 0
    ahead = now < slot <= now + timedelta(days=7)
    return on_the_hour and ahead and _in_window(local.time(), opening, closing)


def _in_window(moment: time, opening: time, closing: time) -> bool:
    if opening == closing:
        return True
    if opening < closing:
        return opening <= moment < closing
    return moment >= opening or moment < closing


def _spread(slots: list[datetime], candidate: datetime) -> bool:
    """At least three hours after the last slot offered: real alternatives, not 14:00 and 15:00."""
    return not slots or candidate.astimezone(UTC) - slots[-1] >= timedelta(hours=3)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _PREFIX + payload, hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    if not text or len(text) > 2000:
        raise ValueError("bad length")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def effect_on_item(
    answer: Answer, *, now: datetime, slot: datetime | None
) -> tuple[dict[str, object], dict[str, object]]:
    """What the answer writes on the business's item: (always, only while a callback is pending).

    Every answer is recorded on the item (`customer_answer`, `customer_answered_at`), so the
    business sees it where it works. "Still a problem" reopens the ticket, with `updated_at` now,
    so the SLA clock runs again; "call me now / later" moves a pending callback's promise, which
    headsup then treats as any new promise (it is watched from that time on).
    """
    stamp = now.astimezone(UTC).isoformat()
    always: dict[str, object] = {"customer_answer": answer.value, "customer_answered_at": stamp}
    if answer is Answer.NOT_FIXED:
        always |= {"status": "open", "updated_at": stamp, "reopened_by_customer": True}
    if answer is Answer.FIXED:
        always |= {"customer_confirmed_fixed_at": stamp}
    # Whole minutes: the promise is a time the business will read and a notice id is made of.
    within = (now + CALL_NOW_WITHIN).replace(second=0, microsecond=0)
    promise = {
        Answer.CALL_NOW: within if within >= now + CALL_NOW_WITHIN else within + timedelta(minutes=1),
        Answer.CALL_LATER: slot,
    }.get(answer)
    pending_only: dict[str, object] = (
        {"promised_at": promise.astimezone(UTC).isoformat()} if promise is not None else {}
    )
    return always, pending_only
