"""One sweep: act on every item that is due at `now`, and schedule what comes next.

Each shard of DueIndex is swept by a worker of its own, at the same time (threads of the one
invocation), so that a morning's release of held notices goes at the pace of AWS's calls times
the shards rather than of one loop; every worker stops at the time budget and leaves the rest due.

`now` is the scheduled event's own time, never the clock, so a sweep can be replayed and two
sweeps with the same or overlapping times decide the same things (and their notices carry the
same ids, so delivery sends them once).

Notices are sent ten at a time (SendMessageBatch) and an item's work is recorded (advanced,
released, forgotten) only once SQS took its notices: an item whose notices it did not take stays
due, exactly as if its work had failed, and the next sweep decides it again.
"""

import contextvars
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from headsup.adapters.customers import CustomerDirectory
from headsup.adapters.due_items import DueItems, DueRecord, ReadStats, ShardedDueItems
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
    shards: int = 0  # swept, each by one worker
    shards_stopped: int = 0  # left unfinished at the time budget: their rest stays due
    shards_failed: int = 0  # broken off by an error: their rest stays due

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

    def add(self, part: "SweepReport") -> None:
        """Count in what one shard's worker did."""
        self.due += part.due
        self.notices.extend(part.notices)
        self.quarantined += part.quarantined
        self.failed += part.failed
        self.gone += part.gone
        self.released += part.released
        self.stopped_early |= part.stopped_early
        self.reads.queries += part.reads.queries
        self.reads.items_read += part.reads.items_read
        self.shards += part.shards
        self.shards_stopped += part.shards_stopped
        self.shards_failed += part.shards_failed


class ShardsNotSwept(Exception):
    """A shard's sweep broke off (its query failed, say): what it did not reach stays due, and the
    invocation fails, so that EventBridge tries it again and the errors alarm sees it."""


@dataclass(frozen=True)
class _Decided:
    """One due item's notices, and the write that records its work once they are queued."""

    record: DueRecord
    notices: list[NoticeRequest]
    write: Callable[[], object]
    released: bool = False  # a held notice, queued again


@dataclass(frozen=True)
class _Shard:
    """One worker's part of a sweep: the due items it reads, and where its notices wait."""

    number: int | None  # None: every shard, in turn (due items that are not sharded)
    records: Callable[[ReadStats], Iterator[DueRecord]]
    outbox: Callable[[], NoticeOutbox]


# Threads, not processes: a worker waits on DynamoDB and SQS nearly all the time. One per shard up
# to this many; the shards beyond are taken as workers free up. Each makes its calls on the
# function's clients (boto3 clients are thread-safe), whose connection pools the handler sizes to it.
MAX_WORKERS = 16


