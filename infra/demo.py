"""`make demo`: the real handlers, end to end, against moto, provisioned from template.yaml.

Loads sample customers and bills, feeds the Bills stream to the detector in Lambda's event
shape, drains NoticeQueue through the delivery function, applies a bill correction, replays
the whole stream to show nothing is sent twice; then runs a simulated day of scheduled sweeps
over sample callbacks and tickets (the business closing some along the way). It prints what
was sent to whom and what the team was told, and writes the rendered emails to
build/demo/outbox.html. Lambda logs go to build/demo/lambda.log.
"""

import html
import json
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import time_machine
from moto import mock_aws
from rich.console import Console
from rich.table import Table

from infra.local_aws import PublishedMessage, SentEmail, SentSms, sent_emails, sent_sms
from infra.pipeline import LocalPipeline, lambda_output_to, load_sample_data
from infra.template import REPO_ROOT

OUT_DIR = REPO_ROOT / "build" / "demo"
BILLS_ARRIVE = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


def main() -> int:
    console = Console()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUT_DIR / "lambda.log"
    started = time.perf_counter()
    data = load_sample_data()
    with ExitStack() as stack:
        # The bills arrive early on the sample day (delivery's quiet hours and cap read the clock).
        stack.enter_context(time_machine.travel(BILLS_ARRIVE, tick=True))
        stack.enter_context(mock_aws())
        pipeline = LocalPipeline.provision()
        stack.enter_context(lambda_output_to(stack.enter_context(log_path.open("w")), pipeline.deployment))
        pipeline.put_customers(data["customers"])
        pipeline.put_bills(data["bills"])
        first_detect, first_deliver = pipeline.run()
        pipeline.put_bills(data["corrections"])
        pipeline.run()
        sends_before_replay = len(sent_emails()) + len(sent_sms())
        replayed = pipeline.bills_stream.replay_all()
        for event in replayed:
            pipeline.deployment.invoke("BillIncreaseDetectorFunction", event)
        replay_deliver = pipeline.deliver_notices()
        replay_sends = len(sent_emails()) + len(sent_sms()) - sends_before_replay
        day = simulate_day(pipeline, data)
        emails, texts = sent_emails(), sent_sms()
        escalations = pipeline.escalations()
        ledger = pipeline.ledger()
        detector_failures = pipeline.detector_failures()
        dead_letters = pipeline.dead_letters()
    elapsed = time.perf_counter() - started

    outbox = write_outbox(emails, texts)
    console.rule("[bold]headsup local run[/bold] (moto, provisioned from template.yaml)")
    console.print(sent_table(emails, texts))
    console.print(escalation_table(escalations))
    console.print(ledger_table(ledger))
    console.print(
        f"Stream: {first_detect.invocations} detector invocation(s); bad records reported in "
        f"batchItemFailures: {len(set(first_detect.batch_item_failures))}. DetectorFailureQueue holds "
        f"{len(detector_failures)} record(s) rejected after bounded retries "
        "(the bad bill, the malformed callback)."
    )
    for line in rejected_lines(log_path):
        console.print(f"  [yellow]log[/yellow] {line}")
    console.print(
        f"Delivery: {first_deliver.processed} message(s) settled, {first_deliver.failures} failed attempt(s) "
        f"retried; NoticeDeadLetterQueue holds {len(dead_letters)} message(s)."
    )
    console.print(
        f"Replayed all {sum(len(e['Records']) for e in replayed)} stream records: "
        f"{replay_deliver.processed} notice request(s) re-queued, [bold]{replay_sends} new send(s)[/bold]."
    )
    console.print(
        f"Simulated day {day[0]:%Y-%m-%d %H:%M} to {day[-1]:%Y-%m-%d %H:%M} UTC: {len(day)} sweeps on the "
        f"template's schedule ({pipeline.sweep.schedule}), with the business closing callbacks and updating "
        "tickets along the way."
    )
    console.print(f"Rendered emails: [link=file://{outbox}]{outbox}[/link]  Lambda logs: {log_path}")
    console.print(f"Wall time: {elapsed:.2f} s")
    return 0 if replay_sends == 0 else 1


