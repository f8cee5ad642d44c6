"""`headsup`: operator tools that run locally, with no AWS account.

    headsup preview KIND [--locale xx-YY] [--channel email|sms] [--customer FILE|ID] [--out DIR]
    headsup check-templates [--sms-segments N]
    headsup simulate [--days N] [--customers N] [--seed S] [--record FILE]
    headsup outbox [--record FILE] [--out FILE] [--screenshot PNG]
    headsup pages [--out DIR] [--screenshots DIR]
    headsup notices (--customer ID | --notice ID) [--since 7d|ISO-DATE] [--json]
                    [--stack NAME] [--region R] | [--local [--record FILE]]

`preview` renders one notice exactly as delivery would (same templates, same renderer) and
prints the subject, text and SMS with its segment count and encoding; the HTML email goes to a
file. `check-templates` renders every kind, for every locale and a set of customers that stress
the wording, and fails on a template error, an SMS over budget, or a customer email without its
unsubscribe link. `simulate` runs a seeded population through the whole stack on the embedded
emulator and saves every notice of the run; `outbox` turns that run into a static HTML page.
`pages` renders every page customers see (cli/pages.py) through its real function, in each locale.
`notices` is the one that reads AWS (read-only, with the operator's credentials): what a deployed
stack told one customer, and whether it arrived (or, with --local, the last simulated run).
"""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

from emulator.template import REPO_ROOT

if TYPE_CHECKING:
    from headsup.rendering.renderer import NoticeRenderer

    from cli.outbox import RunNotice, RunRecord

# headsup modules are imported by each command, not here: `simulate` must apply the template's
# environment (Powertools' service and metrics namespace) before the functions' code loads, as
# Lambda does.

TEMPLATES = REPO_ROOT / "templates"
BUSINESS = "Example Co"
UNSUBSCRIBE = "https://notices.example.com/u/sample-token"
LAST_RUN = "build/headsup/last-run.json"  # relative to where the command runs
OUTBOX_PAGE = "build/headsup/outbox.html"
PAGES_DIR = "build/headsup/pages"


def renderer(templates: Path) -> "NoticeRenderer":
    from headsup.rendering.renderer import NoticeRenderer

    return NoticeRenderer(templates, business_name=BUSINESS, support_reply_to="help@example.com")


def preview(args: argparse.Namespace, console: Console) -> int:
    from headsup.domain.kinds import TEAM_KINDS, NoticeKind
    from headsup.rendering.renderer import RenderError, sms_encoding, sms_segments

    from sim.samples import sample_customer, sample_request

    kind = NoticeKind(args.kind)
    try:
        fields = customer_fields(args.customer, Path(args.record))
    except LookupError as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
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
            text = sms.text
            size = f"{len(text)} characters, {sms_encoding(text)}, {sms_segments(text)} segment(s)"
            console.print(f"[bold]SMS[/bold] ({size}):")
            console.print(sms.text, markup=False)
    except RenderError as exc:
        console.print(f"[red]Template error:[/red] {exc}", markup=True)
        return 1
    return 0


def customer_fields(customer: str | None, record: Path) -> dict[str, Any]:
    """`--customer`: a JSON file of customer fields, or the id of a customer of the last run."""
    if customer is None:
        return {}
    if Path(customer).is_file():
        fields: dict[str, Any] = json.loads(Path(customer).read_text())
        return fields
    from cli.outbox import NoRunRecorded, load_run
    from sim.population import busy_day

    try:
        run = load_run(record)
    except NoRunRecorded as exc:
        raise LookupError(f"{customer} is not a file, and {exc}") from exc
    # The run keeps ids only; its customers are regenerated from its seed, as simulate made them.
    for fields in busy_day(customers=run.customers, seed=run.seed)["customers"]:
        if fields["customer_id"] == customer:
            return fields
    raise LookupError(
        f"{customer} is neither a file nor a customer of the last run "
        f"({run.customers} customers, seed {run.seed})"
    )


def check_templates(args: argparse.Namespace, console: Console) -> int:
    from headsup.domain.kinds import TEAM_KINDS, NoticeKind
    from headsup.rendering.renderer import RenderError

    from sim.samples import EDGE_CUSTOMERS, LOCALES, sample_customer, sample_request

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
    from headsup.rendering.renderer import RenderError, sms_segments

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
    if args.days < 1 or args.customers < 1:
        console.print("[red]--days and --customers must be at least 1[/red]")
        return 2
    from cli.outbox import save_run

    record = run_simulation(days=args.days, customers=args.customers, seed=args.seed, console=console)
    saved = save_run(record, Path(args.record))
    summary = summarise(record.notices)
    console.print(summary_table(summary, args))
    console.print(not_sent_table(summary))
    console.print(rechecked_table(record.notices))
    console.print(answers_table(summary))
    if record.sms_opt_outs:
        console.print(f"{len(record.sms_opt_outs)} customer(s) stopped SMS by texting STOP (or ALTO...).")
    console.print(
        f"{len(record.notices)} notices recorded in {saved}; "
        "[bold]headsup outbox[/bold] writes the page that shows each one as its recipient saw it."
    )
    return 0


