"""`headsup`: operator tools that run locally, with no AWS account.

    headsup preview KIND [--locale xx-YY] [--channel email|sms] [--customer FILE] [--out DIR]
    headsup check-templates [--sms-segments N]
    headsup simulate [--days N] [--customers N] [--seed S]

`preview` renders one notice exactly as delivery would (same templates, same renderer) and
prints the subject, text and SMS with its segment count and encoding; the HTML email goes to a
file. `check-templates` renders every kind, for every locale and a set of customers that stress
the wording, and fails on a template error, an SMS over budget, or a customer email without its
unsubscribe link.
"""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from infra.template import REPO_ROOT

if TYPE_CHECKING:
    from headsup.delivery.rendering import NoticeRenderer

# headsup modules are imported by each command, not here: `simulate` must apply the template's
# environment (Powertools' service and metrics namespace) before the functions' code loads, as
# Lambda does.

TEMPLATES = REPO_ROOT / "templates"
BUSINESS = "Example Co"
UNSUBSCRIBE = "https://notices.example.com/u/sample-token"


def renderer(templates: Path) -> "NoticeRenderer":
    from headsup.delivery.rendering import NoticeRenderer

    return NoticeRenderer(templates, business_name=BUSINESS, support_reply_to="help@example.com")


def encoding(text: str) -> str:
    from headsup.delivery.rendering import GSM7_BASIC, GSM7_EXTENDED

    return "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text) else "UCS-2"


def preview(args: argparse.Namespace, console: Console) -> int:
    from headsup.delivery.rendering import RenderError, sms_segments
    from headsup.notices import NoticeKind
    from headsup.notices.request import TEAM_KINDS

    from infra.samples import sample_customer, sample_request

    kind = NoticeKind(args.kind)
    fields: dict[str, Any] = json.loads(Path(args.customer).read_text()) if args.customer else {}
    if args.locale:
        fields["locale"] = args.locale
    customer = sample_customer(**fields)
    request = sample_request(kind)
    notices = renderer(Path(args.templates))
    try:
        if kind in TEAM_KINDS:
            escalation = notices.render_escalation(request)
            console.print(f"[bold]To the team ({kind}):[/bold] {escalation.subject}")
            console.print(escalation.body, markup=False)
            return 0
        if args.channel in (None, "email"):
            email = notices.render_email(request, customer, unsubscribe_url=UNSUBSCRIBE)
            out = Path(args.out) / f"{kind}.{customer.locale}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(email.html)
            console.print(f"[bold]Subject:[/bold] {email.subject}", markup=True, highlight=False)
            console.print(email.text, markup=False)
            console.print(f"[dim]HTML written to {out}[/dim]")
        if args.channel in (None, "sms"):
            sms = notices.render_sms(request, customer)
            segments = sms_segments(sms.text)
            console.print(
                f"[bold]SMS[/bold] ({len(sms.text)} characters, {encoding(sms.text)}, {segments} segment(s)):"
            )
            console.print(sms.text, markup=False)
    except RenderError as exc:
        console.print(f"[red]Template error:[/red] {exc}", markup=True)
        return 1
    return 0


def check_templates(args: argparse.Namespace, console: Console) -> int:
    from headsup.delivery.rendering import RenderError
    from headsup.notices import NoticeKind
    from headsup.notices.request import TEAM_KINDS

    from infra.samples import EDGE_CUSTOMERS, LOCALES, sample_customer, sample_request

    notices = renderer(Path(args.templates))
    problems: list[tuple[str, str, str, str]] = []
    checked = 0
    for kind in NoticeKind:
        request = sample_request(kind)
        if kind in TEAM_KINDS:
            checked += 1
            try:
                notices.render_escalation(request)
            except RenderError as exc:
                problems.append((kind, "-", "team", str(exc)))
            continue
        for locale in LOCALES:
            for label, fields in EDGE_CUSTOMERS.items():
                customer = sample_customer(locale=locale, **fields)
                checked += 1
                problems += [
                    (kind, locale, label, p) for p in _check_customer_notice(notices, request, customer, args)
                ]
    table = Table(title=f"check-templates: {checked} renderings")
    for column in ("kind", "locale", "customer", "problem"):
        table.add_column(column)
    for row in problems:
        table.add_row(*row)
    if problems:
        console.print(table)
        console.print(f"[red]{len(problems)} problem(s)[/red]")
        return 1
    console.print(f"[green]{checked} renderings, no problems[/green]")
    return 0


def _check_customer_notice(
    notices: "NoticeRenderer", request: Any, customer: Any, args: argparse.Namespace
) -> list[str]:
    from headsup.delivery.rendering import RenderError, sms_segments

    found = []
    try:
        email = notices.render_email(request, customer, unsubscribe_url=UNSUBSCRIBE)
        sms = notices.render_sms(request, customer)
    except RenderError as exc:
        return [f"template error: {exc}"]
    if UNSUBSCRIBE not in email.html or UNSUBSCRIBE not in email.text:
        found.append("email without the unsubscribe link")
    segments = sms_segments(sms.text)
    if segments > args.sms_segments:
        found.append(f"SMS of {segments} segments (budget {args.sms_segments})")
    if "STOP" not in sms.text:
        found.append("SMS without how to stop")
    return found


