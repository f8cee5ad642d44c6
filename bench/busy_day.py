"""A busy day end to end: AWS calls per delivered notice, and what a million notices cost.

Runs `sim.population.busy_day(customers)` (default 300) through the real handlers on moto,
provisioned from template.yaml: bills at 07:30 UTC, then 24 hours of sweeps on the template's
schedule with the business's and technicians' changes at their times (`simulate_day`). Every AWS
API call made inside a function invocation is counted, by function, service and operation;
calls made by Lambda's own event-source pollers (stream GetRecords, SQS ReceiveMessage and
DeleteMessage) are not made by the functions and are not counted here.

Delivered notices: ledger entries with status `sent` (customer notices by email or SMS, and team
notices published to EscalationTopic). Billable calls: every call the functions make is billed
by its service (DynamoDB per request unit, SQS, SNS and Secrets Manager per request, SES per
email); none is excluded, so billable calls = all calls.

Cost per million notices is computed from the measured per-notice figures and the us-east-1
prices in PRICES (docs/cost.md gives the pages and the date they were read). DynamoDB request
units are estimated from the items' sizes (see `RequestUnits`); Lambda GB-seconds use each
function's MemorySize and its invocations' in-process wall time on moto, an upper-bound proxy for
the billed duration. `--write-doc` rewrites the figures section of docs/cost.md.
Usage: python -m bench.busy_day [customers] [--write-doc]
"""

import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import time_machine
from headsup.domain.kinds import TEAM_KINDS
from moto import mock_aws
from rich.console import Console
from rich.table import Table

from bench.calls import CallLog, counting_calls
from bench.results import Figure, record
from emulator import Deployment
from emulator.template import REPO_ROOT
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import BILLS_ARRIVE, busy_day, simulate_day

GOAL_CALLS_PER_NOTICE = 4.0
GOAL_SHARE_OF_SES = 5.0  # percent
GOAL_RECHECK_CALLS = 0.3  # issue 14: what checking notices again at send time may add
RECEIPT_FUNCTIONS = ("SesFeedbackFunction", "SmsReceiptsFunction")  # what became of each message
SES_PER_MILLION = 100.0  # USD, SES outbound email: 0.10 per 1,000
# us-east-1, as published on the AWS pricing pages (docs/cost.md), last checked 2026-11-24.
PRICES: dict[str, float] = {
    "dynamodb_wru": 0.625 / 1e6,  # on-demand write request unit (after the Nov 2024 price cut)
    "dynamodb_rru": 0.125 / 1e6,  # on-demand read request unit
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk)
    "sns_request": 0.50 / 1e6,  # standard topic publish / API request
    "ses_email": 0.10 / 1e3,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "secrets_manager_call": 0.05 / 1e4,
    "cloudwatch_logs_gb": 0.50,  # standard log ingestion
}
# What the Lambda platform itself writes per invocation (START, END and REPORT lines), bytes.
PLATFORM_LOG_BYTES = 300
DOC = REPO_ROOT / "docs" / "cost.md"
DOC_START, DOC_END = "<!-- bench.busy_day:start -->", "<!-- bench.busy_day:end -->"


# ---------------------------------------------------------------------- DynamoDB request units


def _number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").lstrip("0")) or 1
    return (digits + 1) // 2 + 1


# Type descriptor -> the bytes DynamoDB counts for a value of that type (its item size rules).
_SIZE_OF: dict[str, Callable[[Any], int]] = {
    "S": lambda data: len(str(data).encode()),
    "N": lambda data: _number_size(str(data)),
    "B": len,
    "BOOL": lambda data: 1,
    "NULL": lambda data: 1,
    "SS": lambda data: sum(len(item.encode()) for item in data),
    "NS": lambda data: sum(_number_size(item) for item in data),
    "BS": lambda data: sum(len(item) for item in data),
    "L": lambda data: 3 + sum(1 + attribute_size(item) for item in data),
    "M": lambda data: 3 + sum(len(name.encode()) + 1 + attribute_size(item) for name, item in data.items()),
}


def attribute_size(value: dict[str, Any]) -> int:
    """Approximately what DynamoDB counts for a typed value (its item size rules)."""
    ((kind, data),) = value.items()
    if kind not in _SIZE_OF:
        raise ValueError(f"unknown DynamoDB type {kind}")
    return _SIZE_OF[kind](data)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


