"""The outbox of a local run: every notice `headsup simulate` settled, as a file and as a page.

`collect_notices` reads the run back out of the emulator when it ends: each NoticeLedgerTable
entry (one per notice, with its one outcome) joined, through the provider's message id, to
what the recipient actually got (the raw email SES accepted, the SMS SNS accepted, the message
published to EscalationTopic). `save_run` keeps it as JSON, so `headsup outbox` can write the
page later without running anything again; `write_page` renders `outbox.html.j2` (one row
per notice, each expandable to the message as its recipient sees it, a chart of what was
sent per hour by kind, what checking each notice as it went out did: `rechecked`, and what the
customers answered, with the team's notices their answers made: `answered_pairs`). The
page is one static file with no script and nothing fetched, so it opens from disk, can be
attached to a ticket, and shows the same thing everywhere.
"""

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ValidationError

from cli.timeline import Clock, answer_words, channel_words, timeline
from emulator import sent_emails, sent_sms

if TYPE_CHECKING:
    from sim.pipeline import LocalPipeline

PAGE_TEMPLATE = "outbox.html.j2"
# The team's notices customers' answers make (headsup.logic.answers).
TEAM_ANSWER_KINDS = ("ticket_answer", "callback_answer", "visit_answer")
HOUR = timedelta(hours=1)
# Tableau 10: distinct to most readers, including with the commonest colour-vision deficiencies.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


class SentMessage(BaseModel):
    """What the recipient got, as the provider accepted it."""

    channel: Literal["email", "sms", "team"]
    to: str
    subject: str | None = None
    text: str
    html: str | None = None


class RunNotice(BaseModel):
    """One notice as its ledger item tells it (plus, in a local run, what was sent). Every field
    after the first few is optional: runs saved before a field existed still load."""

    notice_id: str
    kind: str
    customer_id: str
    status: str
    channel: str | None = None
    reason: str | None = None
    detected_at: datetime
    settled_at: datetime
    hold_until: datetime | None = None
    # The customer's clock (their `timezone`, else the template's DefaultTimezone, as delivery
    # reads it), to see when a notice reached them; None for a customer the business never stored.
    customer_timezone: str | None = None
    message: SentMessage | None = None  # for a notice that was sent
    # What the provider reported became of it (`delivered`, `delayed`, `bounced:permanent`...),
    # when, and its reason in a few words (`no_email`, `unreachable`); None: no receipt (yet).
    delivery_state: str | None = None
    delivery_at: datetime | None = None
    delivery_detail: str | None = None
    created_at: datetime | None = None  # first claimed: what CustomerNoticesIndex sorts by
    sent_at: datetime | None = None  # only on notices sent to a customer
    # An `unconfirmed` notice the provider's receipt later showed did go out, and when.
    resolved_by_receipt: str | None = None
    resolved_at: datetime | None = None
    # After a permanent bounce or failure: the second attempt by the other channel (why, when it
    # was started, and its outcome as delivery recorded it here too), and on that attempt's own
    # item, the notice it stands in for.
    fallback_notice_id: str | None = None
    fallback_reason: str | None = None  # the first attempt's delivery state (`bounced:permanent`)
    fallback_at: datetime | None = None
    fallback_status: str | None = None
    fallback_channel: str | None = None
    fallback_detail: str | None = None  # the second attempt's reason (`no_channel`...)
    fallback_completed_at: datetime | None = None
    fallback_of: str | None = None
    # The customer's one-tap answer (`not_fixed`, `call_later`...), when, how (`link`, `sms`), and
    # for "call me later" the time they chose.
    answer: str | None = None
    answered_at: datetime | None = None
    answer_source: str | None = None
    answer_slot: datetime | None = None

    @classmethod
    def from_item(
        cls,
        item: Mapping[str, Any],
        *,
        customer_timezone: str | None = None,
        message: SentMessage | None = None,
    ) -> "RunNotice":
        """A NoticeLedgerTable item (plain values) as a notice, whichever optional fields it has."""
        optional = {name: item[name] for name in _OPTIONAL_ITEM_FIELDS if item.get(name) is not None}
        return cls.model_validate(
            {
                **optional,
                "notice_id": item["notice_id"],
                "kind": item["kind"],
                "customer_id": item["customer_id"],
                "status": item["status"],
                "detected_at": item["detected_at"],
                "settled_at": item.get("completed_at") or item["updated_at"],
                "customer_timezone": customer_timezone,
                "message": message,
            }
        )

    @property
    def settled_locally(self) -> datetime | None:
        return (
            None
            if self.customer_timezone is None
            else self.settled_at.astimezone(ZoneInfo(self.customer_timezone))
        )


