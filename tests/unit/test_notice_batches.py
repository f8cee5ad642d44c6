"""Notice requests sent ten at a time (SendMessageBatch): what SQS does not take fails its own
source (a stream record, a due item) and no other, and is never lost silently."""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from headsup.adapters.due_items import DueRecord, ItemType, ReadStats
from headsup.adapters.notice_queue import MAX_BATCH, NoticeOutbox, SqsNoticeQueue
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest
from headsup.domain.visits.rules import VisitPolicy
from headsup.logic.due_index import DueIndexer
from headsup.logic.sweep import Sweep, SweepReport
from headsup.logic.visits import VisitDetector
from headsup.platform.batch import StreamFunction, process_stream
from headsup.platform.errors import InvalidRecord

from emulator.fakes import InMemoryCustomers, InMemoryNoticeQueue
from tests.unit.builders import notice_request, sweep_policies

CONTEXT = cast(LambdaContext, SimpleNamespace(function_name="test"))
ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")  # SendMessageBatch's rule for entry ids
_serializer = TypeSerializer()


def requests(count: int) -> list[NoticeRequest]:
    return [notice_request(customer_id=f"cust-{n:03d}") for n in range(count)]


# ------------------------------------------------------------------------------ the SQS adapter


@dataclass
class StubSqs:
    """SQS's answers to SendMessage and SendMessageBatch, checking what SQS checks of a batch."""

    fail: dict[str, int] = field(default_factory=dict)  # notice id -> how many more times it fails
    malformed: set[str] = field(default_factory=set)  # notice ids SQS refuses (SenderFault)
    errors: int = 0  # calls that raise, before the next ones answer
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    single: list[dict[str, Any]] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)  # notice ids, in the order SQS took them

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.single.append(request)
        return {"MessageId": "m-1"}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [entry["Id"] for entry in Entries]
        assert 1 <= len(Entries) <= MAX_BATCH
        assert len(set(ids)) == len(ids)
        assert all(ENTRY_ID.match(i) for i in ids)
        self.batches.append(Entries)
        if self.errors:
            self.errors -= 1
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": ""}}, "SendMessageBatch")
        successful, failed = [], []
        for entry in Entries:
            notice_id = entry["MessageAttributes"]["notice_id"]["StringValue"]
            if notice_id in self.malformed:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidParameterValue"})
            elif self.fail.get(notice_id, 0) > 0:
                self.fail[notice_id] -= 1
                failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError"})
            else:
                self.queued.append(notice_id)
                successful.append({"Id": entry["Id"], "MessageId": f"m-{len(self.queued)}"})
        return {"Successful": successful, "Failed": failed}


def sqs_queue(sqs: StubSqs, sleeps: list[float] | None = None) -> SqsNoticeQueue:
    pauses = [] if sleeps is None else sleeps
    return SqsNoticeQueue("https://sqs/queue", client=cast(Any, sqs), sleep=pauses.append)


def test_requests_go_ten_a_call_with_the_body_and_attributes_of_a_single_send() -> None:
    # Given 23 requests
    sqs, batch = StubSqs(), requests(23)

    # When they are put as a batch
    failed = sqs_queue(sqs).put_batch(batch)

    # Then three calls took them all, in order
    assert failed == set()
    assert [len(entries) for entries in sqs.batches] == [10, 10, 3]
    assert sqs.queued == [r.notice_id for r in batch]
    # ... each entry as SendMessage would have sent it
    sqs_queue(sqs).put(batch[0])
    [single] = sqs.single
    first = sqs.batches[0][0]
    assert (first["MessageBody"], first["MessageAttributes"]) == (
        single["MessageBody"],
        single["MessageAttributes"],
    )


def test_an_entry_sqs_fails_is_sent_again_alone_after_a_short_pause() -> None:
    batch = requests(3)
    sqs, sleeps = StubSqs(fail={batch[1].notice_id: 2}), []

    failed = sqs_queue(sqs, sleeps).put_batch(batch)

    assert failed == set()
    assert [len(entries) for entries in sqs.batches] == [3, 1, 1]
    assert sorted(sqs.queued) == sorted(r.notice_id for r in batch)
    assert sleeps == [0.05, 0.1]