class RequestUnits:
    """Estimates the read and write request units of the functions' DynamoDB calls.

    Reads are exact up to the size rules: GetItem and Query pay ceil(bytes read / 4 KB), at least
    one unit, halved when eventually consistent; BatchGetItem pays that for each key asked. Writes
    pay ceil(item size / 1 KB) where the item is in the request (PutItem); an UpdateItem or
    DeleteItem is charged as the largest item its table holds at the end of the day (an upper
    bound). Index writes: CustomerSentIndex (KEYS_ONLY) costs one unit for a write that sets
    `sent_at`; DueIndex (projection ALL) costs two for a write that names `due_at` (the item moves
    in the index: a delete and a put) and one for any other write to DueItemsTable (conservatively,
    as if the item were in the index). Failed conditional writes are billed like successful ones.
    """

    def __init__(self, deployment: Deployment) -> None:
        self.table_of = {
            deployment.ref(logical_id): logical_id
            for logical_id, resource in deployment.resources.items()
            if resource.get("Type") == "AWS::DynamoDB::Table"
        }
        self.read_units: defaultdict[str, float] = defaultdict(float)  # table -> RRU
        self.write_units: Counter[str] = Counter()  # table -> WRU whose size is known
        self.sized_later: Counter[str] = Counter()  # table -> writes charged at the table's largest item
        self.index_units: Counter[str] = Counter()  # index -> WRU
        self.unpriced: Counter[str] = Counter()  # operations with no rule here (reported)

    def observe(
        self, function: str, service: str, operation: str, params: dict[str, Any], response: Any
    ) -> None:
        """Never raises: an exception here would reach the function and change what it does."""
        if service != "dynamodb":
            return
        table = self._table(params.get("TableName", ""))
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        if operation == "GetItem":
            self.read_units[table] += self._read_units(response.get("Item", {})) * factor
        elif operation == "Query":
            size = sum(item_size(item) for item in response.get("Items", []))
            self.read_units[table] += max(1, math.ceil(size / 4096)) * factor
        elif operation == "BatchGetItem":  # each item is read (and billed) on its own
            for name, request in params.get("RequestItems", {}).items():
                items = response.get("Responses", {}).get(name, [])
                unit = 1.0 if request.get("ConsistentRead") else 0.5
                found = sum(self._read_units(item) for item in items)
                missing = max(0, len(request.get("Keys", [])) - len(items))
                self.read_units[self._table(name)] += (found + missing) * unit
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            if operation == "PutItem":
                self.write_units[table] += max(1, math.ceil(item_size(params["Item"]) / 1024))
            else:
                self.sized_later[table] += 1
            self._index_writes(table, params)
        else:
            self.unpriced[operation] += 1

    def _table(self, physical_name: str) -> str:
        return self.table_of.get(physical_name, physical_name or "?")

    @staticmethod
    def _read_units(item: dict[str, Any]) -> int:
        return max(1, math.ceil(item_size(item) / 4096))

    def _index_writes(self, table: str, params: dict[str, Any]) -> None:
        names = set(params.get("Item", {})) | set(params.get("ExpressionAttributeNames", {}).values())
        expression = str(params.get("UpdateExpression", ""))
        mentions = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)) | names
        if table == "NoticeLedgerTable" and "sent_at" in mentions:
            self.index_units["CustomerSentIndex"] += 1
        if table == "DueItemsTable":
            self.index_units["DueIndex"] += 2 if "due_at" in mentions else 1

    def totals(self, largest_item: dict[str, int]) -> tuple[float, float, dict[str, Any]]:
        """(RRU, WRU, detail), charging `sized_later` writes at each table's largest item."""
        writes = Counter(self.write_units)
        for table, count in self.sized_later.items():
            writes[table] += count * max(1, math.ceil(largest_item.get(table, 1024) / 1024))
        detail = {
            "read_units_by_table": dict(self.read_units),
            "write_units_by_table": dict(writes),
            "index_write_units": dict(self.index_units),
            "largest_item_bytes": largest_item,
            "operations_without_a_unit_rule": dict(self.unpriced),
        }
        return sum(self.read_units.values()), sum(writes.values()) + sum(self.index_units.values()), detail


def largest_items(pipeline: LocalPipeline, tables: list[str]) -> dict[str, int]:
    client = pipeline._dynamodb
    largest = {}
    for logical_id in tables:
        sizes = [
            item_size(item)
            for page in client.get_paginator("scan").paginate(TableName=pipeline.deployment.ref(logical_id))
            for item in page["Items"]
        ]
        largest[logical_id] = max(sizes, default=0)
    return largest


# ---------------------------------------------------------------------- the day


