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
units follow DynamoDB's rules from the items' real sizes before and after each write
(`bench.request_units`); Lambda GB-seconds use each function's MemorySize and its invocations'
in-process wall time on moto, an upper-bound proxy for the billed duration. The sweep's per-tick
work that does not depend on the volume (`FIXED_SWEEP_CALLS`, its invocations) is reported apart:
the "without the fixed part" figures leave it out. `--write-doc` rewrites the figures section of
docs/cost.md.
Usage: python -m bench.busy_day [customers] [--write-doc]
"""

import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import time_machine
from headsup.domain.kinds import TEAM_KINDS
from moto import mock_aws
from rich.console import Console
from rich.table import Table

from bench.calls import CallLog, Invocation, OutputBytes, counting_calls
from bench.request_units import RequestUnits
from bench.results import Figure, record
from emulator.template import REPO_ROOT
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import BILLS_ARRIVE, busy_day, simulate_day

# Issue 17's goals for the whole day (the notice's own path: bench.notice_cost).
GOAL_DAY_CALLS_WITHOUT_FIXED = 6.0  # billable calls per delivered notice, the sweep's fixed part left out
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
# The scheduled sweep, and the calls each of its runs makes whatever the volume (bench.calls'
# labels): the first page of each DueIndex shard's query (Sweep.run), and the one query of
# UnresolvedIndex (logic/receipts.py count_unresolved). A further page, and every other call of
# the sweep, is there because something is due.
SWEEP_FUNCTION = "DueSweepFunction"
FIXED_SWEEP_CALLS = frozenset({"dynamodb.Query DueIndex", "dynamodb.Query UnresolvedIndex"})
# The read units of one of those queries at the least: one eventually consistent unit.
FIXED_QUERY_RRU = 0.5
DOC = REPO_ROOT / "docs" / "cost.md"
DOC_START, DOC_END = "<!-- bench.busy_day:start -->", "<!-- bench.busy_day:end -->"


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
    output = OutputBytes()
    start = datetime.fromisoformat(data["day"]["start"])
    started = time.perf_counter()
    with time_machine.travel(datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True), mock_aws():
        pipeline = LocalPipeline.provision(overrides)
        units = RequestUnits(pipeline.deployment)
        recheck = RecheckCalls(pipeline.deployment)
        receivers = Mailboxes(pipeline, seed=2026)  # the mail servers and phones report, as in AWS

        def report(_: datetime) -> None:
            receivers.report()

        with (
            lambda_output_to(output, pipeline.deployment),
            counting_calls(units, output=output) as log,
            counting_calls(recheck.observe),
        ):
            ticks = simulate_day(pipeline, data, on_tick=report)
        ledger = pipeline.ledger()
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
        "memory": memory,
        "log_bytes": output.total,
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


def _usage(run: dict[str, Any], sms_published: int, rru: float, wru: float) -> dict[str, float]:
    """The day's billable quantities, by PRICES key."""
    log: CallLog = run["log"]
    invocations = sum(log.invocations.values())
    return {
        "dynamodb_wru": wru,
        "dynamodb_rru": rru,
        "sqs_request": _service_calls(log, "sqs"),
        # SNS bills a Publish to a phone number as an SMS (excluded), not as a request.
        "sns_request": _service_calls(log, "sns") - sms_published,
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


def _fixed_part(run: dict[str, Any]) -> dict[str, Any]:
    """The sweep's per-tick work that does not depend on the volume, and its billable quantities.

    Each run of the scheduled sweep is one Lambda request and makes the `FIXED_SWEEP_CALLS`, each
    billed `FIXED_QUERY_RRU` at the least (what it reads beyond that is there because something is
    due, and stays in). A run that made no other call is idle: all its duration and log lines are
    fixed; of a run that did more, the fixed part is what the median idle run took and wrote. On a
    day of 300 customers that weighs on every notice; at scale it tends to nothing per notice.
    """
    sweeps: list[Invocation] = [r for r in run["log"].runs if r.function == SWEEP_FUNCTION]
    idle = [r for r in sweeps if _idle(r)]
    idle_seconds = _typical([r.seconds for r in idle], [r.seconds for r in sweeps])
    idle_bytes = _typical([r.output_bytes for r in idle], [r.output_bytes for r in sweeps])
    calls: Counter[str] = Counter()
    seconds = log_bytes = 0.0
    for sweep in sweeps:
        calls.update({label: n for label, n in sweep.calls.items() if label in FIXED_SWEEP_CALLS})
        fixed_seconds = sweep.seconds if _idle(sweep) else min(sweep.seconds, idle_seconds)
        seconds += math.ceil(fixed_seconds * 1000) / 1000
        log_bytes += PLATFORM_LOG_BYTES + (
            sweep.output_bytes if _idle(sweep) else min(sweep.output_bytes, idle_bytes)
        )
    return {
        "sweeps": len(sweeps),
        "idle_sweeps": len(idle),
        "calls": sum(calls.values()),
        "calls_by_label": dict(calls),
        "idle_sweep_seconds": idle_seconds,
        "idle_sweep_output_bytes": idle_bytes,
        "usage": {
            "dynamodb_rru": sum(calls.values()) * FIXED_QUERY_RRU,
            "lambda_request": len(sweeps),
            "lambda_gb_second_arm64": seconds * run["memory"].get(SWEEP_FUNCTION, 0) / 1024,
            "cloudwatch_logs_gb": log_bytes / 1024**3,
        },
    }


def _idle(sweep: Invocation) -> bool:
    """A run of the sweep that made only the fixed calls: nothing was due."""
    return set(sweep.calls) <= FIXED_SWEEP_CALLS


def _typical(idle: list[float], every: list[float]) -> float:
    """What an idle run of the sweep takes: the median idle run's; with none, the least of any run's."""
    return statistics.median(idle) if idle else min(every, default=0.0)


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
    _check_priced(log)
    delivered = _delivered(run["ledger"])
    notices = delivered["delivered_notices"]
    calls = log.total()
    rru, wru, unit_detail = run["units"].totals()
    per_million = 1e6 / notices
    labels = log.by_label()
    sms_published = sum(n for (_, label), n in labels.items() if label == "sns.Publish SMS")
    usage = _usage(run, sms_published, rru, wru)
    cost = {item: usage[price] * PRICES[price] * per_million for item, price in COST_ITEMS}
    infrastructure = sum(cost.values())
    fixed = _fixed_part(run)
    fixed_cost = {price: n * PRICES[price] * per_million for price, n in fixed["usage"].items()}
    variable = infrastructure - sum(fixed_cost.values())
    return {
        "customers": len(run["data"]["customers"]),
        "sweeps": run["ticks"],
        "wall_seconds": run["wall_seconds"],
        **delivered,
        "sms_published": sms_published,
        "calls": calls,
        "calls_per_delivered_notice": calls / notices,
        "recheck_calls": run["recheck_calls"],
        "recheck_calls_per_delivered_notice": sum(run["recheck_calls"].values()) / notices,
        "recheck_reads_in_shared_batch_reads": run["recheck_reads_shared"],
        "receipt_calls_per_delivered_notice": _receipts(log.calls, lambda key: key[0]) / notices,
        "receipt_invocations_per_delivered_notice": _receipts(log.invocations, str) / notices,
        "billable_calls": calls,
        "billable_calls_per_delivered_notice": calls / notices,
        "fixed_sweep": fixed,
        "fixed_sweep_calls": fixed["calls"],
        "variable_calls_per_delivered_notice": (calls - fixed["calls"]) / notices,
        "calls_by_function_operation": {
            f"{function} {service}.{operation}": n
            for (function, service, operation), n in sorted(log.calls.items())
        },
        "calls_by_function_label": {
            f"{function} {label}": n for (function, label), n in sorted(labels.items())
        },
        "invocations": dict(log.invocations),
        "seconds_by_function": {function: sum(d) for function, d in log.durations.items()},
        "gb_seconds_by_function": _gb_seconds(run),
        "memory_mb": run["memory"],
        "dynamodb_rru": rru,
        "dynamodb_wru": wru,
        "dynamodb_wru_per_delivered_notice": wru / notices,
        "dynamodb_units": unit_detail,
        "log_bytes_with_platform_lines": _log_bytes(run),
        "prices_usd": PRICES,
        "cost_per_million_notices_usd": cost,
        "infrastructure_per_million_usd": infrastructure,
        "ses_per_million_usd": SES_PER_MILLION,
        "infrastructure_share_of_ses_percent": infrastructure / SES_PER_MILLION * 100,
        "fixed_sweep_cost_per_million_usd": sum(fixed_cost.values()),
        "fixed_sweep_cost_by_price_usd": fixed_cost,
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
    fixed = figures["fixed_sweep"]
    table.add_row(
        "all but the sweep's fixed part",
        f"{fixed['calls']} fixed queries left out (below)",
        str(figures["calls"] - fixed["calls"]),
        f"{figures['variable_calls_per_delivered_notice']:.2f}",
        style="bold",
    )
    return table


def unit_rows(figures: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(table, or table.index, WRU, RRU) over the day, tables first, each followed by its indexes."""
    units = figures["dynamodb_units"]
    writes = {**units["write_units_by_table"], **units["write_units_by_index"]}
    reads = units["read_units_by_table_or_index"]
    return [
        (name, float(writes.get(name, 0)), reads.get(name, 0.0)) for name in sorted(set(writes) | set(reads))
    ]


def units_table(figures: dict[str, Any]) -> Table:
    delivered = figures["delivered_notices"]
    table = Table(title="DynamoDB request units over the day by table and index (real item sizes)")
    for column in ("table / index", "WRU", "WRU per notice", "RRU", "RRU per notice"):
        table.add_column(column, justify="left" if column == "table / index" else "right")
    for name, wru, rru in unit_rows(figures):
        table.add_row(name, f"{wru:g}", f"{wru / delivered:.2f}", f"{rru:g}", f"{rru / delivered:.2f}")
    table.add_row(
        "all",
        f"{figures['dynamodb_wru']:g}",
        f"{figures['dynamodb_wru'] / delivered:.2f}",
        f"{figures['dynamodb_rru']:g}",
        f"{figures['dynamodb_rru'] / delivered:.2f}",
        style="bold",
    )
    return table


def cost_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    fixed = figures["fixed_sweep"]
    rows = [(item, f"{usd:.2f}") for item, usd in figures["cost_per_million_notices_usd"].items()]
    rows += [
        ("Infrastructure total, as measured", f"{figures['infrastructure_per_million_usd']:.2f}"),
        ("  as a share of SES", f"{figures['infrastructure_share_of_ses_percent']:.1f} %"),
        (
            f"  of which the sweep's fixed per-tick work ({fixed['sweeps']} invocations, "
            f"{fixed['calls']} queries, their idle duration and log lines)",
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
    fixed = figures["fixed_sweep"]
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
        f"| billable calls per delivered notice | {figures['billable_calls_per_delivered_notice']:.2f} |",
        f"| ... without the sweep's fixed part ({fixed['calls']} queries a day: "
        f"{_listed(fixed['calls_by_label'])}; goal ≤ {GOAL_DAY_CALLS_WITHOUT_FIXED:g}) | "
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
    lines += ["", "| DynamoDB request units per delivered notice | WRU | RRU |", "|---|---|---|"]
    lines += [
        f"| {name} | {wru / delivered:.2f} | {rru / delivered:.2f} |" for name, wru, rru in unit_rows(figures)
    ]
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


def summary(figures: dict[str, Any], without: dict[str, Any]) -> list[Figure]:
    return [
        Figure(
            "busy day: billable AWS calls per delivered notice (whole day, as measured)",
            figures["billable_calls_per_delivered_notice"],
            "calls",
        ),
        Figure(
            "busy day: billable AWS calls per delivered notice without the sweep's fixed part",
            figures["variable_calls_per_delivered_notice"],
            "calls",
            goal=GOAL_DAY_CALLS_WITHOUT_FIXED,
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
        ),
        Figure(
            "busy day: DynamoDB write request units per delivered notice",
            figures["dynamodb_wru_per_delivered_notice"],
            "WRU",
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
            "busy day: same, without the sweep's fixed per-tick work",
            figures["variable_share_of_ses_percent"],
            "%",
            goal=GOAL_SHARE_OF_SES,
        ),
    ]


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
            "variable_calls_per_delivered_notice",
            "recheck_calls",
            "ledger_by_status",
        )
    }
    console = Console(width=140)
    console.print(calls_table(figures))
    console.print(units_table(figures))
    console.print(
        f"Re-check at send time: {figures['recheck_calls_per_delivered_notice']:.2f} calls per delivered "
        f"notice ({figures['recheck_calls']}; goal ≤ {GOAL_RECHECK_CALLS:g}), and items read in "
        f"{figures['recheck_reads_in_shared_batch_reads']} batch reads of customers and preferences "
        "at no extra call. Calls per delivered notice "
        f"with it {figures['billable_calls_per_delivered_notice']:.2f} ({figures['delivered_notices']} "
        f"delivered), the same day without it {without['billable_calls_per_delivered_notice']:.2f} "
        f"({without['delivered_notices']} delivered, {without['recheck_calls']})."
    )
    fixed = figures["fixed_sweep"]
    console.print(
        f"Delivered notices: {figures['delivered_notices']} = {figures['delivered_by_email']} email + "
        f"{figures['delivered_by_sms']} SMS + {figures['delivered_team_notices']} team (EscalationTopic); "
        f"ledger: {figures['ledger_by_status']}. Billable calls = all calls made by the functions "
        "(none excluded); Lambda's own stream and queue polling is not counted. The sweep's fixed part: "
        f"{fixed['sweeps']} invocations ({fixed['idle_sweeps']} idle: median "
        f"{fixed['idle_sweep_seconds'] * 1000:.1f} ms, {fixed['idle_sweep_output_bytes']:.0f} log bytes) "
        f"and {fixed['calls']} queries ({_listed(fixed['calls_by_label'])})."
    )
    console.print(cost_table(figures))
    record("busy_day", summary(figures, without), figures)
    if "--write-doc" in sys.argv:
        write_doc(markdown(figures, "python -m " + " ".join(["bench.busy_day", *sys.argv[1:]])))
        console.print(f"Rewrote the figures in {DOC.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
