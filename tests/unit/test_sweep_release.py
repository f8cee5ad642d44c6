"""The morning release in parallel: each shard of DueIndex swept by a worker of its own, at the same
time, with its own outbox; the report sums the workers'; every worker keeps the time budget; a
notice SQS refused leaves its item due. In memory: due items by shard, a queue that records what
each SendMessageBatch carried."""

import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from headsup.adapters.due_items import DueRecord, ReadStats, ShardedDueItems
from headsup.adapters.notice_queue import NoticeOutbox
from headsup.domain.notices import NoticeRequest
from headsup.logic.sweep import MAX_WORKERS, ShardsNotSwept, Sweep, SweepReport

from emulator.fakes import InMemoryCustomers, LambdaTimedOut
from tests.unit.builders import notice_request, sweep_policies

SWEEP_AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PLENTY = timedelta(seconds=100)
SHORT = timedelta(seconds=5)  # under the sweep's 10 s safety margin


def held(shard: int, n: int) -> DueRecord:
    """A held notice, its key and its customer named after its shard and number ("02-007")."""
    name = f"{shard:02d}-{n:03d}"
    request = notice_request(customer_id=f"cust-{name}")
    return DueRecord(
        f"held#{name}", "held", name, "2026-11-25T08:00:00Z", {"request": request.model_dump_json()}
    )