class RecheckCalls:
    """The calls delivery makes to check notices again at send time: reading the business's items
    (a BatchGetItem of their own, or a GetItem), what the customer was told (ToldIndex), and
    superseding a held notice. Items read in the batch's one BatchGetItem with its customers and
    preferences cost no call of their own: those reads are counted apart, as `shared`."""

    def __init__(self, deployment: Any) -> None:
        self.tables = {
            deployment.ref(t) for t in ("BillsTable", "CallbacksTable", "TicketsTable", "VisitsTable")
        }
        self.calls: Counter[str] = Counter()
        self.shared = 0

    def observe(self, function: str, service: str, operation: str, params: dict[str, Any], _: Any) -> None:
        if function != "NoticeDeliveryFunction" or service != "dynamodb":
            return
        if operation == "BatchGetItem" and set(params["RequestItems"]) & self.tables:
            if set(params["RequestItems"]) <= self.tables:
                self.calls["source BatchGetItem"] += 1
            else:
                self.shared += 1
        elif operation == "GetItem" and params["TableName"] in self.tables:
            self.calls["source GetItem"] += 1
        elif operation == "Query" and params.get("IndexName") == "ToldIndex":
            self.calls["ToldIndex Query"] += 1
        elif operation == "UpdateItem" and ":skipped" in params.get("ExpressionAttributeValues", {}):
            self.calls["supersede UpdateItem"] += 1