# The ledger attributes RunNotice keeps as they are, when an item has them.
_OPTIONAL_ITEM_FIELDS = (
    "channel",
    "reason",
    "hold_until",
    "delivery_state",
    "delivery_at",
    "delivery_detail",
    "created_at",
    "sent_at",
    "resolved_by_receipt",
    "resolved_at",
    "fallback_notice_id",
    "fallback_reason",
    "fallback_at",
    "fallback_status",
    "fallback_channel",
    "fallback_detail",
    "fallback_completed_at",
    "fallback_of",
    "answer",
    "answered_at",
    "answer_source",
    "answer_slot",
)


class RunRecord(BaseModel):
    seed: int
    customers: int
    days: int
    start: datetime  # the simulated window, UTC
    end: datetime
    notices: list[RunNotice]
    # customer id -> when they stopped SMS by texting STOP (ALTO...) to the stack's number, as
    # their preferences' history tells it (source `sms_keyword`); empty in runs saved before.
    sms_opt_outs: dict[str, datetime] = {}


class NoRunRecorded(Exception):
    """There is no readable run record where the outbox looked for one."""


def collect_notices(pipeline: "LocalPipeline") -> list[RunNotice]:
    """Every notice in the ledger with what was sent for it, in the order they settled; call inside
    the run's `mock_aws()`."""
    messages = _sent_messages(pipeline)
    zones = _customer_zones(pipeline)
    notices = [
        RunNotice.from_item(
            entry,
            customer_timezone=zones.get(entry["customer_id"]),
            message=messages.get(entry.get("provider_message_id") or ""),
        )
        for entry in pipeline.ledger()
    ]
    notices.sort(key=lambda notice: (notice.settled_at, notice.notice_id))
    return notices


def collect_sms_opt_outs(pipeline: "LocalPipeline") -> dict[str, datetime]:
    """customer id -> when they first opted out of SMS by texting a keyword (PreferencesTable's
    history, source `sms_keyword`), oldest first; call inside the run's `mock_aws()`."""
    from headsup.domain.preferences import ChangeSource

    stops = {}
    for item in pipeline.preferences():
        changes = item.get("changes") or []
        at = next((c["at"] for c in changes if c.get("source") == ChangeSource.SMS_KEYWORD), None)
        if at is not None:
            stops[str(item["customer_id"])] = datetime.fromisoformat(at)
    return dict(sorted(stops.items(), key=lambda stop: stop[1]))


def _sent_messages(pipeline: "LocalPipeline") -> dict[str, SentMessage]:
    """provider message id -> what the recipient got: the emails SES accepted, the SMS SNS accepted,
    the messages published to EscalationTopic."""
    messages: dict[str, SentMessage] = {}
    for email in sent_emails(pipeline.deployment.region):
        messages[email.message_id] = SentMessage(
            channel="email",
            to=", ".join(email.destinations),
            subject=email.subject,
            text=email.text or "",
            html=email.html,
        )
    for sms in sent_sms(pipeline.deployment.region):
        messages[sms.message_id] = SentMessage(channel="sms", to=sms.phone_number, text=sms.message)
    for published in pipeline.escalations():
        body = json.loads(published.message)
        messages[published.message_id] = SentMessage(
            channel="team",
            to="EscalationTopic",
            subject=published.subject,
            text=json.dumps(body, indent=2, ensure_ascii=False, default=str),
        )
    return messages