def summary_table(summary: dict[str, Any], args: argparse.Namespace) -> Table:
    """Per kind, where every notice went: each is counted once, in one of the columns from
    `email` to `other`; `held first` counts those among them that waited before they settled;
    each one sent by `email` or `sms` once more, in one of `delivered` to `no receipt yet`; and
    `answered`, those the customer answered."""
    columns: dict[str, Callable[[dict[str, Any]], int]] = {
        "detected": lambda row: row["detected"],
        "email": lambda row: row["email"],
        "sms": lambda row: row["sms"],
        "team": lambda row: row["team"],
        "skipped": lambda row: sum(row["skipped"].values()),
        "held\nnow": lambda row: sum(row["held"].values()),
        "other": lambda row: sum(row["other"].values()),
        "held\nfirst": lambda row: row["held_first"],
        # What the providers reported of the email and SMS sent: each in one of the five.
        "deli-\nvered": lambda row: row["receipts"]["delivered"],
        "bounced": lambda row: row["receipts"]["bounced"],
        "failed": lambda row: row["receipts"]["failed"],
        "de-\nlayed": lambda row: row["receipts"]["delayed"],
        "no receipt\nyet": lambda row: row["receipts"]["no receipt yet"],
        # Then what the customers answered (with one tap in the email): notices answered.
        "ans-\nwered": lambda row: sum(row["answers"].values()),
    }
    table = Table(
        title=f"simulate: {args.customers} customers, {args.days} day(s), seed {args.seed}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("kind", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", min_width=max(len(line) for line in column.split("\n")))
    totals: Counter[str] = Counter()
    for kind, row in summary.items():
        values = {column: count(row) for column, count in columns.items()}
        totals.update(values)
        table.add_row(kind, *(str(value) for value in values.values()))
    table.add_section()
    table.add_row("all", *(str(totals[column]) for column in columns), style="bold")
    return table


