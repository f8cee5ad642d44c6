"""Is a notice still true as it goes out? Pure functions over the notice, its source item as it is
now, what the customer was already told, and the time of sending.

Three checks, in this order (delivery runs them just before the policy decides):
1. `against_source`: every fact the notice states about its item still holds (the callback is still
   pending for the same promise, the ticket not updated since, the bill's amount unchanged, the
   visit still to come at the same ETA). Only for a notice that waited: one sent straight after
   detection states what was read a moment ago.
2. `keep_promises`: no time it promises is already past. A callback's "we will call you by" is
   moved to a clean quarter hour at least the reschedule delay after the send; any other promise
   that has passed makes the notice untrue.
3. `against_told`: a notice that depends on what reached the customer before (a bill judged
   afresh after a correction, a correction, a visit's better news) goes only when that fits, and
   a correction names the figure the customer was actually given.
Each returns the notice to send (perhaps with its times or figures brought up to date) or a
`Stale` saying why it must not go; details name statuses, fields and times, never personal data.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from headsup.domain.assertions import SourceTable, Told, canonical
from headsup.domain.bills.models import Bill
from headsup.domain.callbacks.models import Callback
from headsup.domain.callbacks.rules import round_up_to_clean_time
from headsup.domain.kinds import KINDS, NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.tickets.models import Ticket
from headsup.domain.visits.models import Visit
from headsup.platform.errors import InvalidRecord

NO_LONGER_TRUE = "no_longer_true"
ALREADY_TOLD = "already_told"
NOTHING_TO_CORRECT = "nothing_to_correct"
SUPERSEDED = "superseded"

# A callback apology queued by the sweep reaches delivery seconds later: its deadline, computed at
# the sweep's time, is kept (the team's escalation names the same one) unless the send is later
# than this. A notice that waited longer gets a new deadline.
QUEUE_HOP_ALLOWANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Stale:
    """Why a notice must not be sent: `reason` is one of the constants above."""

    reason: str
    detail: str

    @property
    def outcome_reason(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True)
class ToldNotice:
    """A notice of the same story about the same item that reached the customer earlier."""

    notice_id: str
    kind: NoticeKind
    facts: Mapping[str, str]  # as it stated them when sent
    sent_at: datetime


Checked = NoticeRequest | Stale


# -- 1. the source ----------------------------------------------------------------------------

_MODELS: dict[SourceTable, type[Bill | Callback | Ticket | Visit]] = {
    SourceTable.BILLS: Bill,
    SourceTable.CALLBACKS: Callback,
    SourceTable.TICKETS: Ticket,
    SourceTable.VISITS: Visit,
}
_NOUNS = {
    SourceTable.BILLS: "bill",
    SourceTable.CALLBACKS: "callback",
    SourceTable.TICKETS: "ticket",
    SourceTable.VISITS: "visit",
}


def source_key_fields(table: SourceTable) -> tuple[str, ...]:
    """The key attributes of a source table's items, in key order."""
    return _MODELS[table].key_fields


def observed_facts(table: SourceTable, item: Mapping[str, Any]) -> dict[str, str]:
    """Every fact a notice may state about `item`, as canonical text. Raises InvalidRecord."""
    record = _MODELS[table].from_item(dict(item))
    if isinstance(record, Bill):
        return {"amount": canonical(record.amount), "currency": record.currency}
    if isinstance(record, Callback):
        return {"status": record.status, "promised_at": canonical(record.promised_at)}
    if isinstance(record, Ticket):
        facts = {"status": record.status, "updated_at": canonical(record.updated_at)}
        if record.solved_at is not None:
            facts["solved_at"] = canonical(record.solved_at)
        return facts
    return {
        "status": record.status,
        "open": "yes" if record.is_open else "no",
        "eta": canonical(record.eta),
    }


def against_source(request: NoticeRequest, item: Mapping[str, Any] | None) -> Checked:
    """`request` if every fact it states about its item holds in `item` (the item now)."""
    assertion = request.asserts
    if assertion is None:
        return request
    noun = _NOUNS[assertion.table]
    if item is None:
        return Stale(NO_LONGER_TRUE, f"{noun} deleted")
    try:
        now_true = observed_facts(assertion.table, item)
    except InvalidRecord as exc:
        return Stale(NO_LONGER_TRUE, f"{noun} now breaks the data contract ({', '.join(exc.problems)})")
    changed = sorted(name for name, value in assertion.facts.items() if now_true.get(name) != value)
    if not changed:
        return request
    return Stale(NO_LONGER_TRUE, _what_changed(noun, now_true, changed, item))