def _customer_zones(pipeline: "LocalPipeline") -> dict[str, str]:
    """customer id -> the timezone delivery uses for them, read as delivery reads it (an unknown
    or missing zone is the template's DefaultTimezone); a customer delivery cannot read has none."""
    from headsup.domain.customer import InvalidCustomer, customer_from_item

    env = pipeline.deployment.function_env("NoticeDeliveryFunction")
    zones = {}
    for item in pipeline.customers():
        try:
            customer = customer_from_item(
                item, default_locale=env["DEFAULT_LOCALE"], default_timezone=env["DEFAULT_TIMEZONE"]
            )
        except InvalidCustomer:
            continue
        zones[customer.customer_id] = customer.timezone
    return zones


def rechecked(notices: Sequence[RunNotice]) -> dict[tuple[str, str], int]:
    """What checking each notice against the business's data as it went out did, in a run:
    (`skipped`, reason) for those it stopped (what they said no longer held, a newer one was held
    in their place, the customer had been told already, there was nothing to correct) and
    (`sent`, kind) for the kinds it sends because of what the customer was told before; zeros
    included, in that order."""
    from headsup.domain.kinds import NoticeKind
    from headsup.domain.recheck import ALREADY_TOLD, NO_LONGER_TRUE, NOTHING_TO_CORRECT, SUPERSEDED

    counts = dict.fromkeys(
        [
            *(
                ("skipped", reason)
                for reason in (NO_LONGER_TRUE, SUPERSEDED, ALREADY_TOLD, NOTHING_TO_CORRECT)
            ),
            *(("sent", kind.value) for kind in (NoticeKind.BILL_CORRECTION, NoticeKind.VISIT_ETA_EARLIER)),
        ],
        0,
    )
    for notice in notices:
        key = ("sent", notice.kind) if notice.status == "sent" else (notice.status, recheck_reason(notice))
        if key in counts:
            counts[key] += 1
    return counts


def answered_pairs(notices: Sequence[RunNotice]) -> list[tuple[RunNotice, RunNotice]]:
    """(the notice a customer answered, the team's notice the answer made) for each answer among
    `notices` that made one (still a problem, call me, reschedule, not right): the team's notice
    is the one AnswerFunction names after the notice answered."""
    from headsup.domain.kinds import NoticeKind
    from headsup.domain.notices import make_notice_id

    by_id = {notice.notice_id: notice for notice in notices}
    pairs = []
    for notice in notices:
        if notice.answer:
            made = (
                by_id.get(make_notice_id(NoticeKind(kind), notice.notice_id)) for kind in TEAM_ANSWER_KINDS
            )
            pairs += [(notice, team) for team in made if team is not None]
    return pairs


def answer_counts(notices: Sequence[RunNotice]) -> Counter[str]:
    """answer -> the notices answered so, in the order the buttons are offered."""
    from headsup.domain.answers import Answer

    given = Counter(notice.answer for notice in notices if notice.answer)
    return Counter({answer: given[answer] for answer in [*Answer, *sorted(given)] if given[answer]})


def recheck_reason(notice: RunNotice) -> str:
    """A skipped notice's reason without its detail (`no_longer_true: callback done` -> `no_longer_true`)."""
    return (notice.reason or "").split(":")[0] if notice.status == "skipped" else ""


def save_run(record: RunRecord, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.model_dump_json(indent=1))
    return path


def load_run(path: Path) -> RunRecord:
    try:
        return RunRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise NoRunRecorded(f"no run recorded at {path}: run `headsup simulate` first") from None
    except ValidationError as exc:
        raise NoRunRecorded(
            f"{path} is not a run record ({exc.error_count()} problem(s)); run `headsup simulate` again"
        ) from exc


@dataclass(frozen=True)
class Bar:
    """One kind's part of one hour's column in the chart, in SVG units."""

    hour: datetime
    kind: str
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    bar_width: float
    peak: int  # the tallest hour's notices
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # x, label
    colours: dict[str, str]  # every kind of the run -> its colour, for the bars and the legend
    totals: Counter[str]  # kind -> sent notices


