"""The bad-input corpus (tests/corpus/*.json) through the whole pipeline, on moto from template.yaml.

Each case writes one record the business might get wrong (or get right in an unusual way: Arabic,
Hebrew, emoji, a 10,000-character name) into its table, in the same batch as good records, and runs
the pipeline the way Lambda would (streams with retries and bisection, the scheduled sweep, the
notice queue with its redrive policy). Whatever the record, every case proves that:
- no handler raised (no function errors; the sweep reports no failed item);
- the good records' notices were delivered, and nothing of theirs was reported failed;
- a record that breaks the contract is rejected alone: only its own stream records are reported in
  batchItemFailures and parked in DetectorFailureQueue, with one log line naming its key and the
  field at fault;
- a record that got as far as delivery has one outcome in NoticeLedgerTable, with the reason;
- no personal data (names, addresses, phones, free text) reaches the logs;
- emails carry no unescaped <script>, never evaluate Jinja found in data, and no header came from it.
"""

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import time_machine
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from headsup.rendering.renderer import GSM7_BASIC, GSM7_EXTENDED

from emulator import (
    DrainReport,
    DynamoDBStreamSource,
    StreamDeliveryReport,
    sent_emails,
    sent_sms,
)
from sim.pipeline import LocalPipeline
from tests.stack import ANA, BUSINESS_HOURS, JONAS, bill

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TABLES = ("CustomersTable", "BillsTable", "CallbacksTable", "TicketsTable", "VisitsTable")
OUTCOMES = ("write_refused", "rejected", "no_notice", "notice")
# What the corpus must keep covering (each is a tag on at least one case).
REQUIRED_TAGS = frozenset(
    {
        "wrong_type",
        "missing_field",
        "negative_amount",
        "huge_amount",
        "nan",
        "infinity",
        "bad_date",
        "bad_timezone",
        "invalid_email",
        "invalid_phone",
        "long_text",
        "crlf",
        "jinja",
        "html",
        "rtl",
        "emoji",
        "unknown_customer",
    }
)
# Cases that show a known bug in code being changed elsewhere: {case id: what is wrong}. Temporary.
KNOWN_BUGS: dict[str, str] = {}

# The good records written around each case, and when the pipeline runs for each table.
PROMISED = "2026-11-24T16:30:00Z"
CALLBACK_SWEEP = datetime(2026, 11, 24, 16, 50, tzinfo=UTC)
TICKET_SWEEP = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
VISITS_READ = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
GOOD_CUSTOMERS = (ANA, JONAS)
GOOD_IDS = frozenset(str(customer["customer_id"]) for customer in GOOD_CUSTOMERS)
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone")
FREE_TEXT_FIELDS = ("topic", "subject", "delay_reason", "address_hint", "technician_name", "agent_name")
# Every header a notice email may have: anything else could only have come from the data.
EMAIL_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "reply-to",
        "message-id",
        "x-headsup-notice-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_URL = re.compile(r"https?://\S+")


# ------------------------------------------------------------------------------------ the corpus


def _expand(value: Any) -> Any:
    """`{"$repeat": "Data ", "times": 2000}` -> that string repeated: long values stay readable."""
    if isinstance(value, dict):
        if set(value) == {"$repeat", "times"}:
            return str(value["$repeat"]) * int(value["times"])
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def load_corpus() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        # Numbers as Decimal, as DynamoDB stores them (and as boto3 requires).
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)
        cases += [{**_expand(case), "file": path.name} for case in document["cases"]]
    return cases


CASES = load_corpus()


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case["id"] in KNOWN_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case["id"]]))
    return pytest.param(case, id=case["id"], marks=marks)


def test_the_corpus_is_well_formed_and_covers_every_kind_of_bad_input() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert case["table"] in TABLES, case["id"]
        assert case["about"], case["id"]
        expect = case["expect"]
        assert expect["outcome"] in OUTCOMES, case["id"]
        if expect["outcome"] == "rejected":
            assert {"message", "key", "problem"} <= set(expect["log"]), case["id"]
        if expect["outcome"] == "notice":
            assert expect["ledger"], case["id"]
        for before in case.get("before", []):
            assert before["table"] in TABLES, case["id"]
    assert set(KNOWN_BUGS) <= set(ids)
    missing = REQUIRED_TAGS - {tag for case in CASES for tag in case["tags"]}
    assert not missing, f"no case covers {sorted(missing)}"