def simulate(args: argparse.Namespace, console: Console) -> int:
    summary = run_simulation(days=args.days, customers=args.customers, seed=args.seed, console=console)
    table = Table(title=f"simulate: {args.customers} customers, {args.days} day(s), seed {args.seed}")
    for column in ("kind", "detected", "email", "sms", "team", "held first", "skipped (reason)", "other"):
        table.add_column(
            column, justify="left" if column in ("kind", "skipped (reason)", "other") else "right"
        )
    for kind, row in summary.items():
        skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(row["skipped"].items())) or "-"
        other = ", ".join(f"{status} {n}" for status, n in sorted(row["other"].items())) or "-"
        table.add_row(
            kind, str(row["detected"]), str(row["email"]), str(row["sms"]), str(row["team"]),
            str(row["held_first"]), skipped, other,
        )  # fmt: skip
    console.print(table)
    return 0


def run_simulation(*, days: int, customers: int, seed: int, console: Console | None = None) -> dict[str, Any]:
    """The whole stack on moto from template.yaml: a seeded busy day (new data on the first day),
    then the template's sweeps for the remaining days; per kind, what became of every notice."""
    # Imported here: moto and the emulator are only needed by this command.
    import io
    from datetime import timedelta

    import time_machine
    from moto import mock_aws
    from rich.progress import Progress

    from infra.pipeline import LocalPipeline, lambda_output_to
    from infra.population import BILLS_ARRIVE, busy_day, simulate_day

    if days < 1 or customers < 1:
        raise SystemExit("--days and --customers must be at least 1")
    data = busy_day(customers=customers, seed=seed)
    start = datetime.fromisoformat(data["day"]["start"])
    end = start + timedelta(days=days)
    with (
        time_machine.travel(datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True),
        mock_aws(),
        Progress(console=console, transient=True, disable=console is None) as progress,
    ):
        pipeline = LocalPipeline.provision()
        task = progress.add_task("simulating", total=(end - start) / pipeline.sweep.interval())
        with lambda_output_to(io.StringIO(), pipeline.deployment):
            simulate_day(pipeline, data, on_tick=lambda tick: progress.advance(task))
            if days > 1:
                after = start + timedelta(days=1) + pipeline.sweep.interval()
                pipeline.run_schedule(after, end, on_tick=lambda tick: progress.advance(task))
            ledger = pipeline.ledger()
    return summarise(ledger)


def summarise(ledger: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for entry in sorted(ledger, key=lambda e: e["kind"]):
        row = summary.setdefault(
            entry["kind"],
            {
                "detected": 0,
                "email": 0,
                "sms": 0,
                "team": 0,
                "held_first": 0,
                "skipped": Counter(),
                "other": Counter(),
            },
        )
        row["detected"] += 1
        row["held_first"] += bool(entry.get("hold_until"))
        status, channel = entry["status"], entry.get("channel")
        if status == "sent":
            row[{"email": "email", "sms": "sms"}.get(channel or "", "team")] += 1
        elif status == "skipped":
            row["skipped"][str(entry.get("reason", "")).split(":")[0]] += 1
        else:
            row["other"][status] += 1
    return summary


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="headsup", description="headsup operator tools (local, no AWS)")
    cli.add_argument("--templates", default=str(TEMPLATES), help="the templates folder (default: the repo's)")
    commands = cli.add_subparsers(dest="command", required=True)
    one = commands.add_parser("preview", help="render one notice as a customer would get it")
    one.add_argument("kind", help="a notice kind, e.g. bill_increase (see headsup.notices.NoticeKind)")
    one.add_argument("--locale", help="e.g. es-ES (default: the sample customer's en-US)")
    one.add_argument("--channel", choices=["email", "sms"], help="only this channel")
    one.add_argument("--customer", help="a JSON file of customer fields to use instead of the sample's")
    one.add_argument("--out", default="build/preview", help="where the HTML email is written")
    every = commands.add_parser("check-templates", help="render every template with edge-case data")
    sim = commands.add_parser(
        "simulate", help="a seeded busy day (and more days of sweeps) on the local stack"
    )
    sim.add_argument("--days", type=int, default=1, help="days to run; new data arrives on the first")
    sim.add_argument("--customers", type=int, default=100)
    sim.add_argument("--seed", type=int, default=7)
    every.add_argument(
        "--sms-segments",
        type=int,
        default=4,
        help="most segments an SMS may take with edge-case data (a long name in a locale whose dates "
        "need UCS-2, such as ja-JP or ar-EG, takes 4)",
    )
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    if args.command == "preview":
        return preview(args, console)
    if args.command == "simulate":
        return simulate(args, console)
    return check_templates(args, console)


if __name__ == "__main__":
    sys.exit(main())