def run_day(customers: int, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    data = busy_day(customers=customers)
    logs = StringIO()
    start = datetime.fromisoformat(data["day"]["start"])
    started = time.perf_counter()
    with time_machine.travel(datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True), mock_aws():
        pipeline = LocalPipeline.provision(overrides)
        units = RequestUnits(pipeline.deployment)
        recheck = RecheckCalls(pipeline.deployment)
        receivers = Mailboxes(pipeline, seed=2026)  # the mail servers and phones report, as in AWS
        with (
            lambda_output_to(logs, pipeline.deployment),
            counting_calls(units.observe) as log,
            counting_calls(recheck.observe),
        ):
            ticks = simulate_day(pipeline, data, on_tick=lambda _: receivers.report())
        ledger = pipeline.ledger()
        written = sorted({table for table in units.sized_later})
        largest = largest_items(pipeline, written)
        shards = int(pipeline.deployment.parameters["DueIndexShards"])
        memory = {
            function_id: int(
                pipeline.deployment.resolve(pipeline.deployment.function_properties(function_id))[
                    "MemorySize"
                ]
            )
            for function_id in pipeline.deployment.function_ids()
        }
    return {
        "data": data,
        "ledger": ledger,
        "log": log,
        "units": units,
        "largest": largest,
        "memory": memory,
        "shards": shards,
        "log_bytes": len(logs.getvalue().encode()),
        "recheck_calls": dict(recheck.calls),
        "recheck_reads_shared": recheck.shared,
        "ticks": len(ticks),
        "wall_seconds": time.perf_counter() - started,
    }


# What each line of the cost table is billed on (a key of PRICES and of `_usage`).
COST_ITEMS: tuple[tuple[str, str], ...] = (
    ("DynamoDB writes (on-demand WRU)", "dynamodb_wru"),
    ("DynamoDB reads (on-demand RRU)", "dynamodb_rru"),
    ("SQS requests by the functions", "sqs_request"),
    ("SNS requests (team publishes, opt-out checks)", "sns_request"),
    ("Secrets Manager API calls", "secrets_manager_call"),
    ("Lambda requests", "lambda_request"),
    ("Lambda duration (arm64 GB-s, in-process proxy)", "lambda_gb_second_arm64"),
    ("CloudWatch Logs ingestion (estimate)", "cloudwatch_logs_gb"),
)
PRICED_SERVICES = {"dynamodb", "sqs", "sns", "sesv2", "ses", "secretsmanager"}


def _service_calls(log: CallLog, service: str) -> int:
    return sum(n for (_, s, _), n in log.calls.items() if s == service)


def _usage(run: dict[str, Any], sms_sent: int, rru: float, wru: float) -> dict[str, float]:
    """The day's billable quantities, by PRICES key."""
    log: CallLog = run["log"]
    invocations = sum(log.invocations.values())
    return {
        "dynamodb_wru": wru,
        "dynamodb_rru": rru,
        "sqs_request": _service_calls(log, "sqs"),
        # SNS bills a Publish to a phone number as an SMS (excluded), not as a request.
        "sns_request": _service_calls(log, "sns") - sms_sent,
        "secrets_manager_call": _service_calls(log, "secretsmanager"),
        "lambda_request": invocations,
        "lambda_gb_second_arm64": sum(_gb_seconds(run).values()),
        "cloudwatch_logs_gb": _log_bytes(run) / 1024**3,
    }


def _gb_seconds(run: dict[str, Any]) -> dict[str, float]:
    """Per function: its invocations' wall time, billed by the millisecond, times its MemorySize."""
    return {
        function: sum(math.ceil(d * 1000) / 1000 for d in durations) * run["memory"][function] / 1024
        for function, durations in run["log"].durations.items()
    }


def _log_bytes(run: dict[str, Any]) -> int:
    invocations: int = sum(run["log"].invocations.values())
    return int(run["log_bytes"]) + PLATFORM_LOG_BYTES * invocations


def _check_priced(log: CallLog) -> None:
    if log.observer_errors:
        raise RuntimeError(f"the request-unit estimate failed: {log.observer_errors[:3]}")
    unknown = {s for (_, s, _) in log.calls} - PRICED_SERVICES
    if unknown:
        raise RuntimeError(f"no price for the calls to {sorted(unknown)}")


def _fixed_sweep(run: dict[str, Any], per_million: float) -> tuple[int, float]:
    """(shard queries, USD per million notices) of the work every sweep does whatever the volume.

    Every sweep queries each DueIndex shard once (0.5 RRU each, an index query is eventually
    consistent) and is one Lambda request. At scale it is spread over so many notices that it
    tends to nothing; the "variable" figures leave it out.
    """
    queries = min(run["shards"] * run["ticks"], run["log"].calls[("DueSweepFunction", "dynamodb", "Query")])
    cost = (queries * 0.5 * PRICES["dynamodb_rru"] + run["ticks"] * PRICES["lambda_request"]) * per_million
    return queries, cost


def _delivered(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    team_kinds = {kind.value for kind in TEAM_KINDS}
    sent = [entry for entry in ledger if entry["status"] == "sent"]
    customer = [entry for entry in sent if entry["kind"] not in team_kinds]
    return {
        "ledger_entries": len(ledger),
        "ledger_by_status": dict(Counter(entry["status"] for entry in ledger)),
        "delivered_notices": len(sent),
        "delivered_customer_notices": len(customer),
        "delivered_by_email": sum(1 for entry in customer if entry.get("channel") == "email"),
        "delivered_by_sms": sum(1 for entry in customer if entry.get("channel") == "sms"),
        "delivered_team_notices": sum(1 for entry in sent if entry["kind"] in team_kinds),
        "delivered_by_kind": dict(Counter(entry["kind"] for entry in sent)),
    }


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    log: CallLog = run["log"]
    delivered = _delivered(run["ledger"])
    notices = delivered["delivered_notices"]
    calls = log.total()
    rru, wru, unit_detail = run["units"].totals(run["largest"])
    per_million = 1e6 / notices
    usage = _usage(run, delivered["delivered_by_sms"], rru, wru)
    cost = {item: usage[price] * PRICES[price] * per_million for item, price in COST_ITEMS}
    _check_priced(log)
    infrastructure = sum(cost.values())
    fixed_queries, fixed_cost = _fixed_sweep(run, per_million)
    variable = infrastructure - fixed_cost
    return {
        "customers": len(run["data"]["customers"]),
        "sweeps": run["ticks"],
        "wall_seconds": run["wall_seconds"],
        **delivered,
        "calls": calls,
        "calls_per_delivered_notice": calls / notices,
        "recheck_calls": run["recheck_calls"],
        "recheck_calls_per_delivered_notice": sum(run["recheck_calls"].values()) / notices,
        "recheck_reads_in_shared_batch_reads": run["recheck_reads_shared"],
        "receipt_calls_per_delivered_notice": _receipts(log.calls, lambda key: key[0]) / notices,
        "receipt_invocations_per_delivered_notice": _receipts(log.invocations, str) / notices,
        "billable_calls": calls,
        "billable_calls_per_delivered_notice": calls / notices,
        "fixed_sweep_shard_queries": fixed_queries,
        "variable_calls_per_delivered_notice": (calls - fixed_queries) / notices,
        "calls_by_function_operation": {
            f"{function} {service}.{operation}": n
            for (function, service, operation), n in sorted(log.calls.items())
        },
        "invocations": dict(log.invocations),
        "seconds_by_function": {function: sum(d) for function, d in log.durations.items()},
        "gb_seconds_by_function": _gb_seconds(run),
        "memory_mb": run["memory"],
        "dynamodb_rru": rru,
        "dynamodb_wru": wru,
        "dynamodb_units": unit_detail,
        "log_bytes_with_platform_lines": _log_bytes(run),
        "prices_usd": PRICES,
        "cost_per_million_notices_usd": cost,
        "infrastructure_per_million_usd": infrastructure,
        "ses_per_million_usd": SES_PER_MILLION,
        "infrastructure_share_of_ses_percent": infrastructure / SES_PER_MILLION * 100,
        "fixed_sweep_cost_per_million_usd": fixed_cost,
        "variable_infrastructure_per_million_usd": variable,
        "variable_share_of_ses_percent": variable / SES_PER_MILLION * 100,
    }


# ---------------------------------------------------------------------- output


def calls_table(figures: dict[str, Any]) -> Table:
    delivered = figures["delivered_notices"]
    table = Table(title=f"AWS calls made by the functions over the day, per delivered notice ({delivered})")
    for column in ("function", "call", "calls", "per notice"):
        table.add_column(column, justify="right" if column in ("calls", "per notice") else "left")
    for key, n in sorted(figures["calls_by_function_operation"].items(), key=lambda item: -item[1]):
        function, operation = key.split(" ", 1)
        table.add_row(function, operation, str(n), f"{n / delivered:.2f}")
    table.add_row(
        "all", "", str(figures["calls"]), f"{figures['calls_per_delivered_notice']:.2f}", style="bold"
    )
    return table


def cost_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(item, f"{usd:.2f}") for item, usd in figures["cost_per_million_notices_usd"].items()]
    rows += [
        ("Infrastructure total, as measured", f"{figures['infrastructure_per_million_usd']:.2f}"),
        ("  as a share of SES", f"{figures['infrastructure_share_of_ses_percent']:.1f} %"),
        (
            "  of which the sweep's fixed per-tick shard queries and invocations",
            f"{figures['fixed_sweep_cost_per_million_usd']:.2f}",
        ),
        (
            "Infrastructure without that fixed part (at scale)",
            f"{figures['variable_infrastructure_per_million_usd']:.2f}",
        ),
        ("  as a share of SES", f"{figures['variable_share_of_ses_percent']:.1f} %"),
        ("SES itself (0.10 USD per 1,000 emails), for comparison", f"{SES_PER_MILLION:.2f}"),
    ]
    return rows


def cost_table(figures: dict[str, Any]) -> Table:
    table = Table(title="Cost per million delivered notices, us-east-1 (USD; SMS message fees excluded)")
    table.add_column("item")
    table.add_column("USD per million notices", justify="right")
    for item, usd in cost_rows(figures):
        table.add_row(item, usd)
    return table


def markdown(figures: dict[str, Any], command: str) -> str:
    delivered = figures["delivered_notices"]
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(figures["ledger_by_status"].items()))
    invocations = sum(figures["invocations"].values())
    lines = [
        DOC_START,
        f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d} "
        f"({figures['customers']} customers, {figures['sweeps']} sweeps).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| delivered notices (ledger `sent`) | {delivered} ({figures['delivered_by_email']} email, "
        f"{figures['delivered_by_sms']} SMS, {figures['delivered_team_notices']} team) |",
        f"| ledger entries by status | {statuses} |",
        f"| AWS calls by the functions | {figures['calls']} |",
        f"| billable calls per delivered notice (goal ≤ {GOAL_CALLS_PER_NOTICE:g}) | "
        f"{figures['billable_calls_per_delivered_notice']:.2f} |",
        f"| ... without the sweep's fixed shard queries ({figures['fixed_sweep_shard_queries']} a day) | "
        f"{figures['variable_calls_per_delivered_notice']:.2f} |",
        f"| DynamoDB RRU / WRU per delivered notice | {figures['dynamodb_rru'] / delivered:.2f} / "
        f"{figures['dynamodb_wru'] / delivered:.2f} |",
        f"| Lambda invocations per delivered notice | {invocations / delivered:.2f} |",
        f"| billable calls per delivered notice for the check at send time (goal ≤ {GOAL_RECHECK_CALLS:g}) | "
        f"{figures['recheck_calls_per_delivered_notice']:.2f} ({_listed(figures['recheck_calls'])}) |",
        f"| billable calls / Lambda invocations per delivered notice for the receipts (included above) | "
        f"{figures['receipt_calls_per_delivered_notice']:.2f} / "
        f"{figures['receipt_invocations_per_delivered_notice']:.2f} |",
        "",
        "| calls per delivered notice | |",
        "|---|---|",
    ]
    for key, n in sorted(figures["calls_by_function_operation"].items(), key=lambda item: -item[1]):
        lines.append(f"| {key} | {n / delivered:.2f} |")
    lines += ["", "| cost per million delivered notices | USD |", "|---|---|"]
    lines += [f"| {item} | {usd} |" for item, usd in cost_rows(figures)]
    lines.append(DOC_END)
    return "\n".join(lines)


