"""Pipeline CPU throughput without I/O, and each handler's memory on a 1,000-record batch.

Throughput: 1,000 notices of every kind are detected by the pure rules (bills through the real
BillIncreaseDetector, callbacks, tickets and visits through their rules, each from a dict as the
stream would give it), then delivered by the real NoticeDelivery with in-memory fakes
(emulator/fakes.py) for the ledger, customers, preferences and senders: the delivery policy
(template defaults: 08:00-21:00 on the customer's clock, 3 a day, visits bypassing both) and
rendering with the real templates. CPU time is `time.process_time()` of this one process (one core), after
a warm-up batch (templates compiled, as in a warm Lambda container); median of 3 batches.

Memory: each batch-driven handler runs in a fresh subprocess under moto, with a 1,000-record
event in the real AWS shape: stream records read back from moto (bills, callbacks, visits), SQS
messages received from NoticeQueue (delivery), the scheduled event with 1,000 callbacks due (the
sweep). Reported per handler:
- peak RSS with only the handler imported (a fresh interpreter with the function's environment, as
  bench.cold_start gives it, no moto);
- tracemalloc's peak during the invocation (Python allocations of the handler, and of moto answering
  its calls in the same process, so an upper bound);
- the subprocess's peak RSS (the handler, moto and the 1,000-record fixtures together);
- an estimate of Lambda's "Max Memory Used": RSS imported + the invocation's traced peak.
The goal (under 128 MB) is checked on the estimate; the subprocess peak, which holds moto and the
fixtures too, is shown beside it. Peak RSS is read from /proc/self/status (VmHWM): on Linux,
`resource.getrusage(...).ru_maxrss` keeps across exec the high-water mark of the process that
spawned the child (here the benchmark, ~150 MB), so it is recorded (`ru_maxrss_mb`) but not used.
The invocation gets a 900 s timeout so that the whole batch is handled (moto answers slower than
AWS), and `speed_up_moto` takes out moto's whole-table scans per call, which would make a 1,000-record
batch take many minutes. Children run two at a time.
Usage: python -m bench.throughput
"""

import gc
import inspect
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from bench.cold_start import handler_modules
from bench.results import Figure, record
from emulator.template import REPO_ROOT
from sim.population import busy_day

BATCH = 1_000
GOAL_MB = 128.0
AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles, 17:00 in Berlin
TEMPLATES = REPO_ROOT / "templates"
MEMORY_FUNCTIONS = (  # slowest first, for the two-at-a-time runs
    "DueSweepFunction",
    "NoticeDeliveryFunction",
    "VisitDetectorFunction",
    "BillIncreaseDetectorFunction",
    "DueIndexerFunction",
)

# ============================================================================ CPU throughput


def _silence_logs() -> Any:
    """Powertools' logger keeps its own stream: point it at /dev/null (logging still costs CPU)."""
    from headsup.platform.observability import logger

    sink = open(os.devnull, "w")  # noqa: SIM115 - kept open for the rest of the process
    logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    return sink