def test_an_entry_that_keeps_failing_is_given_back_after_three_attempts_and_the_rest_go() -> None:
    batch = requests(12)
    sqs = StubSqs(fail={batch[11].notice_id: 99})

    failed = sqs_queue(sqs).put_batch(batch)

    assert failed == {11}
    assert [len(entries) for entries in sqs.batches] == [10, 2, 1, 1]
    assert sqs.queued == [r.notice_id for r in batch[:11]]


def test_an_entry_sqs_refuses_as_malformed_is_not_sent_again() -> None:
    batch = requests(2)
    sqs = StubSqs(malformed={batch[0].notice_id})

    assert sqs_queue(sqs).put_batch(batch) == {0}
    assert len(sqs.batches) == 1


@pytest.mark.parametrize(("errors", "failed"), [(2, set()), (3, set(range(10)))])
def test_a_call_that_raises_is_made_again_and_then_given_back_whole(errors: int, failed: set[int]) -> None:
    # Given a first call of ten that raises `errors` times, then a second of two
    batch = requests(12)
    sqs = StubSqs(errors=errors)

    # Then its entries go on a later attempt, or are given back (never taken as queued)
    assert sqs_queue(sqs).put_batch(batch) == failed
    assert sqs.queued[-2:] == [r.notice_id for r in batch[10:]]


# ------------------------------------------------------------------------------ the outbox


def test_a_request_not_queued_fails_its_own_source_only() -> None:
    batch = requests(3)
    outbox = NoticeOutbox(InMemoryNoticeQueue(refuse={batch[1].notice_id: 1}))
    for source, request in zip(["rec-1", "rec-2", "rec-3"], batch, strict=True):
        with outbox.on_behalf_of(source):
            outbox.put(request)

    assert outbox.waiting == 3
    assert outbox.flush() == {"rec-2"}
    assert outbox.waiting == 0
    assert outbox.flush() == set()  # nothing left to send


def test_a_request_put_on_behalf_of_no_source_is_refused() -> None:
    outbox = NoticeOutbox(InMemoryNoticeQueue())

    with pytest.raises(RuntimeError, match="no source"):
        outbox.put(requests(1)[0])


def test_what_an_unfinished_batch_left_is_discarded() -> None:
    queue = InMemoryNoticeQueue()
    outbox = NoticeOutbox(queue)
    with outbox.on_behalf_of("rec-1"):
        outbox.put(requests(1)[0])

    outbox.discard()

    assert (outbox.flush(), queue.queued) == (set(), [])


# ------------------------------------------------------------------------------ stream records


