"""One sweep: act on every item that is due at `now`, and schedule what comes next.

`now` is the scheduled event's own time, never the clock, so a sweep can be replayed and two
sweeps with the same or overlapping times decide the same things (and their notices carry the
same ids, so delivery sends them once).

Notices are sent ten at a time (SendMessageBatch) and an item's work is recorded (advanced,
released, forgotten) only once SQS took its notices: an item whose notices it did not take stays
due, exactly as if its work had failed, and the next sweep decides it again.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from headsup.adapters.customers import CustomerDirectory
from headsup.adapters.due_items import DueItems, DueRecord, ReadStats
from headsup.adapters.notice_queue import MAX_BATCH, NoticeOutbox
from headsup.domain.callbacks import rules as callback_rules
from headsup.domain.callbacks.models import Callback
from headsup.domain.customer import InvalidCustomer
from headsup.domain.notices import NoticeRequest
from headsup.domain.tickets import rules as ticket_rules
from headsup.domain.tickets.models import Ticket
from headsup.domain.visits import rules as visit_rules
from headsup.domain.visits.models import Visit
from headsup.platform.errors import InvalidRecord, describe_error
from headsup.platform.observability import logger, metrics


class SourceItems(Protocol):
    """The business's table a due item comes from (CallbacksTable, TicketsTable)."""

    def get(self, item_id: str) -> dict[str, Any] | None: ...


@dataclass
class SweepReport:
    now: datetime
    due: int = 0
    notices: list[NoticeRequest] = field(default_factory=list)
    quarantined: int = 0
    failed: int = 0
    gone: int = 0
    released: int = 0  # held notices queued again
    stopped_early: bool = False
    reads: ReadStats = field(default_factory=ReadStats)

    def summary(self) -> dict[str, Any]:
        """What the sweep did, in counts (logged, and answered by the function)."""
        return {
            "now": self.now.isoformat(),
            "due": self.due,
            "notices": len(self.notices),
            "quarantined": self.quarantined,
            "failed": self.failed,
            "released": self.released,
            "items_read": self.reads.items_read,
        }


@dataclass(frozen=True)
class _Decided:
    """One due item's notices, and the write that records its work once they are queued."""

    record: DueRecord
    notices: list[NoticeRequest]
    write: Callable[[], object]
    released: bool = False  # a held notice, queued again