def detection_inputs(count: int) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(scenario, item, previous item) for `count` notices: 10 notices per round of 8 scenarios."""
    customers = busy_day(customers=count, seed=3)["customers"]

    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    inputs: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    k = 0
    while len(inputs) * 10 // 8 < count:
        customer_id = customers[k % len(customers)]["customer_id"]
        visit = {
            "visit_id": f"v-{k}",
            "customer_id": customer_id,
            "window_start": iso(AT),
            "window_end": iso(AT + timedelta(hours=2)),
            "eta": iso(AT + timedelta(minutes=30)),
            "status": "scheduled",
            "technician_name": "Carlos Mendes",
            "address_hint": "side gate",
        }
        ticket = {
            "ticket_id": f"t-{k}",
            "customer_id": customer_id,
            "subject": "Router replacement not delivered",
            "status": "open",
            "priority": "urgent",
            "created_at": iso(AT - timedelta(days=2)),
        }
        inputs += [
            (
                "bill",
                {
                    "customer_id": customer_id,
                    "period": "2026-11",
                    "amount": Decimal("132.40"),
                    "currency": "USD",
                    "due_date": "2026-12-15",
                    "line_items": [
                        {"description": "Unlimited plan", "amount": Decimal("105.00")},
                        {"description": "Data add-on", "amount": Decimal("15.00")},
                        {"description": "Taxes and fees", "amount": Decimal("12.40")},
                    ],
                },
                None,
            ),
            (
                "callback",
                {
                    "callback_id": f"cb-{k}",
                    "customer_id": customer_id,
                    "promised_at": iso(AT - timedelta(hours=1)),
                    "status": "pending",
                    "topic": "internet drops every evening",
                    "agent_name": "Sam",
                    "team": "broadband",
                },
                None,
            ),
            ("ticket", {**ticket, "updated_at": iso(AT - timedelta(hours=4, minutes=10))}, None),
            (
                "ticket",
                {**ticket, "ticket_id": f"tw-{k}", "updated_at": iso(AT - timedelta(hours=3, minutes=30))},
                None,
            ),
            (
                "ticket",
                {
                    **ticket,
                    "ticket_id": f"tf-{k}",
                    "status": "solved",
                    "updated_at": iso(AT - timedelta(hours=25)),
                    "solved_at": iso(AT - timedelta(hours=25)),
                },
                None,
            ),
            ("visit", {**visit, "status": "en_route"}, visit),
            (
                "visit",
                {
                    **visit,
                    "status": "en_route",
                    "eta": iso(AT + timedelta(hours=2, minutes=40)),
                    "delay_reason": "traffic",
                },
                {**visit, "status": "en_route"},
            ),
            ("visit", {**visit, "status": "done"}, {**visit, "status": "arrived"}),
        ]
        k += 1
    # One customer per input, so that the daily cap holds back only what it would on a real day.
    for index, (_, item, previous) in enumerate(inputs):
        item["customer_id"] = customers[index % len(customers)]["customer_id"]
        if previous is not None:
            previous["customer_id"] = item["customer_id"]
    return inputs


def detector() -> Callable[[str, dict[str, Any], dict[str, Any] | None], list[Any]]:
    """The pure detection step for one input, as the detectors and the sweep run it."""
    from headsup.domain.bills.models import Bill
    from headsup.domain.bills.rules import Thresholds
    from headsup.domain.callbacks import rules as callback_rules
    from headsup.domain.callbacks.models import Callback
    from headsup.domain.tickets import rules as ticket_rules
    from headsup.domain.tickets.models import Ticket
    from headsup.domain.visits import rules as visit_rules
    from headsup.domain.visits.models import Visit
    from headsup.logic.bill_increase import BillIncreaseDetector

    class PreviousBills:
        def previous_bill(self, customer_id: str, before_period: str) -> Bill:
            return Bill.from_item(
                {"customer_id": customer_id, "period": "2026-10", "amount": Decimal("110.00")}
            )

    class Collect:
        def __init__(self) -> None:
            self.requests: list[Any] = []

        def put(self, request: Any) -> None:
            self.requests.append(request)

    queue = Collect()
    bills = BillIncreaseDetector(PreviousBills(), queue, Thresholds(Decimal(10), Decimal("5.00")))
    callback_policy = callback_rules.CallbackPolicy(
        grace=timedelta(minutes=15), reschedule=timedelta(minutes=60)
    )
    ticket_policy = ticket_rules.TicketPolicy(
        sla={
            "urgent": timedelta(hours=4),
            "high": timedelta(hours=24),
            "normal": timedelta(hours=72),
            "low": timedelta(hours=168),
        },
        warn_share=Decimal("0.8"),
        follow_up_after=timedelta(hours=24),
    )
    visit_policy = visit_rules.VisitPolicy(slip=timedelta(minutes=15))
    zone = ZoneInfo("America/New_York")

    def detect(scenario: str, item: dict[str, Any], previous: dict[str, Any] | None) -> list[Any]:
        if scenario == "bill":
            request = bills.on_bill_change("INSERT", item, None)
            return [request] if request else []
        if scenario == "callback":
            step = callback_rules.on_due(
                Callback.from_item(item), callback_rules.PromiseState(), AT, callback_policy, lambda: zone
            )
            return step.notices
        if scenario == "ticket":
            return ticket_rules.on_due(Ticket.from_item(item), AT, ticket_policy).notices
        before = Visit.from_item(previous) if previous else None
        return visit_rules.on_change(before, Visit.from_item(item), None, visit_policy, AT).notices

    return detect


def delivery_world(customers: dict[str, Any], renderer: Any) -> tuple[Any, Any]:
    from datetime import time as clock_time

    from headsup.domain.policy import DeliveryPolicy, QuietHours
    from headsup.logic.delivery import Attempt, NoticeDelivery
    from headsup.rendering.links import UnsubscribeLinks

    from emulator.fakes import (
        InMemoryCustomers,
        InMemoryLedger,
        InMemoryPreferences,
        RecordingEmail,
        RecordingHolds,
        RecordingSms,
        RecordingTeam,
    )

    delivery = NoticeDelivery(
        customers=InMemoryCustomers(customers),
        ledger=InMemoryLedger(),
        renderer=renderer,
        email=RecordingEmail(),
        sms=RecordingSms(),
        team=RecordingTeam(),
        preferences=InMemoryPreferences(),  # type: ignore[arg-type]  # reads only, as delivery does
        policy=DeliveryPolicy(
            quiet_hours=QuietHours(
                start=clock_time(8),
                end=clock_time(21),
                bypass_kinds=frozenset({"visit_on_the_way", "visit_running_late"}),
            ),
            max_per_day=3,
            cap_bypass_kinds=frozenset({"visit_on_the_way", "visit_running_late"}),
        ),
        holds=RecordingHolds(),
        unsubscribe_links=UnsubscribeLinks("https://example.com", key=b"bench-signing-key-32-bytes-long!"),
        clock=lambda: AT,
    )
    attempt = Attempt(number=1, max_attempts=5, lease_until=AT + timedelta(minutes=5))
    return delivery, attempt


def cpu_throughput(runs: int = 3) -> dict[str, Any]:
    import time_machine
    from babel import Locale
    from headsup.domain.customer import customer_from_item
    from headsup.rendering.renderer import NoticeRenderer

    sink = _silence_logs()
    customers = {
        item["customer_id"]: customer_from_item(
            item, default_locale="en-US", default_timezone="America/New_York"
        )
        for item in busy_day(customers=BATCH, seed=3)["customers"]
    }
    renderer = NoticeRenderer(
        TEMPLATES,
        business_name="Example Co",
        support_reply_to="support@example.com",
        team_locale=Locale.parse("en_US"),
        team_zone=ZoneInfo("America/New_York"),
    )
    inputs = detection_inputs(BATCH)
    samples: list[dict[str, Any]] = []
    with time_machine.travel(AT, tick=False), redirect_stdout(sink):
        for run in range(runs + 1):  # the first is the warm-up
            detect = detector()
            delivery, attempt = delivery_world(customers, renderer)
            started = time.process_time()
            requests = [
                request for scenario, item, previous in inputs for request in detect(scenario, item, previous)
            ]
            requests = requests[:BATCH]
            detected = time.process_time()
            outcomes = Counter(str(delivery.deliver(request, attempt)) for request in requests)
            delivered = time.process_time()
            if run:
                samples.append(
                    {
                        "notices": len(requests),
                        "detect_cpu_s": detected - started,
                        "deliver_cpu_s": delivered - detected,
                        "kinds": dict(Counter(str(r.kind) for r in requests)),
                        "outcomes": dict(outcomes),
                    }
                )
    best = sorted(samples, key=lambda s: s["detect_cpu_s"] + s["deliver_cpu_s"])[len(samples) // 2]
    total = best["detect_cpu_s"] + best["deliver_cpu_s"]
    return {
        "notices": best["notices"],
        "runs": runs,
        "kinds": best["kinds"],
        "outcomes": best["outcomes"],
        "detect_cpu_s": best["detect_cpu_s"],
        "deliver_cpu_s": best["deliver_cpu_s"],
        "notices_per_cpu_second": best["notices"] / total,
        "detect_per_cpu_second": best["notices"] / best["detect_cpu_s"],
        "deliver_per_cpu_second": best["notices"] / best["deliver_cpu_s"],
        "runs_total_cpu_s": [s["detect_cpu_s"] + s["deliver_cpu_s"] for s in samples],
    }


# ============================================================================ memory: the child


def _rss_now_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kb() -> int:
    """This process image's peak RSS (VmHWM). Linux's ru_maxrss keeps, across exec, the high-water
    mark of the process that spawned it (the benchmark itself), so it is reported only alongside."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _stream_records(source: Any) -> list[dict[str, Any]]:
    return [record for batch in source.poll_batches() for record in batch.records]


