"""Signed unsubscribe and answer links, on the business's own configured base URL only."""

from datetime import datetime, timedelta
from urllib.parse import quote

from headsup.domain import answers
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.customer import Customer
from headsup.domain.notices import NoticeRequest


class UnsubscribeLinks:
    def __init__(self, base_url: str, *, key: bytes) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key

    def __call__(self, customer_id: str, topic: str) -> str:
        return f"{self._base_url}/unsubscribe/{quote(tokens.sign(self._key, customer_id, topic), safe='')}"


class AnswerLinks:
    """The signed answer link of a notice, for the kinds whose answers are on (AnswerKinds)."""

    def __init__(self, base_url: str, *, key: bytes, kinds: frozenset[str], valid_for: timedelta) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key
        self._kinds = kinds
        self._valid_for = valid_for

    def __call__(self, request: NoticeRequest, customer: Customer, now: datetime) -> str | None:
        if request.kind not in self._kinds or request.kind not in answers.ANSWERS:
            return None
        link = answers.AnswerLink(
            notice_id=request.notice_id,
            customer_id=customer.customer_id,
            kind=request.kind,
            locale=customer.locale,
            zone=customer.timezone,
            expires_at=now + self._valid_for,
        )
        return f"{self._base_url}/answer/{quote(answers.sign(self._key, link), safe='')}"


def no_answer_links(request: NoticeRequest, customer: Customer, now: datetime) -> str | None:
    return None