@dataclass(frozen=True, kw_only=True, eq=False)
class Sweep:
    """Its adapters are passed in: the handler's real ones, or in-memory fakes.

    Due items read shard by shard (ShardedDueItems) are swept one worker per shard, at the same
    time, given `outboxes`: an outbox holds one batch of notices and is not for threads to share,
    so each worker takes a new one. Otherwise one worker sweeps them all, with `queue`.
    """

    due_items: DueItems
    sources: Mapping[str, SourceItems]  # by item type: where each kind of due item comes from
    customers: CustomerDirectory
    queue: NoticeOutbox | None = None
    outboxes: Callable[[], NoticeOutbox] | None = None
    callback_policy: callback_rules.CallbackPolicy
    ticket_policy: ticket_rules.TicketPolicy
    default_zone: ZoneInfo

    def run(self, now: datetime, time_left: Callable[[], timedelta] | None = None) -> SweepReport:
        shards = self._shards(now)
        stop = threading.Event()  # set when a worker is killed: the others stop too

        def out_of_time() -> bool:
            return stop.is_set() or (time_left is not None and time_left() < _SAFETY_MARGIN)

        workers = max(1, min(len(shards), MAX_WORKERS)) if self.outboxes is not None else 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep") as pool:
            # Each in a copy of this context: what context variables hold (the logger's keys, the
            # local emulator's note of which function is running) is not inherited by threads.
            futures = [
                pool.submit(contextvars.copy_context().run, self._sweep_shard, shard, now, out_of_time)
                for shard in shards
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if len(done) < len(futures):
                stop.set()  # only what is not an Exception gets out of a worker: Lambda ending it
        report = SweepReport(now=now)
        for future in futures:
            report.add(future.result())
        self._finished(report, workers)
        if report.shards_failed:
            raise ShardsNotSwept(f"{report.shards_failed} of {report.shards} shards not swept to the end")
        return report

    def _shards(self, now: datetime) -> list[_Shard]:
        due_items, outbox = self.due_items, self._outbox_maker()
        if not isinstance(due_items, ShardedDueItems):
            return [_Shard(None, lambda stats: due_items.due(now, stats), outbox)]
        return [
            _Shard(n, functools.partial(due_items.due_in, n, now), outbox)
            for n in range(due_items.shard_count)
        ]

    def _outbox_maker(self) -> Callable[[], NoticeOutbox]:
        if self.outboxes is not None:
            return self.outboxes
        if self.queue is None:
            raise TypeError("a Sweep needs a queue or outboxes")
        queue = self.queue
        queue.discard()  # what a sweep cut short by its timeout left: that sweep decides again
        return lambda: queue

    def _sweep_shard(self, shard: _Shard, now: datetime, out_of_time: Callable[[], bool]) -> SweepReport:
        """One worker's sweep of one shard (with its own outbox and report)."""
        report = SweepReport(now=now, shards=1)
        outbox = shard.outbox()
        waiting: list[_Decided] = []
        try:
            if out_of_time():  # a shard a worker takes up late may be left whole
                report.stopped_early, report.shards_stopped = True, 1
                return report
            for record in shard.records(report.reads):
                if out_of_time():
                    # What is left stays due and is picked up by the next sweep.
                    report.stopped_early, report.shards_stopped = True, 1
                    break
                report.due += 1
                decided = self._decide(record, now, report)
                if decided is None:
                    continue
                if not decided.notices:
                    self._record(decided, report)
                    continue
                if outbox.waiting + len(decided.notices) > MAX_BATCH:
                    self._settle(outbox, waiting, report)  # one full SendMessageBatch at a time
                    waiting = []
                with outbox.on_behalf_of(record.item_key):
                    for notice in decided.notices:
                        outbox.put(notice)
                waiting.append(decided)
            self._settle(outbox, waiting, report)
        except Exception as exc:  # noqa: BLE001 - the other shards go on; the sweep fails at the end
            # Notices not yet sent are dropped with the outbox: their items stay due as they were.
            logger.error(
                "Shard not swept to the end", extra={"shard": shard.number, "error": describe_error(exc)}
            )
            report.shards_failed = 1
        return report

    def _finished(self, report: SweepReport, workers: int) -> None:
        """The sweep's one summary line and its metrics (from this thread: Powertools' metric set
        is not for threads to share)."""
        if report.stopped_early:
            logger.warning(
                "Sweep stopped before its timeout",
                extra={"due_seen": report.due, "shards_stopped": report.shards_stopped},
            )
        metrics.add_metric(name="SweepDueItems", unit="Count", value=report.due)
        metrics.add_metric(name="SweepItemsRead", unit="Count", value=report.reads.items_read)
        if report.failed:
            metrics.add_metric(name="SweepItemsFailed", unit="Count", value=report.failed)
        if report.quarantined:
            metrics.add_metric(name="SweepItemsQuarantined", unit="Count", value=report.quarantined)
        logger.info(
            "Sweep finished",
            extra={
                **report.summary(),
                "stopped_early": report.stopped_early,
                "shards": report.shards,
                "workers": workers,
                "shards_failed": report.shards_failed,
            },
        )

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
            self.due_items.quarantine(record, "; ".join(exc.problems))
            report.quarantined += 1
            return None
        except Exception as exc:  # noqa: BLE001 - one item's failure must not stop the sweep; it stays due
            _failed(record, exc, report)
            return None
        return _Decided(record, notices, lambda: self.due_items.advance(record, next_due, state))

    def _settle(self, outbox: NoticeOutbox, waiting: list[_Decided], report: SweepReport) -> None:
        """Queue the waiting items' notices; record the work of the items whose notices SQS took."""
        not_queued = outbox.flush()
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
    report.failed += 1


def _promise_state(state: dict[str, Any]) -> callback_rules.PromiseState:
    promise, deadline = state.get("promise"), state.get("deadline")
    return callback_rules.PromiseState(
        promised_at=datetime.fromisoformat(promise) if promise else None,
        level=int(state.get("level", 0)),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
    )