def sent_per_hour(record: RunRecord, *, plot_height: float = 160.0, max_width: float = 960.0) -> Chart:
    """A stacked column per hour of the simulated window: the notices sent in it, by kind."""
    sent = [notice for notice in record.notices if notice.status == "sent"]
    # The window, widened to every sent notice: the bills arrive before the first sweep, and a
    # notice held overnight may go out after the last.
    first = min([record.start, *(notice.settled_at for notice in sent)]).replace(
        minute=0, second=0, microsecond=0
    )
    last = max([record.end, *(notice.settled_at for notice in sent)])
    hours = int((last - first) // HOUR) + 1
    per_hour: dict[int, Counter[str]] = {}
    for notice in sent:
        per_hour.setdefault(int((notice.settled_at - first) // HOUR), Counter())[notice.kind] += 1
    # Every kind of the run has a colour (and a place in the legend, which filters the rows),
    # sent or not, so a kind keeps its colour from one run to the next.
    kinds = sorted({notice.kind for notice in record.notices})
    colours = {kind: PALETTE[index % len(PALETTE)] for index, kind in enumerate(kinds)}
    bar_width = max(2.0, min(24.0, max_width / hours))
    peak = max((sum(counts.values()) for counts in per_hour.values()), default=0)
    unit = plot_height / max(peak, 1)
    bars = []
    for index, counts in sorted(per_hour.items()):
        top = plot_height
        for kind in kinds:
            if counts[kind]:
                top -= counts[kind] * unit
                bars.append(
                    Bar(first + index * HOUR, kind, counts[kind], index * bar_width, top, counts[kind] * unit)
                )
    # About a dozen labels whatever the window: every 1, 3, 6, 12 or 24 hours.
    step = next(step for step in (1, 3, 6, 12, 24, 48) if hours / step <= 14 or step == 48)
    ticks = [(index * bar_width, f"{first + index * HOUR:%a %H:%M}") for index in range(0, hours, step)]
    return Chart(
        width=hours * bar_width,
        height=plot_height,
        bar_width=bar_width,
        peak=peak,
        bars=bars,
        ticks=ticks,
        colours=colours,
        totals=Counter(notice.kind for notice in sent),
    )


def kind_label(kind: str) -> str:
    """`ticket_sla_warning` -> `Ticket SLA warning`."""
    words = ["SLA" if word == "sla" else word for word in kind.split("_")]
    return " ".join([words[0].capitalize(), *words[1:]])


def _environment() -> Environment:
    # Imported here: the functions' code reads its settings at import, so it is loaded only
    # once a run has applied the template's environment (see sim.pipeline.lambda_output_to).
    from headsup.rendering.renderer import sms_encoding, sms_segments

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["label"] = kind_label
    environment.filters["recheck_reason"] = recheck_reason
    environment.filters["channel"] = lambda channel: (
        channel_words(channel) if channel else "the other channel"
    )
    environment.filters["utc"] = lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC"
    environment.filters["answer"] = answer_words
    environment.globals.update(
        sms_encoding=sms_encoding, sms_segments=sms_segments, timeline=timeline, utc_clock=Clock()
    )
    return environment


def render_page(record: RunRecord) -> str:
    outcomes = Counter(
        f"sent ({notice.message.channel if notice.message else notice.channel})"
        if notice.status == "sent"
        else notice.status
        for notice in record.notices
    )
    checks = rechecked(record.notices)
    pairs = answered_pairs(record.notices)
    context: dict[str, Any] = {
        "run": record,
        "chart": sent_per_hour(record),
        "outcomes": outcomes,
        "rechecked": checks,
        "recheck_reasons": {reason for status, reason in checks if status == "skipped"},
        "by_id": {notice.notice_id: notice for notice in record.notices},  # to find each fallback
        "answers": answer_counts(record.notices),
        "answered_by_sms": sum(notice.answer_source == "sms" for notice in record.notices if notice.answer),
        # What customers texted that was no answer: the team's notices it made.
        "customer_messages": sum(notice.kind == "customer_message" for notice in record.notices),
        "team_of": {answered.notice_id: team for answered, team in pairs},  # the answer's team notice
        "answer_of": {team.notice_id: answered for answered, team in pairs},  # and back
    }
    return _environment().get_template(PAGE_TEMPLATE).render(context)


def write_page(record: RunRecord, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(record), encoding="utf-8")
    return path