def _receipts(counts: Any, function_of: Callable[[Any], str]) -> int:
    return sum(n for key, n in counts.items() if function_of(key) in RECEIPT_FUNCTIONS)


def _listed(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) or "none"


def write_doc(section: str) -> None:
    text = DOC.read_text()
    if DOC_START not in text or DOC_END not in text:
        raise RuntimeError(f"{DOC} has no {DOC_START} ... {DOC_END} section to rewrite")
    before, rest = text.split(DOC_START, 1)
    _, after = rest.split(DOC_END, 1)
    DOC.write_text(before + section + after)


def main() -> int:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    customers = int(arguments[0]) if arguments else 300
    figures = analyse(run_day(customers))
    # The same day with the re-check at send time off (no notice counts as having waited)
    without = analyse(run_day(customers, {"RecheckAfterSeconds": str(10 * 24 * 3600)}))
    figures["without_recheck"] = {
        key: without[key]
        for key in (
            "delivered_notices",
            "billable_calls_per_delivered_notice",
            "recheck_calls",
            "ledger_by_status",
        )
    }
    console = Console(width=140)
    console.print(calls_table(figures))
    console.print(
        f"Re-check at send time: {figures['recheck_calls_per_delivered_notice']:.2f} calls per delivered "
        f"notice ({figures['recheck_calls']}; goal ≤ {GOAL_RECHECK_CALLS:g}), and items read in "
        f"{figures['recheck_reads_in_shared_batch_reads']} batch reads of customers and preferences "
        "at no extra call. Calls per delivered notice "
        f"with it {figures['billable_calls_per_delivered_notice']:.2f} ({figures['delivered_notices']} "
        f"delivered), the same day without it {without['billable_calls_per_delivered_notice']:.2f} "
        f"({without['delivered_notices']} delivered, {without['recheck_calls']})."
    )
    console.print(
        f"Delivered notices: {figures['delivered_notices']} = {figures['delivered_by_email']} email + "
        f"{figures['delivered_by_sms']} SMS + {figures['delivered_team_notices']} team (EscalationTopic); "
        f"ledger: {figures['ledger_by_status']}. Billable calls = all calls made by the functions "
        "(none excluded); Lambda's own stream and queue polling is not counted."
    )
    console.print(cost_table(figures))
    summary = [
        Figure(
            "busy day: billable AWS calls per delivered notice",
            figures["billable_calls_per_delivered_notice"],
            "calls",
            goal=GOAL_CALLS_PER_NOTICE,
        ),
        Figure(
            "busy day: calls per delivered notice for the re-check at send time",
            figures["recheck_calls_per_delivered_notice"],
            "calls",
            goal=GOAL_RECHECK_CALLS,
        ),
        Figure(
            "busy day: billable AWS calls per delivered notice, re-check off",
            without["billable_calls_per_delivered_notice"],
            "calls",
            goal=GOAL_CALLS_PER_NOTICE,
        ),
        Figure(
            "busy day: same, without the sweep's fixed shard queries",
            figures["variable_calls_per_delivered_notice"],
            "calls",
            goal=GOAL_CALLS_PER_NOTICE,
        ),
        Figure(
            "busy day: infrastructure USD per million notices",
            figures["infrastructure_per_million_usd"],
            "USD",
        ),
        Figure(
            "busy day: infrastructure cost as a share of SES's",
            figures["infrastructure_share_of_ses_percent"],
            "%",
            goal=GOAL_SHARE_OF_SES,
        ),
        Figure(
            "busy day: same, without the sweep's fixed per-tick cost",
            figures["variable_share_of_ses_percent"],
            "%",
            goal=GOAL_SHARE_OF_SES,
        ),
    ]
    record("busy_day", summary, figures)
    if "--write-doc" in sys.argv:
        write_doc(markdown(figures, "python -m " + " ".join(["bench.busy_day", *sys.argv[1:]])))
        console.print(f"Rewrote the figures in {DOC.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