# ------------------------------------------------------------------------------------ running


@dataclass
class Run:
    streams: list[StreamDeliveryReport] = field(default_factory=list)
    drains: list[DrainReport] = field(default_factory=list)
    sweep: dict[str, Any] | None = None
    write_error: ClientError | None = None


def _write_case(pipeline: LocalPipeline, case: dict[str, Any], run: Run) -> None:
    try:
        pipeline.put_items(case["table"], [case["item"]])
    except ClientError as exc:
        if case["expect"]["outcome"] != "write_refused":
            raise
        run.write_error = exc


def _write_before(pipeline: LocalPipeline, case: dict[str, Any]) -> None:
    for before in case.get("before", []):
        pipeline.put_items(before["table"], [before["item"]])


def run_bills(pipeline: LocalPipeline, case: dict[str, Any]) -> Run:
    """Good increases for cust-ana and cust-jonas, with the case in the middle of the batch. A
    customer case gets its own increase (100 -> 150 USD) in the same batch."""
    run = Run()
    customer_id = case["item"].get("customer_id") if case["table"] == "CustomersTable" else None
    pipeline.put_bills(
        [bill("cust-ana", "2026-10", "100"), bill("cust-jonas", "2026-10", "40", currency="EUR")]
    )
    _write_before(pipeline, case)
    if case["table"] == "BillsTable":
        pipeline.put_bills([bill("cust-ana", "2026-11", "150")])
        _write_case(pipeline, case, run)
    else:
        _write_case(pipeline, case, run)
        if customer_id is not None:
            pipeline.put_bills([bill(customer_id, "2026-10", "100")])
        pipeline.put_bills([bill("cust-ana", "2026-11", "150")])
        if customer_id is not None:
            pipeline.put_bills([bill(customer_id, "2026-11", "150")])
    pipeline.put_bills([bill("cust-jonas", "2026-11", "60", currency="EUR")])
    run.streams.append(pipeline.run_detectors(retry_failures=True))
    run.drains.append(pipeline.deliver_notices())
    return run


def good_callback(callback_id: str, customer_id: str) -> dict[str, Any]:
    return {
        "callback_id": callback_id,
        "customer_id": customer_id,
        "promised_at": PROMISED,
        "status": "pending",
        "topic": "router keeps dropping the connection",
    }


def good_ticket(ticket_id: str, customer_id: str) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "subject": "Invoice shows the wrong address",
        "status": "open",
        "created_at": "2026-11-20T16:00:00Z",
        "updated_at": "2026-11-21T16:00:00Z",  # 73 h before the sweep: one SLA window (72 h) passed
    }


def good_visit(visit_id: str, customer_id: str, status: str) -> dict[str, Any]:
    return {
        "visit_id": visit_id,
        "customer_id": customer_id,
        "window_start": "2026-11-24T16:00:00Z",
        "window_end": "2026-11-24T18:00:00Z",
        "eta": "2026-11-24T17:00:00Z",
        "status": status,
        "technician_name": "Carlos Mendes",
    }


def _sweep(pipeline: LocalPipeline, at: datetime, run: Run) -> None:
    """`LocalPipeline.sweep_at` (the clock is already at `at`), keeping every report."""
    run.streams += pipeline.index_changes()
    run.sweep = pipeline.sweep.fire(at)
    run.drains.append(pipeline.deliver_notices())


def run_callbacks(pipeline: LocalPipeline, case: dict[str, Any]) -> Run:
    run = Run()
    pipeline.put_callbacks([good_callback("cb-good-ana", "cust-ana")])
    _write_before(pipeline, case)
    _write_case(pipeline, case, run)
    pipeline.put_callbacks([good_callback("cb-good-jonas", "cust-jonas")])
    _sweep(pipeline, CALLBACK_SWEEP, run)
    return run


def run_tickets(pipeline: LocalPipeline, case: dict[str, Any]) -> Run:
    run = Run()
    pipeline.put_tickets([good_ticket("t-good-ana", "cust-ana")])
    _write_before(pipeline, case)
    _write_case(pipeline, case, run)
    pipeline.put_tickets([good_ticket("t-good-jonas", "cust-jonas")])
    _sweep(pipeline, TICKET_SWEEP, run)
    return run


