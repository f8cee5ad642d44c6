"""`headsup simulate`: the whole stack on moto for seeded busy days, summarised per kind."""

import re
from datetime import time
from pathlib import Path

import pytest
from headsup.domain.kinds import NoticeKind

from cli.main import main, run_simulation, summarise
from cli.outbox import RunRecord, SentMessage, load_run, rechecked
from emulator.template import load_template

UNSUBSCRIBE_LINK = re.compile(r"https://[^\s\"'<>]+/unsubscribe/[^\s\"'<>]+")
# Answer links are signed with the deployment's key too: each run's differ.
ANSWER_LINK = re.compile(r"https://[^\s\"'<>]+/answer/[^\s\"'<>]+")
# The team's notice of what a customer texted carries when SNS took it, to the sub-second.
SUBSECOND = re.compile(r"(T\d\d:\d\d:\d\d)\.\d+")


def without_links(message: SentMessage) -> SentMessage:
    def strip(text: str) -> str:
        return SUBSECOND.sub(r"\1", ANSWER_LINK.sub("<answer>", UNSUBSCRIBE_LINK.sub("<link>", text)))

    return message.model_copy(
        update={"text": strip(message.text), "html": message.html and strip(message.html)}
    )


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_simulate_reports_every_kind_and_the_same_seed_gives_the_same_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Twelve customers, among them some texted first in the Americas with a bill this month and
    # last, and in Europe: each story of the business acting while a text waits for the morning
    first = run_simulation(days=1, customers=12, seed=7)
    again = run_simulation(days=1, customers=12, seed=7)

    # The same notices with the same outcomes and words (the clock ticks in real time between
    # sweeps, so the sub-second timestamps differ, and the sweep's shards are worked in parallel,
    # so notices settled in the same tick may come in another order; each run is a new
    # deployment, with its own API address and signing key, so its unsubscribe links differ and
    # are compared without them)
    def told(run: RunRecord) -> list[tuple[object, ...]]:
        return sorted(
            (
                (n.notice_id, n.status, n.channel, n.reason, n.message and without_links(n.message))
                for n in run.notices
            ),
            key=lambda notice: str(notice[0]),
        )

    assert told(first) == told(again)
    emails = [n.message for n in first.notices if n.message is not None and n.message.channel == "email"]
    assert emails
    assert all("<link>" in without_links(email).text for email in emails)  # every email had its link
    summary = summarise(first.notices)
    # Every kind the business's data makes; the team's notices of what customers answer or text
    # back come only when one asks the team for something, which twelve customers may not do
    from_customers = {"ticket_answer", "callback_answer", "visit_answer", "customer_message"}
    assert set(summary) - from_customers == {kind.value for kind in NoticeKind} - from_customers
    # Some customers answered an email's buttons or an SMS, each counted once under its kind
    answered = [n for n in first.notices if n.answer]
    assert answered
    assert any(n.answer_source == "sms" for n in answered)  # ...and some texted back (two-way SMS is on)
    assert sum(sum(row["answers"].values()) for row in summary.values()) == len(answered)
    for row in summary.values():
        settled = (
            row["email"]
            + row["sms"]
            + row["team"]
            + sum(row["skipped"].values())
            + sum(row["held"].values())
            + sum(row["other"].values())
        )
        assert settled == row["detected"]  # every notice is in exactly one column
    sent = [n for n in first.notices if n.status == "sent"]
    assert sent
    assert all(n.message is not None for n in sent)  # each joined to what the provider accepted
    # Every email sent ends with what the mail servers reported of it (SMS receipts: not yet)
    emailed = [n for n in sent if n.channel == "email"]
    assert emailed
    assert all(n.delivery_state in {"delivered", "bounced:permanent"} for n in emailed)
    # ... and the summary puts each one sent to a customer under one outcome of its receipt
    for row in summary.values():
        assert sum(row["receipts"].values()) == row["email"] + row["sms"]
    # Checked as they went out: each outcome of that check occurred, counted from the ledger's reasons
    checks = rechecked(first.notices)
    assert list(checks) == [
        ("skipped", "no_longer_true"),
        ("skipped", "superseded"),
        ("skipped", "already_told"),
        ("skipped", "nothing_to_correct"),
        ("sent", "bill_correction"),
        ("sent", "visit_eta_earlier"),
    ]
    assert all(checks.values()), checks
    for (outcome, name), count in checks.items():
        if outcome == "skipped":
            assert count == sum(summary[kind]["skipped"][name] for kind in summary)
        else:
            assert count == summary[name]["email"] + summary[name]["sms"]

    record = tmp_path / "run.json"
    assert main(["simulate", "--customers", "3", "--seed", "5", "--record", str(record)]) == 0
    out = capsys.readouterr().out
    assert "simulate: 3 customers, 1 day(s), seed 5" in out
    assert "checked as they went out" in out
    lines = [line.split() for line in out.splitlines()]
    for (outcome, name), count in rechecked(load_run(record).notices).items():
        assert [outcome, name, str(count)] in lines
    assert f"recorded in {record}" in out.replace("\n", "")
    assert load_run(record).customers == 3


def test_every_sms_reaches_the_customer_at_a_decent_hour_on_their_own_clock() -> None:
    # Given two simulated days of the whole stack, for customers in several timezones
    record = run_simulation(days=2, customers=12, seed=5)
    parameters = load_template()["Parameters"]
    opens, closes = (
        time.fromisoformat(parameters[p]["Default"]) for p in ("QuietHoursStart", "QuietHoursEnd")
    )
    urgent = set(parameters["QuietHoursBypassKinds"]["Default"].split(","))

    texts = [n for n in record.notices if n.status == "sent" and n.channel == "sms"]
    # Then every SMS but the technician's urgent ones went out inside the window, on the clock of
    # the customer who got it (their timezone, or the template's default, as delivery reads it)
    for notice in texts:
        local = notice.settled_locally
        assert local is not None
        if notice.kind not in urgent:
            assert opens <= local.time() < closes, (notice.kind, notice.customer_timezone, local)
    # And the check is not vacuous: some SMS waited for the morning, and went then
    waited = [n for n in texts if n.reason == "quiet_hours" and n.hold_until is not None]
    assert waited
    assert all(n.settled_at >= n.hold_until for n in waited if n.hold_until)
    assert len({n.customer_timezone for n in texts}) >= 2  # more than one clock