def _customers(pipeline: Any) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = busy_day(customers=BATCH, seed=5)["customers"]
    pipeline.put_customers(customers)
    return customers


def event_for_bills(pipeline: Any) -> dict[str, Any]:
    customers = _customers(pipeline)
    previous = [
        {"customer_id": c["customer_id"], "period": "2026-10", "amount": Decimal("110.00")} for c in customers
    ]
    current = [
        {
            "customer_id": c["customer_id"],
            "period": "2026-11",
            "amount": Decimal("132.40"),
            "due_date": "2026-12-15",
            "line_items": [
                {"description": "Unlimited plan", "amount": Decimal("105.00")},
                {"description": "Data add-on", "amount": Decimal("15.00")},
                {"description": "Taxes and fees", "amount": Decimal("12.40")},
            ],
        }
        for c in customers
    ]
    pipeline.put_bills(previous)
    _stream_records(pipeline.bills_stream)  # earlier months, already seen by the detector
    pipeline.put_bills(current)
    return {"Records": _stream_records(pipeline.bills_stream)}


def _callbacks(customers: list[dict[str, Any]], promised_at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "callback_id": f"cb-{n:05d}",
            "customer_id": c["customer_id"],
            "promised_at": promised_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": "pending",
            "topic": "internet drops every evening",
            "agent_name": "Sam",
            "team": "broadband",
        }
        for n, c in enumerate(customers)
    ]