def run_visits(pipeline: LocalPipeline, case: dict[str, Any]) -> Run:
    run = Run()
    pipeline.put_visits([good_visit("v-good-jonas", "cust-jonas", "en_route")])
    _write_before(pipeline, case)
    _write_case(pipeline, case, run)
    pipeline.put_visits([good_visit("v-good-ana", "cust-ana", "done")])
    run.streams += pipeline.index_changes()
    run.drains.append(pipeline.deliver_notices())
    return run


# When each table's pipeline runs. The clock stays there for the checks too: moto's queues keep
# their own timestamps, so reading the dead-letter queue at an earlier time would miss messages.
RUN_AT = {
    "BillsTable": BUSINESS_HOURS,
    "CustomersTable": BUSINESS_HOURS,
    "CallbacksTable": CALLBACK_SWEEP,
    "TicketsTable": TICKET_SWEEP,
    "VisitsTable": VISITS_READ,
}
RUNNERS = {
    "BillsTable": run_bills,
    "CustomersTable": run_bills,
    "CallbacksTable": run_callbacks,
    "TicketsTable": run_tickets,
    "VisitsTable": run_visits,
}
# What the good records around each case must have produced: (customer, kind) -> status, and
# the start of the email subject / SMS each good customer got.
GOOD_NOTICES: dict[str, dict[tuple[str, str], str]] = {
    "BillsTable": {("cust-ana", "bill_increase"): "sent", ("cust-jonas", "bill_increase"): "sent"},
    "CallbacksTable": {
        (customer, kind): "sent"
        for customer in ("cust-ana", "cust-jonas")
        for kind in ("callback_overdue", "callback_escalation")
    },
    "TicketsTable": {
        (customer, kind): "sent"
        for customer in ("cust-ana", "cust-jonas")
        for kind in ("ticket_stale", "ticket_escalation")
    },
    "VisitsTable": {("cust-jonas", "visit_on_the_way"): "sent", ("cust-ana", "visit_done"): "sent"},
}
GOOD_NOTICES["CustomersTable"] = GOOD_NOTICES["BillsTable"]
GOOD_MESSAGES: dict[str, tuple[str, str]] = {
    "BillsTable": (
        "Your November 2026 bill is $50.00 higher",
        "Example Co: Hi Jonas, your Nov bill is 60,00 €, up 20,00 €",
    ),
    "CallbacksTable": (
        "Sorry we haven't called you back yet",
        "Example Co: Hi Jonas, sorry we haven't called",
    ),
    "TicketsTable": (
        "We're still working on your request: Invoice shows the wrong address",
        'Example Co: Hi Jonas, your request "Invoice shows the wrong address"',
    ),
    "VisitsTable": ("Thanks for having Carlos over", "Example Co: Hi Jonas, Carlos is on the way"),
}
GOOD_MESSAGES["CustomersTable"] = GOOD_MESSAGES["BillsTable"]
STREAM_KEYS = {
    "BillsTable": ("customer_id", "period"),
    "CallbacksTable": ("callback_id",),
    "TicketsTable": ("ticket_id",),
    "VisitsTable": ("visit_id",),
}


def _stream_of(pipeline: LocalPipeline, table: str) -> DynamoDBStreamSource | None:
    return {
        "BillsTable": pipeline.bills_stream,
        "CallbacksTable": pipeline.callbacks_stream,
        "TicketsTable": pipeline.tickets_stream,
        "VisitsTable": pipeline.visits_stream,
    }.get(table)


def _case_sequence_numbers(pipeline: LocalPipeline, case: dict[str, Any]) -> set[str]:
    """The stream records the case's own write produced."""
    stream = _stream_of(pipeline, case["table"])
    if stream is None:
        return set()
    key = {name: case["item"].get(name) for name in STREAM_KEYS[case["table"]]}
    deserializer = TypeDeserializer()
    return {
        record["dynamodb"]["SequenceNumber"]
        for event in stream.replay_all()
        for record in event["Records"]
        if {k: deserializer.deserialize(v) for k, v in record["dynamodb"]["Keys"].items()} == key
    }


# ------------------------------------------------------------------------------------ checks


def _log_entries(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith('{"level"')]


def _matches(entry: dict[str, Any], expected: dict[str, Any]) -> bool:
    for name, value in expected.items():
        if name == "problem":
            if not any(str(problem).startswith(value) for problem in entry.get("problems", [])):
                return False
        elif entry.get(name) != value:
            return False
    return True