@dataclass
class ShardedHeld:
    """Held notices in DueIndex's shards. `reading` runs as each shard's query starts (a test can
    make the workers meet there); `forgotten` is what the sweep deleted, in order."""

    shards: dict[int, list[DueRecord]]
    reading: Callable[[int], None] = lambda _shard: None
    forgotten: list[str] = field(default_factory=list)
    read_by: dict[int, str] = field(default_factory=dict)  # shard -> the thread that read it

    @property
    def shard_count(self) -> int:
        return len(self.shards)

    def due(self, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        for shard in self.shards:
            yield from self.due_in(shard, now, stats)

    def due_in(self, shard: int, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        self.read_by[shard] = threading.current_thread().name
        self.reading(shard)
        records = [r for r in self.shards[shard] if r.item_key not in self.forgotten]
        stats.queries += 1
        stats.items_read += len(records)
        yield from records

    def advance(self, record: DueRecord, next_due: datetime | None, state: dict[str, Any]) -> bool:
        raise AssertionError("held notices are forgotten once released, never advanced")

    def quarantine(self, record: DueRecord, reason: str) -> None:
        raise AssertionError("nothing here breaks the contract")

    def forget(self, record: DueRecord) -> None:
        self.forgotten.append(record.item_key)

    def still_due(self) -> set[str]:
        return {r.item_key for records in self.shards.values() for r in records} - set(self.forgotten)


def held_in_shards(shards: int, per_shard: int) -> ShardedHeld:
    return ShardedHeld({s: [held(s, n) for n in range(per_shard)] for s in range(shards)})


@dataclass
class RecordingQueue:
    """NoticeQueue's SendMessageBatch: what each call carried; `refuse` fails a notice id's next sends."""

    batches: list[list[NoticeRequest]] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put_batch(self, requests: list[NoticeRequest]) -> set[int]:
        with self._lock:  # the workers send at the same time; SQS takes each call whole
            failed = {p for p, r in enumerate(requests) if self.refuse.get(r.notice_id, 0) > 0}
            for position in failed:
                self.refuse[requests[position].notice_id] -= 1
            self.batches.append([r for p, r in enumerate(requests) if p not in failed])
            return failed

    def queued(self) -> list[str]:
        return [request.customer_id for batch in self.batches for request in batch]


def sweep(due_items: ShardedHeld, queue: RecordingQueue) -> Sweep:
    return Sweep(
        due_items=due_items,
        sources={},
        customers=InMemoryCustomers(),
        outboxes=lambda: NoticeOutbox(queue),  # type: ignore[arg-type] - put_batch is all it needs
        **sweep_policies(),
    )


def shard_of(customer_id: str) -> str:
    return customer_id.split("-")[1]


def test_the_fakes_are_sharded_due_items() -> None:
    # Otherwise the sweep would read them as one, in one worker, and the tests below prove nothing.
    assert isinstance(held_in_shards(2, 1), ShardedDueItems)


def test_every_shard_is_swept_by_a_worker_of_its_own_at_the_same_time_and_the_report_sums_them() -> None:
    # Given 8 shards of held notices, 13 each, whose queries each wait until all 8 are under way
    due_items, queue = held_in_shards(8, 13), RecordingQueue()
    meet = threading.Barrier(8, timeout=30)  # one after another, the first would wait in vain
    due_items.reading = lambda _shard: meet.wait()

    # When the sweep runs
    report: SweepReport = sweep(due_items, queue).run(SWEEP_AT, time_left=lambda: PLENTY)

    # Then the 8 shards were read by 8 threads, and the report counts all of them
    assert len(set(due_items.read_by.values())) == 8
    assert (report.shards, report.due, report.released, len(report.notices)) == (8, 104, 104, 104)
    assert (report.reads.queries, report.reads.items_read) == (8, 104)
    assert (report.failed, report.stopped_early) == (0, False)
    # ... each notice queued once and each item forgotten once
    assert sorted(queue.queued()) == sorted(f"cust-{s:02d}-{n:03d}" for s in range(8) for n in range(13))
    assert len(due_items.forgotten) == len(set(due_items.forgotten)) == 104
    # ... and no send mixed two shards' notices: each worker had an outbox of its own
    assert all(len({shard_of(r.customer_id) for r in batch}) == 1 for batch in queue.batches)
    assert max(len(batch) for batch in queue.batches) == 10


def test_more_shards_than_workers_are_taken_as_workers_free_up() -> None:
    due_items, queue = held_in_shards(MAX_WORKERS + 4, 3), RecordingQueue()

    report = sweep(due_items, queue).run(SWEEP_AT)

    assert (report.shards, report.released) == (MAX_WORKERS + 4, (MAX_WORKERS + 4) * 3)
    assert len(set(due_items.read_by.values())) <= MAX_WORKERS
    assert due_items.still_due() == set()


INVOKING: ContextVar[str | None] = ContextVar("INVOKING", default=None)


def test_workers_run_in_the_invocations_context() -> None:
    # Given a context variable set by the invocation (as the emulator marks the function running,
    # and Powertools keeps logger keys): threads start with an empty context of their own
    due_items, queue = held_in_shards(4, 2), RecordingQueue()
    seen: list[str | None] = []
    due_items.reading = lambda _shard: seen.append(INVOKING.get())
    token = INVOKING.set("DueSweepFunction")
    try:
        sweep(due_items, queue).run(SWEEP_AT)
    finally:
        INVOKING.reset(token)

    assert seen == ["DueSweepFunction"] * 4


def test_a_notice_sqs_refuses_stays_due_while_the_other_shards_release_theirs() -> None:
    # Given 4 shards of 12 held notices, and SQS refusing one notice in shard 2 in this sweep
    due_items, queue = held_in_shards(4, 12), RecordingQueue()
    queue.refuse = {notice_request(customer_id="cust-02-007").notice_id: 1}

    # When the sweep runs
    report = sweep(due_items, queue).run(SWEEP_AT)

    # Then that item alone stays due, and its notice was not queued
    assert (report.released, report.failed) == (47, 1)
    assert due_items.still_due() == {"held#02-007"}
    assert "cust-02-007" not in queue.queued()

    # ... and the next sweep releases it, once
    again = sweep(due_items, queue).run(SWEEP_AT + timedelta(minutes=5))
    assert (again.released, again.failed) == (1, 0)
    assert due_items.still_due() == set()
    assert sorted(queue.queued()) == sorted(set(queue.queued()))
    assert len(queue.queued()) == 48


def test_every_worker_stops_at_the_time_budget_and_leaves_the_rest_due() -> None:
    # Given 6 shards of 40 held notices, and the time budget running out after 50 have been read
    due_items, queue = held_in_shards(6, 40), RecordingQueue()
    read = 0
    lock = threading.Lock()

    def counting(records: Iterator[DueRecord]) -> Iterator[DueRecord]:
        nonlocal read
        for record in records:
            with lock:
                read += 1
            yield record

    plain = due_items.due_in
    due_items.due_in = lambda shard, now, stats: counting(plain(shard, now, stats))  # type: ignore[method-assign]

    def time_left() -> timedelta:
        return PLENTY if read < 50 else SHORT

    # When the sweep runs
    report = sweep(due_items, queue).run(SWEEP_AT, time_left=time_left)

    # Then it stopped early, and so did every worker whose shard had more: what was released was
    # queued, the rest is due
    assert report.stopped_early
    with_rest = {key.split("#")[1].split("-")[0] for key in due_items.still_due()}
    assert report.shards_stopped == len(with_rest) >= 1
    released = set(due_items.forgotten)
    assert report.released == len(released) < 240
    assert sorted(queue.queued()) == sorted(key.replace("held#", "cust-") for key in released)
    assert len(due_items.still_due()) == 240 - len(released)

    # ... and the next sweep, with time enough, releases the rest, each once
    again = sweep(due_items, queue).run(SWEEP_AT + timedelta(minutes=5), time_left=lambda: PLENTY)
    assert report.released + again.released == 240
    assert due_items.still_due() == set()
    assert len(queue.queued()) == len(set(queue.queued())) == 240


def test_a_shard_whose_query_fails_fails_the_sweep_once_the_others_are_swept() -> None:
    due_items, queue = held_in_shards(4, 5), RecordingQueue()

    def reading(shard: int) -> None:
        if shard == 1:
            raise RuntimeError("ProvisionedThroughputExceededException")

    due_items.reading = reading

    with pytest.raises(ShardsNotSwept):
        sweep(due_items, queue).run(SWEEP_AT)

    assert due_items.still_due() == {f"held#01-{n:03d}" for n in range(5)}
    assert len(queue.queued()) == 15


def test_when_lambda_ends_one_worker_the_others_stop_too() -> None:
    # Given shard 0 killed as it starts, and shard 1 with more due than it could ever get through
    due_items, queue = held_in_shards(2, 1), RecordingQueue()
    killed = threading.Event()
    endless = [held(1, n) for n in range(10_000)]
    due_items.shards[1] = endless

    def reading(shard: int) -> None:
        if shard == 0:
            killed.set()
            raise LambdaTimedOut

    due_items.reading = reading
    plain = due_items.due_in

    def due_in(shard: int, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        for n, record in enumerate(plain(shard, now, stats)):
            if n == 1:
                killed.wait(timeout=30)
            yield record

    due_items.due_in = due_in  # type: ignore[method-assign]

    # When the sweep runs, the end of the invocation reaches the caller ...
    with pytest.raises(LambdaTimedOut):
        sweep(due_items, queue).run(SWEEP_AT)

    # ... and shard 1's worker stopped: it did not go on to the end
    assert len(due_items.forgotten) < len(endless)