def event_for_indexer(pipeline: Any) -> dict[str, Any]:
    pipeline.put_callbacks(_callbacks(_customers(pipeline), AT + timedelta(hours=2)))
    return {"Records": _stream_records(pipeline.callbacks_stream)}


def event_for_visits(pipeline: Any) -> dict[str, Any]:
    customers = _customers(pipeline)
    visits = [
        {
            "visit_id": f"v-{n:05d}",
            "customer_id": c["customer_id"],
            "window_start": (AT + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "window_end": (AT + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eta": (AT + timedelta(hours=1, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": "scheduled",
            "technician_name": "Carlos Mendes",
            "address_hint": "side gate",
        }
        for n, c in enumerate(customers)
    ]
    pipeline.put_visits(visits)
    _stream_records(pipeline.visits_stream)  # scheduled the day before
    pipeline.put_visits([{**v, "status": "en_route"} for v in visits])
    return {"Records": _stream_records(pipeline.visits_stream)}


def event_for_sweep(pipeline: Any) -> dict[str, Any]:
    pipeline.put_callbacks(_callbacks(_customers(pipeline), AT - timedelta(minutes=30)))
    pipeline.callbacks_stream.deliver(retry_failures=True)  # the indexer puts each in the due index
    event: dict[str, Any] = pipeline.sweep.event(AT)
    return event


def event_for_delivery(pipeline: Any) -> dict[str, Any]:
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.domain.notices import NoticeKind, make_notice_id

    from emulator import lambda_sqs_record, queue_messages
    from sim.samples import sample_request

    customers = _customers(pipeline)
    queue = SqsNoticeQueue(pipeline.notice_queue.queue_url)
    sample = sample_request(NoticeKind.BILL_INCREASE)  # the payload `headsup preview` shows
    for customer in customers:
        queue.put(
            sample.model_copy(
                update={
                    "notice_id": make_notice_id(NoticeKind.BILL_INCREASE, customer["customer_id"], "2026-11"),
                    "customer_id": customer["customer_id"],
                    "detected_at": AT,
                }
            )
        )
    messages = queue_messages(pipeline.deployment, "NoticeQueue")
    arn, region = pipeline.notice_queue.queue_arn, pipeline.deployment.region
    return {"Records": [lambda_sqs_record(message, arn, region) for message in messages]}


EVENTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "BillIncreaseDetectorFunction": event_for_bills,
    "DueIndexerFunction": event_for_indexer,
    "VisitDetectorFunction": event_for_visits,
    "DueSweepFunction": event_for_sweep,
    "NoticeDeliveryFunction": event_for_delivery,
}


def speed_up_moto() -> None:
    """Take out moto's whole-table work, which makes a 1,000-record batch quadratic.

    moto 5 answers every Query by sorting the whole table and comparing each item's key, and
    every SendMessage by counting the whole queue (its attributes). Here a base-table Query is
    given only its partition, the table is not sorted first (an index Query sorts what it found),
    and the queue counts (which no handler reads) are not computed. This changes how fast moto
    answers, not what the handler asks or gets back.
    """
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    original_query = Table.query
    signature = inspect.signature(original_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        hash_key = call.get("hash_key")
        if call.get("index_name") or hash_key is None:
            return original_query(self, *args, **kwargs)
        partition = self.items.get(hash_key)
        items = [] if partition is None else list(partition.values()) if self.range_key_attr else [partition]
        self.all_items = lambda: items  # the partition, for this call only
        try:
            return original_query(self, *args, **kwargs)
        finally:
            del self.all_items

    def all_items(self: Any) -> list[Any]:
        # Unsorted: an index Query sorts what it found itself, and a Scan's order is unspecified.
        return [
            item
            for partition in self.items.values()
            for item in (partition.values() if self.range_key_attr else [partition])
        ]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        setattr(Queue, name, property(lambda self: 0))


def memory_child(function_id: str) -> None:
    """In a fresh process: build the 1,000-record event under moto, then invoke the handler once."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    import time_machine
    from moto import mock_aws

    from sim.pipeline import LocalPipeline, lambda_output_to

    speed_up_moto()
    sink = open(os.devnull, "w")  # noqa: SIM115 - the functions' logs, discarded
    with time_machine.travel(AT - timedelta(minutes=5), tick=True), mock_aws():
        pipeline = LocalPipeline.provision()
        deployment = pipeline.deployment
        with lambda_output_to(sink, deployment):
            event = EVENTS[function_id](pipeline)
            records = len(event.get("Records", [])) or BATCH
            os.environ.update(deployment.function_env(function_id))
            handler = deployment.handler(function_id)
            context = replace(deployment.lambda_context(function_id), timeout_seconds=900)
            gc.collect()
            rss_before = _rss_now_kb()
            peak_before = peak_rss_kb()
            tracemalloc.start()
            started = time.perf_counter()
            response = handler(event, context)
            elapsed = time.perf_counter() - started
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    failures = len(response.get("batchItemFailures", [])) if isinstance(response, dict) else None
    print(
        json.dumps(
            {
                "function": function_id,
                "records": records,
                "batch_item_failures": failures,
                "response": {k: v for k, v in response.items() if k != "batchItemFailures"}
                if isinstance(response, dict)
                else None,
                "seconds": elapsed,
                "rss_before_invoke_mb": rss_before / 1024,
                "peak_rss_before_invoke_mb": peak_before / 1024,
                "peak_rss_mb": peak_rss_kb() / 1024,
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "traced_peak_mb": traced_peak / 1024**2,
            },
            default=str,
        )
    )


# ============================================================================ memory: the parent


def import_only_rss(module: str, env: dict[str, str]) -> float:
    """MB of RSS of a fresh interpreter that imported only the handler module (Lambda's environment)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    statement = (
        f"import {module}\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        print(line.split()[1])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", statement],
        env=base
        | env
        | {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONPATH": str(REPO_ROOT / "functions"),
        },
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return int(completed.stdout.strip().splitlines()[-1]) / 1024


def _memory_run(function_id: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.throughput", "--memory-child", function_id],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{function_id}: memory run failed\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def memory_all() -> dict[str, Any]:
    modules = handler_modules()
    # Two at a time (the slowest first): each child is one process on one core.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(MEMORY_FUNCTIONS, pool.map(_memory_run, MEMORY_FUNCTIONS), strict=True))
    results = {}
    for function_id in sorted(MEMORY_FUNCTIONS):
        child = runs[function_id]
        module, env, memory_size = modules[function_id]
        child["module"] = module
        child["memory_size_mb"] = memory_size
        child["rss_import_only_mb"] = import_only_rss(module, env)
        child["estimated_lambda_peak_mb"] = child["rss_import_only_mb"] + child["traced_peak_mb"]
        results[function_id] = child
    return results


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2])
        return 0
    # As template.yaml's Globals set them; read by Powertools when headsup is first imported.
    os.environ.update({"POWERTOOLS_SERVICE_NAME": "headsup", "POWERTOOLS_METRICS_NAMESPACE": "Headsup"})
    console = Console(width=150)
    cpu = cpu_throughput()
    table = Table(
        title=f"Pipeline CPU throughput: detect + policy + render, {cpu['notices']} notices, no I/O"
    )
    for column in ("step", "CPU s", "notices / CPU second"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row(
        "detect (rules, from stream-shaped dicts)",
        f"{cpu['detect_cpu_s']:.3f}",
        f"{cpu['detect_per_cpu_second']:.0f}",
    )
    table.add_row(
        "deliver (claim, policy, render, fake send)",
        f"{cpu['deliver_cpu_s']:.3f}",
        f"{cpu['deliver_per_cpu_second']:.0f}",
    )
    table.add_row(
        "whole pipeline, per core",
        f"{cpu['detect_cpu_s'] + cpu['deliver_cpu_s']:.3f}",
        f"{cpu['notices_per_cpu_second']:.0f}",
        style="bold",
    )
    console.print(table)
    console.print(f"kinds: {cpu['kinds']}; outcomes: {cpu['outcomes']}")

    memory = memory_all()
    table = Table(title=f"Peak memory per handler on a {BATCH:,}-record batch (MB; goal under {GOAL_MB:g})")
    columns = (
        "function",
        "records",
        "RSS imported",
        "traced peak in invoke",
        "estimate (imported + traced)",
        "subprocess peak RSS (with moto, fixtures)",
        "MemorySize",
        "goal",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "function" else "right")
    summary = [
        Figure(
            "pipeline CPU throughput (detect + policy + render)",
            cpu["notices_per_cpu_second"],
            "notices/s/core",
        )
    ]
    for function_id, m in memory.items():
        passed = m["estimated_lambda_peak_mb"] < GOAL_MB
        table.add_row(
            function_id,
            str(m["records"]),
            f"{m['rss_import_only_mb']:.0f}",
            f"{m['traced_peak_mb']:.1f}",
            f"{m['estimated_lambda_peak_mb']:.0f}",
            f"{m['peak_rss_mb']:.0f}",
            str(m["memory_size_mb"]),
            "pass" if passed else "FAIL",
        )
        summary.append(
            Figure(
                f"memory {function_id}, 1,000 records (estimate)",
                m["estimated_lambda_peak_mb"],
                "MB",
                goal=GOAL_MB,
            )
        )
        summary.append(
            Figure(
                f"memory {function_id}, 1,000 records (subprocess peak, with moto)",
                m["peak_rss_mb"],
                "MB",
                note="upper bound: moto and the fixtures are in the same process",
            )
        )
    console.print(table)
    record("throughput", summary, {"cpu": cpu, "memory": memory, "goal_mb": GOAL_MB})
    return 0


if __name__ == "__main__":
    sys.exit(main())