@dataclass(frozen=True, kw_only=True, eq=False)
class Sweep:
    """Its adapters are passed in: the handler's real ones, or in-memory fakes."""

    due_items: DueItems
    sources: Mapping[str, SourceItems]  # by item type: where each kind of due item comes from
    customers: CustomerDirectory
    queue: NoticeOutbox
    callback_policy: callback_rules.CallbackPolicy
    ticket_policy: ticket_rules.TicketPolicy
    default_zone: ZoneInfo

    def run(self, now: datetime, time_left: Callable[[], timedelta] | None = None) -> SweepReport:
        report = SweepReport(now=now)
        self.queue.discard()  # what a sweep cut short by its timeout left: that sweep decides again
        waiting: list[_Decided] = []
        for record in self.due_items.due(now, report.reads):
            if time_left is not None and time_left() < _SAFETY_MARGIN:
                # What is left stays due and is picked up by the next sweep.
                report.stopped_early = True
                logger.warning("Sweep stopped before its timeout", extra={"due_seen": report.due})
                break
            report.due += 1
            decided = self._decide(record, now, report)
            if decided is None:
                continue
            if not decided.notices:
                self._record(decided, report)
                continue
            if self.queue.waiting + len(decided.notices) > MAX_BATCH:
                self._settle(waiting, report)  # one full SendMessageBatch at a time
                waiting = []
            with self.queue.on_behalf_of(record.item_key):
                for notice in decided.notices:
                    self.queue.put(notice)
            waiting.append(decided)
        self._settle(waiting, report)
        metrics.add_metric(name="SweepDueItems", unit="Count", value=report.due)
        metrics.add_metric(name="SweepItemsRead", unit="Count", value=report.reads.items_read)
        logger.info("Sweep finished", extra=report.summary())
        return report

    def _decide(self, record: DueRecord, now: datetime, report: SweepReport) -> _Decided | None:
        """What the item calls for; None when there is nothing more to do with it in this sweep."""
        ids = {"item_key": record.item_key, "due_at": record.due_at}
        if record.item_type == "held":
            return self._release(record, report)
        try:
            source = self.sources[record.item_type].get(record.item_id)
            if source is None:
                self.due_items.forget(record)  # the business deleted it
                report.gone += 1
                return None
            if record.item_type == "callback":
                notices, next_due, state = self._callback(source, record, now)
            elif record.item_type == "visit":
                notices, next_due, state = self._visit(source, record, now)
            else:
                notices, next_due, state = self._ticket(source, now)
        except InvalidRecord as exc:
            logger.error(
                "Due item breaks the data contract; taken out of the sweep",
                extra={**ids, "key": exc.key, "problems": exc.problems},
            )
            metrics.add_metric(name="SweepItemsQuarantined", unit="Count", value=1)
            self.due_items.quarantine(record, "; ".join(exc.problems))
            report.quarantined += 1
            return None
        except Exception as exc:  # noqa: BLE001 - one item's failure must not stop the sweep; it stays due
            _failed(record, exc, report)
            return None
        return _Decided(record, notices, lambda: self.due_items.advance(record, next_due, state))

    def _settle(self, waiting: list[_Decided], report: SweepReport) -> None:
        """Queue the waiting items' notices; record the work of the items whose notices SQS took."""
        not_queued = self.queue.flush()
        for decided in waiting:
            if decided.record.item_key in not_queued:
                _failed(decided.record, None, report)
            else:
                self._record(decided, report)

    def _record(self, decided: _Decided, report: SweepReport) -> None:
        try:
            decided.write()
        except Exception as exc:  # noqa: BLE001 - one item's failure must not stop the sweep; it stays due
            _failed(decided.record, exc, report)
            return
        report.notices.extend(decided.notices)
        report.released += decided.released
        if decided.notices:
            logger.debug(
                "Due item acted on",
                extra={
                    "item_key": decided.record.item_key,
                    "due_at": decided.record.due_at,
                    "notices": [{"kind": n.kind, "notice_id": n.notice_id} for n in decided.notices],
                },
            )

    def _release(self, record: DueRecord, report: SweepReport) -> _Decided | None:
        """A notice the delivery policy held (quiet hours, frequency cap) may go now: queue it
        again; delivery claims it from the ledger's `held` and decides afresh."""
        try:
            request = NoticeRequest.model_validate_json(record.state["request"])
        except Exception as exc:  # noqa: BLE001 - it stays due; the next sweep tries again
            _failed(record, exc, report, "Held notice not released")
            return None
        return _Decided(record, [request], lambda: self.due_items.forget(record), released=True)

    def _callback(
        self, source: dict[str, Any], record: DueRecord, now: datetime
    ) -> tuple[list[NoticeRequest], datetime | None, dict[str, Any]]:
        callback = Callback.from_item(source)
        step = callback_rules.on_due(
            callback,
            _promise_state(record.state),
            now,
            self.callback_policy,
            lambda: self._zone_of(callback),
        )
        state = {
            "promise": step.state.promised_at.astimezone(UTC).isoformat() if step.state.promised_at else None,
            "level": step.state.level,
            "deadline": step.state.deadline.isoformat() if step.state.deadline else None,
        }
        return step.notices, step.next_due, state

    def _ticket(
        self, source: dict[str, Any], now: datetime
    ) -> tuple[list[NoticeRequest], datetime | None, dict[str, Any]]:
        step = ticket_rules.on_due(Ticket.from_item(source), now, self.ticket_policy)
        return step.notices, step.next_due, {}

    def _visit(
        self, source: dict[str, Any], record: DueRecord, now: datetime
    ) -> tuple[list[NoticeRequest], datetime | None, dict[str, Any]]:
        late = record.state.get("late_eta")
        step = visit_rules.on_window_end(
            Visit.from_item(source),
            datetime.fromisoformat(late) if late else None,
            now,
            news=int(record.state.get("late_news", 0)),
        )
        late_eta = step.late_eta.astimezone(UTC).isoformat() if step.late_eta else None
        return step.notices, step.check_at, {"late_eta": late_eta, "late_news": step.news or None}

    def _zone_of(self, callback: Callback) -> ZoneInfo:
        try:
            customer = self.customers.get(callback.customer_id)
        except InvalidCustomer:
            customer = None
        if customer is None:
            # The apology is still queued (and dead-lettered by delivery if the customer never
            # turns up, so it is accounted for); the team is escalated either way.
            logger.warning(
                "Unknown customer for an overdue callback; deadline set in the default timezone",
                extra={"callback_id": callback.callback_id, "customer_id": callback.customer_id},
            )
            return self.default_zone
        return customer.zone


_SAFETY_MARGIN = timedelta(seconds=10)


def _failed(
    record: DueRecord,
    exc: Exception | None,
    report: SweepReport,
    message: str = "Due item failed; it stays due for the next sweep",
) -> None:
    error = describe_error(exc) if exc is not None else "its notices could not be queued"
    logger.error(message, extra={"item_key": record.item_key, "due_at": record.due_at, "error": error})
    metrics.add_metric(name="SweepItemsFailed", unit="Count", value=1)
    report.failed += 1


def _promise_state(state: dict[str, Any]) -> callback_rules.PromiseState:
    promise, deadline = state.get("promise"), state.get("deadline")
    return callback_rules.PromiseState(
        promised_at=datetime.fromisoformat(promise) if promise else None,
        level=int(state.get("level", 0)),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
    )