# What a changed fact means, in a skip reason (statuses are named as they are).
_CHANGES = {
    "amount": "amount changed",
    "currency": "currency changed",
    "promised_at": "re-promised",
    "updated_at": "updated",
    "solved_at": "solved again",
    "eta": "ETA moved",
}


def _what_changed(noun: str, now_true: Mapping[str, str], changed: list[str], item: Mapping[str, Any]) -> str:
    """`callback done`, `ticket solved at 06:10 UTC`, `bill amount changed`: statuses and times
    only (a bill's amounts stay in the ledger's asserted facts, not in a reason that is logged)."""
    if "status" in changed or "open" in changed:
        detail = f"{noun} {now_true['status']}"
    else:
        detail = f"{noun} {' and '.join(_CHANGES.get(name, f'{name} changed') for name in changed)}"
    at = _hh_mm(item.get("updated_at") or (now_true.get("solved_at") if "solved_at" in changed else None))
    return f"{detail} at {at}" if at else detail


def _hh_mm(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else f"{moment.astimezone(UTC):%H:%M} UTC"


# -- 2. the promises --------------------------------------------------------------------------


def keep_promises(
    request: NoticeRequest, *, now: datetime, zone: Callable[[], ZoneInfo], reschedule: timedelta
) -> Checked:
    """`request` with no promised time already past when sent at `now`: a callback's new
    deadline moved to at least `reschedule` after `now` (a quarter hour on the customer's clock,
    `zone`); any other passed promise makes it untrue."""
    if request.kind is NoticeKind.CALLBACK_OVERDUE:
        deadline = _moment(request.payload.get("new_deadline"))
        if deadline is not None and (deadline <= now or deadline < now + reschedule - QUEUE_HOP_ALLOWANCE):
            moved = round_up_to_clean_time(now + reschedule, zone())
            request = request.model_copy(
                update={"payload": {**request.payload, "new_deadline": moved.isoformat()}}
            )
    for field in KINDS[request.kind].promises:
        moment = _moment(request.payload.get(field))
        if moment is not None and moment <= now:
            return Stale(NO_LONGER_TRUE, f"the {field.replace('_', ' ')} it gives has passed")
    return request


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return None


# -- 3. what the customer was told ------------------------------------------------------------


def against_told(request: NoticeRequest, told: Sequence[ToldNotice]) -> Checked:
    """`request` as it may go, given `told` (its story's earlier sends about the same item,
    newest first)."""
    assertion = request.asserts
    if assertion is None or assertion.told is Told.ANY:
        return request
    if assertion.told is Told.FIRST:
        if told:
            return Stale(
                ALREADY_TOLD, f"notice {told[0].notice_id} reached the customer; a correction follows it"
            )
        return request
    if not told:
        return Stale(NOTHING_TO_CORRECT, "nothing about it reached the customer before")
    return _correcting(request, told[0])


def _correcting(request: NoticeRequest, last: ToldNotice) -> Checked:
    """A correction of `last`: it names what `last` said, and goes only if that differs."""
    payload = dict(request.payload)
    if request.kind is NoticeKind.BILL_CORRECTION:
        told_amount = last.facts.get("amount")
        if told_amount is not None:
            payload["told_amount"] = told_amount
        if Decimal(str(payload["told_amount"])) == Decimal(str(payload["corrected_amount"])):
            return Stale(ALREADY_TOLD, f"notice {last.notice_id} gave the customer the right figure")
    elif request.kind is NoticeKind.VISIT_ETA_EARLIER:
        told_eta = last.facts.get("eta")
        if told_eta is not None:
            payload["told_eta"] = told_eta
        if _moment(payload["told_eta"]) <= _moment(payload["new_eta"]):  # type: ignore[operator]
            return Stale(ALREADY_TOLD, f"notice {last.notice_id} gave no later time than this")
    return request.model_copy(update={"payload": payload})