def simulate_day(pipeline: LocalPipeline, data: dict[str, Any]) -> list[datetime]:
    """Callbacks, tickets and visits through a day of sweeps, with the business's changes (and the
    technicians' app updates) at their times."""
    pipeline.put_callbacks(data["callbacks"])
    pipeline.put_tickets(data["tickets"])
    pipeline.put_visits(data["visits"])
    pending = sorted(data["changes"], key=lambda change: change["at"])

    def business_changes(tick: datetime) -> None:
        while pending and datetime.fromisoformat(pending[0]["at"]) <= tick:
            change = pending.pop(0)
            pipeline.put_items(change["table"], [change["item"]])

    start = datetime.fromisoformat(data["day"]["start"])
    end = datetime.fromisoformat(data["day"]["end"])
    return pipeline.run_schedule(start, end, on_tick=business_changes)


def escalation_table(escalations: list[PublishedMessage]) -> Table:
    table = Table(title="EscalationTopic: what the team was told")
    table.add_column("subject", overflow="fold")
    table.add_column("summary", overflow="fold")
    for message in escalations:
        table.add_row(message.subject or "", json.loads(message.message)["summary"])
    return table


def rejected_lines(log_path: Path) -> list[str]:
    lines = []
    for raw in log_path.read_text().splitlines():
        if '"Rejected bill record"' not in raw:
            continue
        entry: dict[str, Any] = json.loads(raw)
        lines.append(f"{entry['level']} {entry['message']}: key={entry['key']} problems={entry['problems']}")
    return lines[:1]  # the same record is retried; once is enough to show


def sent_table(emails: list[SentEmail], texts: list[SentSms]) -> Table:
    table = Table(title="Sent", show_lines=True)
    for column in ("channel", "to", "subject / message"):
        table.add_column(column, overflow="fold")
    for email in emails:
        table.add_row("email", ", ".join(email.destinations), email.subject or "")
    for sms in texts:
        table.add_row("sms", sms.phone_number, sms.message)
    return table


def ledger_table(ledger: list[dict[str, Any]]) -> Table:
    table = Table(title="NoticeLedgerTable: one outcome per notice, by kind")
    for column in ("kind", "status", "channel", "notices", "reasons"):
        table.add_column(column, overflow="fold")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for item in ledger:
        groups.setdefault((item["kind"], item["status"], item.get("channel", "")), []).append(item)
    for (kind, status, channel), items in sorted(groups.items()):
        reasons = sorted({f"{i['customer_id']}: {i['reason']}" for i in items if i.get("reason")})
        table.add_row(kind, status, channel, str(len(items)), "\n".join(reasons))
    return table


def write_outbox(emails: list[SentEmail], texts: list[SentSms]) -> Path:
    path = OUT_DIR / "outbox.html"
    sections = [
        "<section><h2>{subject}</h2><p>To: {to}</p>"
        '<iframe style="width:100%;height:640px;border:1px solid #ccc" srcdoc="{body}"></iframe>'
        "<details><summary>Plain-text part</summary><pre>{text}</pre></details></section>".format(
            subject=html.escape(email.subject or ""),
            to=html.escape(", ".join(email.destinations)),
            body=html.escape(email.html or ""),
            text=html.escape(email.text or ""),
        )
        for email in emails
    ]
    sms_items = "".join(
        f"<li><code>{html.escape(sms.phone_number)}</code>: {html.escape(sms.message)}</li>" for sms in texts
    )
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>headsup outbox</title></head>"
        "<body style='font-family:sans-serif;max-width:900px;margin:auto'>"
        f"<h1>headsup outbox: {len(emails)} email(s), {len(texts)} SMS</h1>{''.join(sections)}"
        f"<h2>SMS</h2><ul>{sms_items}</ul></body></html>"
    )
    return path


if __name__ == "__main__":
    sys.exit(main())