def stream_record(sequence: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Keys": {"id": {"S": str(new.get("visit_id", new.get("customer_id")))}},
        "NewImage": {k: _serializer.serialize(v) for k, v in new.items()},
        "SequenceNumber": sequence,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        data["OldImage"] = {k: _serializer.serialize(v) for k, v in old.items()}
    return {
        "eventID": f"event-{sequence}",
        "eventName": "MODIFY" if old is not None else "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": data,
    }


def failed_records(response: Any) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


TEST_CHANGES = StreamFunction(counted_as="TestChanges", invalid=InvalidRecord, rejected="Rejected record")


def test_a_record_whose_notice_was_not_queued_is_reported_alone_with_the_records_that_raised() -> None:
    # Given three records, each calling for one notice, and a fourth that breaks the contract
    batch = requests(3)
    queue = InMemoryNoticeQueue(refuse={batch[1].notice_id: 1})
    outbox = NoticeOutbox(queue)
    by_customer = {r.customer_id: r for r in batch}
    event = {
        "Records": [
            *(stream_record(str(100 * (n + 1)), {"customer_id": r.customer_id}) for n, r in enumerate(batch)),
            stream_record("400", {"customer_id": "broken"}),
        ]
    }

    def on_change(change: Any) -> None:
        customer_id = change.new_image["customer_id"]
        if customer_id == "broken":
            raise InvalidRecord({"customer_id": customer_id}, ["amount: missing"])
        outbox.put(by_customer[customer_id])

    # When the batch is processed
    response = process_stream(event, CONTEXT, TEST_CHANGES, on_change, output=outbox)

    # Then the notices went in one send, and only the record whose notice SQS refused failed with
    # the broken one
    assert queue.batches == [3]
    assert sorted(failed_records(response), key=int) == ["200", "400"]
    assert [r.notice_id for r in queue.queued] == [batch[0].notice_id, batch[2].notice_id]


# ------------------------------------------------------------------------------ the visit detector


@dataclass
class InMemoryVisitState:
    """DueItemsTable's visit records, as DynamoDueItems reads and writes them."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: int = 0
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def prefetch_states(self, item_type: Any, item_ids: Iterable[str]) -> None:
        """Nothing to save in memory."""

    def state_of(self, item_type: Any, item_id: str) -> dict[str, Any]:
        self.reads += 1
        return dict(self.states.get(item_id, {}))

    def track(self, item_type: Any, item_id: str, due_at: datetime | None, state: dict[str, Any]) -> object:
        self.writes.append((item_id, state))
        kept = self.states.setdefault(item_id, {})
        for name, value in state.items():
            if value is None:
                kept.pop(name, None)
            elif name != "expires_at":
                kept[name] = value
        return {}


WINDOW_START = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)
WINDOW_END = WINDOW_START + timedelta(hours=2)
VISITS = StreamFunction(counted_as="TestVisits", invalid=InvalidRecord, rejected="Rejected visit record")


def visit(visit_id: str = "v-1", **overrides: Any) -> dict[str, Any]:
    return {
        "visit_id": visit_id,
        "customer_id": f"cust-{visit_id}",
        "window_start": WINDOW_START.isoformat(),
        "window_end": WINDOW_END.isoformat(),
        "eta": (WINDOW_START + timedelta(minutes=30)).isoformat(),
        "status": "scheduled",
        "technician_name": "Carlos Mendes",
        **overrides,
    }


def late(minutes: int) -> str:
    return (WINDOW_END + timedelta(minutes=minutes)).isoformat()


@dataclass
class Visits:
    state: InMemoryVisitState = field(default_factory=InMemoryVisitState)
    queue: InMemoryNoticeQueue = field(default_factory=InMemoryNoticeQueue)

    def __post_init__(self) -> None:
        self.detector = VisitDetector(
            self.state, NoticeOutbox(self.queue), VisitPolicy(slip=timedelta(minutes=15))
        )

    def run(self, *records: dict[str, Any]) -> list[str]:
        """The records through the detector as the handler runs them; the records that failed."""

        def on_change(change: Any) -> None:
            self.detector.on_visit_change(change.new_image, change.old_image, sequence=change.sequence)

        event = {"Records": list(records)}
        return failed_records(process_stream(event, CONTEXT, VISITS, on_change, output=self.detector))

    def kinds(self) -> list[tuple[str, NoticeKind]]:
        return [(r.payload["visit_id"], r.kind) for r in self.queue.queued]


def notice_id_for(new: dict[str, Any], old: dict[str, Any]) -> str:
    """The id of the one notice this change of a visit calls for."""
    probe = Visits()
    with probe.detector.on_behalf_of("probe"):
        [notice] = probe.detector.on_visit_change(new, old)
    return notice.notice_id


def test_a_visit_whose_notice_was_not_queued_keeps_its_old_state_and_gets_it_on_the_retry() -> None:
    # Given two visits setting off in one batch, and SQS refusing the first one's notice once
    visits = Visits()
    batch = [
        stream_record("100", visit("v-1", status="en_route"), visit("v-1")),
        stream_record("200", visit("v-2", status="en_route"), visit("v-2")),
    ]
    visits.queue.refuse = {notice_id_for(visit("v-1", status="en_route"), visit("v-1")): 1}

    # When the batch is processed, only its record fails, and v-1's state is not written
    assert visits.run(*batch) == ["100"]
    assert [visit_id for visit_id, _ in visits.state.writes] == ["v-2"]

    # Then Lambda's retry from that record queues it (v-2's record, a replay now, changes nothing)
    assert visits.run(*batch) == []
    assert visits.kinds() == [("v-2", NoticeKind.VISIT_ON_THE_WAY), ("v-1", NoticeKind.VISIT_ON_THE_WAY)]
    assert visits.state.states["v-1"]["stream_seq"] == "100"


def test_records_of_one_visit_in_a_batch_follow_one_another_and_write_its_state_once() -> None:
    # Given a visit running 20 minutes late, then 10 minutes more, in one batch
    visits = Visits()
    first, second = visit(eta=late(20)), visit(eta=late(30))

    assert visits.run(stream_record("100", first, visit()), stream_record("200", second, first)) == []

    # Then one "running late" (10 more minutes is under the 15-minute slip), one read, one write
    assert visits.kinds() == [("v-1", NoticeKind.VISIT_RUNNING_LATE)]
    assert visits.state.reads == 1
    [(visit_id, state)] = visits.state.writes
    assert (visit_id, state["stream_seq"], state["late_news"]) == ("v-1", "200", 1)


def test_a_later_record_of_a_visit_whose_notice_was_not_queued_fails_with_it() -> None:
    visits = Visits()
    on_the_way = visit(status="en_route")
    visits.queue.refuse = {notice_id_for(on_the_way, visit()): 1}

    failed = visits.run(
        stream_record("100", on_the_way, visit()),
        stream_record("200", {**on_the_way, "eta": late(5)}, on_the_way),
    )

    # Its state follows from the first record's: neither is written, both are retried
    assert failed == ["100", "200"]
    assert visits.state.writes == []


# ------------------------------------------------------------------------------ the sweep

SWEEP_AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class InMemoryDueItems:
    records: list[DueRecord]
    advanced: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)

    def due(self, now: datetime, stats: ReadStats) -> Iterator[DueRecord]:
        yield from [r for r in self.records if r.item_key not in self.advanced + self.forgotten]

    def advance(self, record: DueRecord, next_due: datetime | None, state: dict[str, Any]) -> bool:
        self.advanced.append(record.item_key)
        return True

    def quarantine(self, record: DueRecord, reason: str) -> None:
        raise AssertionError("nothing here breaks the contract")

    def forget(self, record: DueRecord) -> None:
        self.forgotten.append(record.item_key)


@dataclass
class Tickets:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, item_id: str) -> dict[str, Any] | None:
        return self.items.get(item_id)


def held(n: int) -> DueRecord:
    request = notice_request(customer_id=f"cust-{n:03d}")
    return DueRecord(
        f"held#{n}", "held", str(n), "2026-11-24T11:00:00Z", {"request": request.model_dump_json()}
    )


def stale_ticket(n: int) -> tuple[DueRecord, dict[str, Any]]:
    """A ticket 73 hours without an update (normal: 72 h): a notice to the customer and one to the team."""
    updated = SWEEP_AT - timedelta(hours=73)
    item = {
        "ticket_id": f"t-{n}",
        "customer_id": f"cust-{n:03d}",
        "subject": "Invoice shows the wrong address",
        "status": "open",
        "priority": "normal",
        "created_at": (updated - timedelta(days=1)).isoformat(),
        "updated_at": updated.isoformat(),
    }
    item_type: ItemType = "ticket"
    return DueRecord(f"ticket#t-{n}", item_type, f"t-{n}", "2026-11-24T11:00:00Z"), item


def sweep(due_items: InMemoryDueItems, queue: InMemoryNoticeQueue, tickets: Tickets | None = None) -> Sweep:
    return Sweep(
        due_items=due_items,
        sources={"ticket": tickets or Tickets()},
        customers=InMemoryCustomers(),
        queue=NoticeOutbox(queue),
        **sweep_policies(),
    )


def test_held_notices_are_released_ten_a_send_and_one_sqs_refused_stays_due() -> None:
    # Given 23 held notices due, and SQS refusing one of them
    records = [held(n) for n in range(23)]
    refused = notice_request(customer_id="cust-007").notice_id
    due_items, queue = InMemoryDueItems(records), InMemoryNoticeQueue(refuse={refused: 1})

    # When the sweep runs
    report: SweepReport = sweep(due_items, queue).run(SWEEP_AT)

    # Then three sends released them, and every item but the refused one was forgotten
    assert queue.batches == [10, 10, 3]
    assert (report.released, report.failed, len(report.notices)) == (22, 1, 22)
    assert "held#7" not in due_items.forgotten
    assert len(due_items.forgotten) == 22

    # ... and the next sweep releases it
    again = sweep(due_items, queue).run(SWEEP_AT + timedelta(minutes=5))
    assert (again.released, again.failed, due_items.forgotten[-1]) == (1, 0, "held#7")


def test_an_items_notices_go_in_one_send_and_it_advances_only_once_sqs_took_them() -> None:
    # Given six stale tickets, two notices each, and SQS refusing one notice of the fourth
    tickets, records = Tickets(), []
    for n in range(6):
        record, item = stale_ticket(n)
        tickets.items[record.item_id] = item
        records.append(record)
    due_items, queue = InMemoryDueItems(records), InMemoryNoticeQueue()
    probe = sweep(InMemoryDueItems([records[3]]), InMemoryNoticeQueue(), tickets).run(SWEEP_AT)
    queue.refuse = {probe.notices[0].notice_id: 1}

    # When the sweep runs
    report = sweep(due_items, queue, tickets).run(SWEEP_AT)

    # Then no send split an item's notices, and the fourth ticket did not advance
    assert queue.batches == [10, 2]
    assert due_items.advanced == ["ticket#t-0", "ticket#t-1", "ticket#t-2", "ticket#t-4", "ticket#t-5"]
    assert (report.failed, len(report.notices)) == (1, 10)


# ------------------------------------------------------------------------------ the due indexer


@dataclass
class RecordingIndex:
    calls: list[tuple[str, str, datetime | None]] = field(default_factory=list)

    def schedule(
        self, item_type: ItemType, item_id: str, due_at: datetime, *, promise: datetime | None = None
    ) -> None:
        self.calls.append(("schedule", item_id, due_at))

    def unschedule(self, item_type: ItemType, item_id: str) -> None:
        self.calls.append(("unschedule", item_id, None))


PROMISED = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def callback(**overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": "cb-1",
        "customer_id": "cust-ana",
        "promised_at": PROMISED.isoformat(),
        "status": "pending",
        "topic": "router keeps dropping the connection",
        **overrides,
    }


def indexed(change: Callable[[DueIndexer], None]) -> list[tuple[str, str, datetime | None]]:
    index = RecordingIndex()
    policy = sweep(InMemoryDueItems([]), InMemoryNoticeQueue())
    change(DueIndexer(index, policy.callback_policy, policy.ticket_policy))
    return index.calls


KEYS = {"callback_id": "cb-1"}


@pytest.mark.parametrize(
    ("new", "old"),
    [
        (callback(topic="the router, again", agent_name="Sam"), callback()),  # nothing due moves
        (callback(status="done", topic="solved"), callback(status="done")),  # out of the index already
    ],
)
def test_a_change_that_moves_nothing_the_index_holds_writes_nothing(
    new: dict[str, Any], old: dict[str, Any]
) -> None:
    assert indexed(lambda indexer: indexer.on_change("MODIFY", KEYS, new, old)) == []


@pytest.mark.parametrize(
    ("new", "old", "call"),
    [
        (callback(), None, "schedule"),  # new
        (callback(promised_at=(PROMISED + timedelta(hours=1)).isoformat()), callback(), "schedule"),
        (callback(status="done"), callback(), "unschedule"),
        (
            callback(),
            callback(promised_at="24/11/2026 15:00"),
            "schedule",
        ),  # the broken one was never indexed
    ],
)
def test_a_change_that_moves_what_the_index_holds_is_written(
    new: dict[str, Any], old: dict[str, Any] | None, call: str
) -> None:
    change = "MODIFY" if old is not None else "INSERT"
    [(done, item_id, _)] = indexed(lambda indexer: indexer.on_change(change, KEYS, new, old))
    assert (done, item_id) == (call, "cb-1")