def _personal_values(case: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(what, value) for every piece of personal data or free text the case and the good records
    carry: none of it may appear in a log."""
    customers = [*GOOD_CUSTOMERS]
    customers += [before["item"] for before in case.get("before", []) if before["table"] == "CustomersTable"]
    if case["table"] == "CustomersTable":
        customers.append(case["item"])
    for customer in customers:
        for name in PERSONAL_FIELDS:
            yield f"{customer.get('customer_id')}.{name}", customer.get(name)
    records = [case["item"], *(before["item"] for before in case.get("before", []))]
    for record in records:
        for name in FREE_TEXT_FIELDS:
            yield f"{case['id']}.{name}", record.get(name)
        for index, line in enumerate(record.get("line_items") or []):
            if isinstance(line, dict):
                yield f"{case['id']}.line_items.{index}", line.get("description")
    yield "good callback topic", "router keeps dropping the connection"
    yield "good ticket subject", "Invoice shows the wrong address"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _header_block(raw: str) -> list[str]:
    return raw.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")


def _check_email_is_safe(message: EmailMessage, raw: str, html: str) -> None:
    # No header came from the data: every header line is one of ours or a folded continuation.
    for line in _header_block(raw):
        if line[:1] in (" ", "\t"):
            continue
        assert line.split(":", 1)[0].strip().lower() in EMAIL_HEADERS, f"unexpected header line {line[:80]!r}"
    for name, value in message.items():
        assert "\r" not in str(value), name
        assert "\n" not in str(value), name
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert len(message.get_all("To", [])) == 1
    assert "<script" not in html.lower()


def _sms_encoding(text: str) -> str:
    return "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text) else "UCS-2"


def _evaluated_jinja(text: str) -> bool:
    """ "{{ 7*7 }}" in the data came out as 49 (links left out: their tokens are random)."""
    return re.search(r"(?<![\w.,:])49(?![\w])", _URL.sub("", text)) is not None


@pytest.fixture
def clock(pipeline: LocalPipeline, case: dict[str, Any]) -> Iterator[None]:
    """The time the case's table is processed at: after the pipeline fixture's own, never before."""
    with time_machine.travel(RUN_AT[case["table"]], tick=True):
        yield


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
@pytest.mark.usefixtures("clock")
def test_bad_input_fails_alone_with_a_clear_error_and_never_blocks_the_batch(
    pipeline: LocalPipeline, lambda_logs: io.StringIO, case: dict[str, Any]
) -> None:
    expect = case["expect"]
    outcome = expect["outcome"]

    # When the case is written among good records and the pipeline runs
    run = RUNNERS[case["table"]](pipeline, case)

    # Then no handler crashed, whatever the record
    for stream in run.streams:
        assert stream.function_errors == []
    for drain in run.drains:
        assert drain.function_errors == []
        assert drain.queue_empty
    if run.sweep is not None:
        assert (run.sweep["failed"], run.sweep["quarantined"]) == (0, 0)

    # ... the write itself went through, unless DynamoDB refuses it (a key of the wrong type or missing)
    if outcome == "write_refused":
        assert run.write_error is not None
        assert run.write_error.response["Error"]["Code"] == expect["error"]
    else:
        assert run.write_error is None

    # ... only the bad record was reported failed, retried, and parked in DetectorFailureQueue
    own = _case_sequence_numbers(pipeline, case)
    reported = [number for stream in run.streams for number in stream.batch_item_failures]
    discarded = [info for stream in run.streams for info in stream.discarded]
    if outcome == "rejected":
        assert reported
        assert set(reported) <= own, "a good record was reported failed"
        assert discarded
        assert {info["DDBStreamBatchInfo"]["startSequenceNumber"] for info in discarded} <= own
        assert len(pipeline.detector_failures()) == len(discarded)
    else:
        assert reported == []
        assert discarded == []
        assert pipeline.detector_failures() == []

    # ... the good records' notices went out
    ledger = pipeline.ledger()
    good_expected = GOOD_NOTICES[case["table"]]
    good = {(e["customer_id"], e["kind"]): e["status"] for e in ledger if e["customer_id"] in GOOD_IDS}
    assert good == good_expected
    emails, texts = sent_emails(), sent_sms()
    good_subject, good_sms = GOOD_MESSAGES[case["table"]]
    [ana_email] = [email for email in emails if email.destinations == [ANA["email"]]]
    assert ana_email.subject is not None
    assert ana_email.subject.startswith(good_subject)
    [jonas_sms] = [sms for sms in texts if sms.phone_number == JONAS["phone"]]
    assert jonas_sms.message.startswith(good_sms), jonas_sms.message

    # ... the case's notices each have one recorded outcome, with the reason
    theirs = sorted(
        (e for e in ledger if e["customer_id"] not in GOOD_IDS), key=lambda e: (e["kind"], e["notice_id"])
    )
    expected_ledger = sorted(expect.get("ledger", []), key=lambda e: e["kind"])
    assert [(e["customer_id"], e["kind"], e["status"]) for e in theirs] == [
        (e["customer_id"], e["kind"], e["status"]) for e in expected_ledger
    ]
    for entry, wanted in zip(theirs, expected_ledger, strict=True):
        for name in ("reason", "channel"):
            if name in wanted:
                assert entry.get(name) == wanted[name], (name, entry)
    dead = {e["notice_id"] for e in theirs if e["status"] == "dead_lettered"}
    assert {message["notice_id"] for message in pipeline.dead_letters()} == dead
    max_receives = int(pipeline.deployment.parameters["NoticeMaxReceiveCount"])
    assert sum(drain.failures for drain in run.drains) == max_receives * len(dead)

    # ... and what they sent, if anything, is exactly what the case expects
    case_emails = [email for email in emails if email.destinations != [ANA["email"]]]
    case_texts = [sms for sms in texts if sms.phone_number != JONAS["phone"]]
    wanted_email, wanted_sms = expect.get("email"), expect.get("sms")
    assert [email.destinations for email in case_emails] == ([[wanted_email["to"]]] if wanted_email else [])
    assert {sms.phone_number for sms in case_texts} == ({wanted_sms["to"]} if wanted_sms else set())
    for email in emails:
        assert email.message is not None
        assert email.raw is not None
        assert email.html is not None
        _check_email_is_safe(email.message, email.raw, email.html)
    has_jinja = any("7*7" in text for text in _strings(case["item"]))
    if wanted_email:
        [email] = case_emails
        assert (email.subject, email.text, email.html) != (None, None, None)
        for needle in wanted_email.get("subject_contains", []):
            assert needle in (email.subject or ""), (needle, email.subject)
        for needle in wanted_email.get("text_contains", []):
            assert needle in (email.text or ""), needle
        for needle in wanted_email.get("html_contains", []):
            assert needle in (email.html or ""), needle
        if has_jinja:
            for part in (email.subject, email.text, email.html):
                assert not _evaluated_jinja(part or ""), part
    for sms in case_texts:
        assert wanted_sms is not None
        for needle in wanted_sms.get("contains", []):
            assert any(needle in text.message for text in case_texts), (
                needle,
                [t.message for t in case_texts],
            )
        for needle in wanted_sms.get("absent", []):
            assert needle not in sms.message
        if "encoding" in wanted_sms:
            assert _sms_encoding(sms.message) == wanted_sms["encoding"], sms.message
        if has_jinja:
            assert not _evaluated_jinja(sms.message), sms.message
    for escalation in pipeline.escalations():
        # SNS subjects: one ASCII line under 100 characters, whatever the data
        assert escalation.subject is not None
        assert escalation.subject.isascii()
        assert escalation.subject.isprintable()
        assert len(escalation.subject) < 100
    if "escalation" in expect:
        about = expect["escalation"]["about"]
        bodies = [
            m.message
            for m in pipeline.escalations()
            if about in (json.loads(m.message).get("callback_id"), json.loads(m.message).get("ticket_id"))
        ]
        assert bodies, f"no escalation about {about}"
        for needle in expect["escalation"]["contains"]:
            assert all(needle in body for body in bodies), needle

    # ... the log says which record and what is wrong with it
    entries = _log_entries(lambda_logs)
    if "log" in expect:
        found = [entry for entry in entries if _matches(entry, expect["log"])]
        assert found, f"no log line like {expect['log']}"
        if outcome == "rejected":
            assert found[0]["level"] == "ERROR"
    if outcome in ("no_notice", "write_refused"):
        assert not [entry for entry in entries if entry["level"] == "ERROR"]

    # ... and nobody's personal data is in it
    logs = lambda_logs.getvalue()
    for what, value in _personal_values(case):
        if isinstance(value, str) and len(value.strip()) >= 3:
            assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", logs), f"{what} is in the logs"
