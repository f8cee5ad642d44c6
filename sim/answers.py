"""The customers who answer: what they do with the answer buttons of the emails the stack sent.

An email of a kind that takes an answer (is it fixed? when should we call? does the time work?)
carries one button per answer, each a link to AnswerFunction's page. A seeded half of the
customers who got one answer it, a little while after it arrived, as a person does it in a
browser: they tap the button they mean (a GET of its link: the page, which changes nothing),
then submit that answer's form on the page (a POST of its fields to the same address, as a
form without an action does); for "call me later", the first time the page offers. A seeded
few tap twice, and the second POST changes nothing (the page says it was answered already).
Nobody answers an email the ledger does not show delivered.

Which answer each customer gives is drawn from the run's seed and the notice's id, never from
anything moto makes random, so the same run gives the same answers. The links are read from the
email's HTML as SES accepted it, never rebuilt.
"""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3

from sim.mailboxes import NOTICE_HEADER

if TYPE_CHECKING:
    from emulator.providers import SentEmail
    from sim.pipeline import LocalPipeline

FORM: Final = {"content-type": "application/x-www-form-urlencoded"}
# How likely each answer is, among those who answer, relative to the other buttons of the same
# email: most say it is fixed and the time is fine; a few need the team.
WEIGHTS: Final = {
    "fixed": 0.7,
    "not_fixed": 0.3,
    "call_now": 0.4,
    "call_later": 0.6,
    "fine": 0.85,
    "reschedule": 0.15,
    "all_good": 0.85,
    "not_right": 0.15,
}
# A person answers between a couple of minutes and an hour and a half after the email arrived.
SOONEST: Final = timedelta(minutes=2)
LATEST: Final = timedelta(minutes=90)
DELIVERED: Final = ("delivered", "opened", "clicked")


@dataclass(frozen=True)
class Intent:
    """What one customer will do with one email's buttons."""

    answer: str
    after: timedelta  # how long after the email arrived
    twice: bool  # taps the answer a second time


@dataclass(frozen=True)
class Shares:
    """How customers answer: the share who do, their answers' weights, the share who tap twice."""

    answering: float = 0.5
    weights: Mapping[str, float] = field(default_factory=lambda: WEIGHTS)
    twice: float = 0.05


def intent(seed: int, notice_id: str, offered: Sequence[str], shares: Shares = Shares()) -> Intent | None:
    """Whether the customer answers, which of the `offered` answers, when, and whether they tap
    twice, by `shares`; None: they do nothing. Drawn from the run's seed and the notice's id."""
    draw = random.Random(f"{seed}/answer/{notice_id}")  # noqa: S311 - simulation
    if not offered or draw.random() >= shares.answering:
        return None
    weights = [shares.weights.get(answer, 1.0) for answer in offered]
    answer = draw.choices(list(offered), weights=weights)[0]
    after = SOONEST + (LATEST - SOONEST) * draw.random()
    return Intent(answer, after, draw.random() < shares.twice)


class _Collector(HTMLParser):
    """Every link (a[href]) and every POST form's fields (input name=value) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "form" and values.get("method", "get").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and values.get("name"):
            self._form[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def answer_links(html: str) -> dict[str, str]:
    """The email's answer buttons: answer -> the link's path and query (`/answer/TOKEN?answer=fixed`),
    what a tap asks the API for. Other links (unsubscribe, the business's site) are not buttons."""
    collector = _Collector()
    collector.feed(html)
    buttons: dict[str, str] = {}
    for href in collector.links:
        url = urlsplit(href)
        parts = url.path.strip("/").split("/")
        answer = parse_qs(url.query).get("answer", [""])[0]
        if len(parts) == 2 and parts[0] == "answer" and parts[1] and answer:
            buttons.setdefault(answer, f"{url.path}?{url.query}")
    return buttons


def page_forms(html: str) -> list[dict[str, str]]:
    """The POST forms of a page, each as the fields its submit sends, in the page's order."""
    collector = _Collector()
    collector.feed(html)
    return collector.forms


@dataclass(frozen=True)
class Tap:
    """One customer answering one notice: what they chose, and what the API answered each request."""

    notice_id: str
    answer: str
    opened: int  # the GET's status
    posted: tuple[int, ...] = ()  # each POST's status: a second one if they tapped twice
    fields: dict[str, str] = field(default_factory=dict)  # the form they submitted
    pages: tuple[str, ...] = ()  # each POST's page


@dataclass(frozen=True)
class _Waiting:
    due: datetime
    notice_id: str
    links: dict[str, str]
    intent: Intent


class Respondents:
    """The customers, answering (or not) each email with answer buttons the stack sent."""

    def __init__(self, pipeline: "LocalPipeline", *, seed: int, shares: Shares = Shares()) -> None:
        self._pipeline = pipeline
        self._seed = seed
        self._shares = shares
        self._seen = 0  # emails SES accepted that were looked at: each is parsed once
        self._waiting: list[_Waiting] = []
        self._dynamodb = boto3.client("dynamodb", region_name=pipeline.deployment.region)
        self.taps: list[Tap] = []

    def answer(self) -> int:
        """Note the emails sent since the last call, and answer those whose time has come;
        returns how many were answered now."""
        now = datetime.now(UTC)
        self._note_new_emails(now)
        due = [waiting for waiting in self._waiting if waiting.due <= now]
        self._waiting = [waiting for waiting in self._waiting if waiting.due > now]
        answered = 0
        for waiting in due:
            if self._arrived(waiting.notice_id):
                tap = self._tap(waiting)
                self.taps.append(tap)
                answered += bool(tap.posted)
        return answered

    def _note_new_emails(self, now: datetime) -> None:
        from emulator import sent_emails

        fresh = sent_emails(self._pipeline.deployment.region, since=self._seen)
        self._seen += len(fresh)
        for email in fresh:
            links = answer_links(email.html or "")
            notice_id = _notice_id(email)
            if not links or notice_id is None:
                continue
            chosen = intent(self._seed, notice_id, list(links), self._shares)
            if chosen is not None:
                self._waiting.append(_Waiting(now + chosen.after, notice_id, links, chosen))

    def _arrived(self, notice_id: str) -> bool:
        """Whether the ledger shows the email delivered (nobody answers a bounced one)."""
        item = self._dynamodb.get_item(
            TableName=self._pipeline.deployment.ref("NoticeLedgerTable"),
            Key={"notice_id": {"S": notice_id}},
            ProjectionExpression="delivery_state",
        ).get("Item", {})
        return item.get("delivery_state", {}).get("S") in DELIVERED

    def _tap(self, waiting: _Waiting) -> Tap:
        """Open the button's link, then submit the page's form for that answer (twice, for some)."""
        api = self._pipeline.answers
        link = waiting.links[waiting.intent.answer]
        page = api.request("GET", link)
        tap = Tap(waiting.notice_id, waiting.intent.answer, page.status)
        form = next((f for f in page_forms(page.body) if f.get("answer") == tap.answer), None)
        if page.status != 200 or form is None:
            return tap  # a link that does not work, or a page without that answer: they give up
        posts = [
            api.request("POST", link, body=urlencode(form), headers=FORM)
            for _ in range(2 if waiting.intent.twice else 1)
        ]
        return Tap(
            tap.notice_id,
            tap.answer,
            tap.opened,
            tuple(post.status for post in posts),
            form,
            tuple(post.body for post in posts),
        )


def _notice_id(email: "SentEmail") -> str | None:
    return email.message[NOTICE_HEADER] if email.message is not None else None