def not_sent_table(summary: dict[str, Any]) -> Table:
    """Why the notices that did not go out did not: skipped, still held when the run ended, or worse."""
    table = Table(
        title="not sent, and why", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    for column in ("kind", "outcome", "reason", "notices"):
        table.add_column(column, justify="right" if column == "notices" else "left", no_wrap=column == "kind")
    for kind, row in summary.items():
        for column in ("skipped", "held"):
            for reason, count in sorted(row[column].items()):
                table.add_row(kind, column, reason, str(count))
        for status, count in sorted(row["other"].items()):  # failed, unconfirmed, dead_lettered
            table.add_row(kind, status, "", str(count))
    return table


def rechecked_table(notices: "Sequence[RunNotice]") -> Table:
    """What checking each notice as it went out did: the notices it stopped, by reason, and those
    it sent because of what the customer was told before, by kind (see cli.outbox.rechecked)."""
    from cli.outbox import rechecked

    table = Table(
        title="checked as they went out",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in ("outcome", "reason or kind", "notices"):
        table.add_column(column, justify="right" if column == "notices" else "left", no_wrap=True)
    for (outcome, name), count in rechecked(notices).items():
        table.add_row(outcome, name, str(count))
    return table


def answers_table(summary: dict[str, Any]) -> Table:
    """What the customers answered, per kind and answer, and how many (of them by SMS reply)."""
    table = Table(
        title="answered by the customer",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in ("kind", "answer", "notices", "by SMS"):
        table.add_column(column, justify="left" if column in ("kind", "answer") else "right", no_wrap=True)
    for kind, row in summary.items():
        for answer, count in sorted(row["answers"].items()):
            table.add_row(kind, answer, str(count), str(row["answers_by_sms"][answer]))
    return table


def run_simulation(*, days: int, customers: int, seed: int, console: Console | None = None) -> "RunRecord":
    """The whole stack on moto from template.yaml: a seeded busy day, then a fresh day of the
    business's callbacks, tickets and visits for each further day, on the template's sweeps;
    every notice with its outcome and what was sent for it."""
    # Imported here: moto and the emulator are only needed by this command.
    import contextlib
    import io

    import time_machine
    from moto import mock_aws
    from rich.progress import Progress

    from cli.outbox import RunRecord, collect_notices, collect_sms_opt_outs
    from sim.answers import Respondents
    from sim.mailboxes import Mailboxes
    from sim.pipeline import LocalPipeline, lambda_output_to
    from sim.population import BILLS_ARRIVE, busy_days, simulate_days
    from sim.replies import Texters

    data = busy_days(  # refuses fewer than one day or customer (ValueError)
        customers=customers, seed=seed, days=days
    )
    start = datetime.fromisoformat(data[0]["day"]["start"])
    end = datetime.fromisoformat(data[-1]["day"]["end"])
    with (
        time_machine.travel(datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC), tick=True),
        mock_aws(),
        Progress(console=console, transient=True, disable=console is None) as progress,
    ):
        # Provisioning runs the template's custom resources, whose functions log as in Lambda: to
        # their log groups, not the operator's terminal.
        with contextlib.redirect_stdout(io.StringIO()):
            # Two-way SMS on, unlike the template's default: the emulator provisions a stand-in for
            # the stack's number, so SMS of the answerable kinds offer "Reply 1 ... 2 ..." and the
            # customers' replies reach InboundSmsFunction: the demo shows the whole loop.
            pipeline = LocalPipeline.provision({"TwoWaySmsNumberCountry": "US"})
        task = progress.add_task("simulating", total=(end - start) / pipeline.sweep.interval() + 1)
        # The customers' mail servers and phones report back on each tick what became of the
        # emails and SMS sent; then the customers who got an email with answer buttons answer it
        # (or not), and those who got an SMS offering answers text back (or not), in their time.
        mailboxes = Mailboxes(pipeline, seed=seed)
        respondents = Respondents(pipeline, seed=seed)
        texters = Texters(pipeline, seed=seed)

        def tick_done(tick: datetime) -> None:
            mailboxes.report()
            respondents.answer()
            texters.reply()
            progress.advance(task)

        with lambda_output_to(io.StringIO(), pipeline.deployment):
            simulate_days(pipeline, data, on_tick=tick_done)
            mailboxes.report()
        notices = collect_notices(pipeline)
        stops = collect_sms_opt_outs(pipeline)
    return RunRecord(
        seed=seed, customers=customers, days=days, start=start, end=end, notices=notices, sms_opt_outs=stops
    )


def summarise(notices: "Sequence[RunNotice]") -> dict[str, Any]:
    """Per kind: every notice counted once, under `email`, `sms`, `team` (sent), `skipped` (by
    reason), `held` (by reason: still held when the run ended) or `other` (by status); and, on
    the side, `held_first`: notices held for a while and then settled, and `receipts`: what the
    provider reported became of each sent by email or SMS, under one of `delivered`, `bounced`,
    `failed`, `delayed` (only that, so far) or `no receipt yet` (cli.timeline.receipt_outcome); and
    `answers`: what the customers answered (`fixed`, `call_later`...), per answer, and
    `answers_by_sms`: those of them answered by SMS reply."""
    from cli.timeline import CUSTOMER_CHANNELS, receipt_outcome

    summary: dict[str, Any] = {}
    for notice in sorted(notices, key=lambda n: n.kind):
        row = summary.setdefault(
            notice.kind,
            {"detected": 0, "email": 0, "sms": 0, "team": 0, "held_first": 0}
            | {"skipped": Counter(), "held": Counter(), "other": Counter(), "receipts": Counter()}
            | {"answers": Counter(), "answers_by_sms": Counter()},
        )
        row["detected"] += 1
        if notice.status == "sent":
            row[{"email": "email", "sms": "sms"}.get(notice.channel or "", "team")] += 1
        elif notice.status in ("skipped", "held"):
            row[notice.status][(notice.reason or "").split(":")[0]] += 1
        else:
            row["other"][notice.status] += 1
        row["held_first"] += notice.hold_until is not None and notice.status != "held"
        if notice.status == "sent" and notice.channel in CUSTOMER_CHANNELS:
            row["receipts"][receipt_outcome(notice.delivery_state)] += 1
        if notice.answer:
            row["answers"][notice.answer] += 1
            if notice.answer_source == "sms":
                row["answers_by_sms"][notice.answer] += 1
    return summary


def outbox(args: argparse.Namespace, console: Console) -> int:
    from cli.outbox import NoRunRecorded, load_run, write_page

    try:
        record = load_run(Path(args.record))
    except NoRunRecorded as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    page = write_page(record, Path(args.out)).resolve()
    console.print(f"{len(record.notices)} notices: [link={page.as_uri()}]{page}[/link]")
    if args.screenshot:
        from cli.browser import screenshot

        shot = screenshot(page, Path(args.screenshot), open_first=args.open_first)
        console.print(f"Screenshot: {shot}")
    return 0


def pages(args: argparse.Namespace, console: Console) -> int:
    from cli.pages import write_pages

    return write_pages(Path(args.out), Path(args.screenshots) if args.screenshots else None, console)


def notices(args: argparse.Namespace, console: Console) -> int:
    from cli.notices import show_notices

    return show_notices(args, console)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="headsup", description="headsup operator tools (local; `notices` reads a deployed stack)"
    )
    cli.add_argument("--templates", default=str(TEMPLATES), help="the templates folder (default: the repo's)")
    commands = cli.add_subparsers(dest="command", required=True)
    one = commands.add_parser("preview", help="render one notice as a customer would get it")
    one.add_argument("kind", help="a notice kind, e.g. bill_increase (see headsup.domain.notices.NoticeKind)")
    one.add_argument("--locale", help="e.g. es-ES (default: the sample customer's en-US)")
    one.add_argument("--channel", choices=["email", "sms"], help="only this channel")
    one.add_argument(
        "--customer", help="a JSON file of customer fields, or a customer id from the last simulate run"
    )
    one.add_argument(
        "--record", default=LAST_RUN, help=f"the run --customer ID refers to (default: {LAST_RUN})"
    )
    one.add_argument("--out", default="build/preview", help="where the HTML email is written")
    every = commands.add_parser("check-templates", help="render every template with edge-case data")
    sim = commands.add_parser(
        "simulate", help="seeded busy days of business data through the whole local stack"
    )
    sim.add_argument("--days", type=int, default=1, help="days to run; new data arrives on the first")
    sim.add_argument("--customers", type=int, default=100)
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--record", default=LAST_RUN, help=f"where the run is saved (default: {LAST_RUN})")
    page = commands.add_parser("outbox", help="a static HTML page of every notice of the last simulate run")
    page.add_argument("--record", default=LAST_RUN, help=f"the run to show (default: {LAST_RUN})")
    page.add_argument("--out", default=OUTBOX_PAGE, help=f"the page to write (default: {OUTBOX_PAGE})")
    page.add_argument("--screenshot", help="also save a PNG of the page, from headless Chromium")
    page.add_argument(
        "--open-first", type=int, default=2, help="notices shown expanded in the screenshot (default: 2)"
    )
    pages_parser(commands)
    notices_parser(commands)
    every.add_argument(
        "--sms-segments",
        type=int,
        default=3,
        help="most segments an SMS may take with edge-case data (a name in a non-Latin script or "
        "with an emoji makes an SMS UCS-2, 67 characters a segment: the longest then take 3)",
    )
    return cli


def pages_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    shown = commands.add_parser(
        "pages",
        help="render every customer page (unsubscribe...) in every locale through the real functions",
    )
    shown.add_argument("--out", default=PAGES_DIR, help=f"where the HTML goes (default: {PAGES_DIR})")
    shown.add_argument("--screenshots", metavar="DIR", help="also save a PNG of each, from headless Chromium")


def notices_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    told = commands.add_parser(
        "notices",
        help="what one customer was told, when, by which channel, and whether it arrived",
        description="One row per notice, newest first. Exit 0: shown; 1: none found; 2: bad arguments; "
        "3: the stack, its ledger or the local run could not be read.",
    )
    which = told.add_mutually_exclusive_group(required=True)
    which.add_argument("--customer", metavar="ID", help="every notice of this customer")
    which.add_argument("--notice", metavar="ID", help="this notice (and its fallback, if it had one)")
    told.add_argument(
        "--since",
        help="with --customer: only notices since then: 7d, 24h, 30m, 2w, or an ISO date or time "
        "(UTC unless it says); with --local, a duration counts back from the end of the run",
    )
    told.add_argument("--json", action="store_true", help="print a JSON list (the ledger's fields) instead")
    told.add_argument("--stack", help="the deployed stack (default: stack_name in samconfig.toml)")
    told.add_argument(
        "--region", help="its region (default: samconfig.toml's with its stack, else your AWS default)"
    )
    told.add_argument("--local", action="store_true", help="read the last `headsup simulate` run instead")
    told.add_argument(
        "--record", default=LAST_RUN, help=f"with --local: the run to read (default: {LAST_RUN})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    if args.command == "preview":
        return preview(args, console)
    if args.command == "simulate":
        return simulate(args, console)
    if args.command == "outbox":
        return outbox(args, console)
    if args.command == "notices":
        return notices(args, console)
    if args.command == "pages":
        return pages(args, console)
    return check_templates(args, console)


if __name__ == "__main__":
    sys.exit(main())
