"""The `headsup` operator commands: preview one notice, check every template."""

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from headsup.domain.kinds import NoticeKind

from cli.main import TEMPLATES, UNSUBSCRIBE, main
from cli.outbox import RunRecord, save_run
from sim.population import busy_day
from sim.samples import PAYLOADS, sample_request

START = datetime(2026, 11, 24, 8, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich wraps table cells to the terminal's width; read the output unwrapped.
    monkeypatch.setenv("COLUMNS", "250")


def test_there_is_a_valid_sample_of_every_notice_kind() -> None:
    assert set(PAYLOADS) == set(NoticeKind)
    for kind in NoticeKind:
        assert sample_request(kind).kind is kind


def test_every_template_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-templates"]) == 0
    assert "no problems" in capsys.readouterr().out


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    return copy


def test_a_customer_email_without_its_unsubscribe_link_fails_the_check(
    templates: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = templates / "_layouts"
    for layout in html.glob("*.j2"):
        layout.write_text(layout.read_text().replace("unsubscribe_url", "support_reply_to"))

    assert main(["--templates", str(templates), "check-templates"]) == 1
    assert "email without the unsubscribe link" in capsys.readouterr().out


def test_an_sms_over_budget_fails_the_check(templates: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sms = templates / "visit_done" / "sms.txt.j2"
    sms.write_text(sms.read_text().replace("Reply STOP", "x" * 700 + " Reply STOP"))

    assert main(["--templates", str(templates), "check-templates"]) == 1
    assert "SMS of" in capsys.readouterr().out


def test_a_template_error_names_the_template_and_line(
    templates: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subject = templates / "ticket_stale" / "email_subject.txt.j2"
    subject.write_text("Your ticket\n{{ notice.no_such_field }}\n")

    assert main(["--templates", str(templates), "preview", "ticket_stale", "--channel", "email"]) == 1
    out = capsys.readouterr().out
    assert "ticket_stale/email_subject.txt.j2, line 2" in out


def test_preview_prints_the_email_and_sms_and_writes_the_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", "bill_increase", "--locale", "es-ES", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "Subject:" in out
    assert "GSM-7, 1 segment(s)" in out
    html = (tmp_path / "bill_increase.es-ES.html").read_text()
    assert "132,40" in html
    assert UNSUBSCRIBE in html


def test_preview_of_a_team_notice_shows_the_escalation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "ticket_escalation"]) == 0
    assert "To the team (ticket_escalation)" in capsys.readouterr().out


def test_preview_takes_a_customer_of_the_last_run_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = RunRecord(seed=11, customers=30, days=1, start=START, end=START + timedelta(days=1), notices=[])
    record = save_run(run, tmp_path / "last-run.json")
    people = busy_day(customers=30, seed=11)["customers"]
    spanish = next(c for c in people if str(c.get("locale", "")).startswith("es-"))

    assert main(["preview", "bill_increase", "--customer", spanish["customer_id"], "--record", str(record),
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"Hola, {spanish['first_name']}" in out  # their name, in their language
    assert (tmp_path / f"bill_increase.{spanish['locale']}.html").exists()

    assert main(["preview", "bill_increase", "--customer", "cust-99999", "--record", str(record)]) == 1
    assert "neither a file nor a customer of the last run" in capsys.readouterr().out
    missing = str(tmp_path / "x")
    assert main(["preview", "bill_increase", "--customer", "cust-00001", "--record", missing]) == 1
    assert "run `headsup simulate` first" in capsys.readouterr().out
