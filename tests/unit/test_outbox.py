"""The outbox record and page, from a hand-made run (no AWS, no browser)."""

import argparse
import html
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import make_notice_id
from rich.console import Console

from cli.main import answers_table, main, not_sent_table, rechecked_table, summarise, summary_table
from cli.outbox import (
    NoRunRecorded,
    RunNotice,
    RunRecord,
    SentMessage,
    kind_label,
    load_run,
    rechecked,
    render_page,
    save_run,
    sent_per_hour,
)
from sim.samples import sample_customer

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def notice(n: int, kind: str, at: datetime, status: str = "sent", **fields: object) -> RunNotice:
    return RunNotice.model_validate(
        {
            "notice_id": f"n{n:03d}",
            "kind": kind,
            "customer_id": f"cust-{n:05d}",
            "status": status,
            "detected_at": at - timedelta(minutes=5),
            "settled_at": at,
            **fields,
        }
    )


ANA = sample_customer()
EMAIL = SentMessage(
    channel="email",
    to=ANA.email,
    subject="Your bill went up",
    text="Hi Ana,\nYour bill went up.",
    html='<p class="greeting">Hi Ana & co, "quoted"</p>',
)
SMS = SentMessage(channel="sms", to=ANA.phone, text="Example Co: Hi Ana <b>bold</b> & more. Reply STOP")
TEAM = SentMessage(
    channel="team", to="EscalationTopic", subject="Callback overdue", text='{"summary": "late"}'
)


@pytest.fixture
def run() -> RunRecord:
    return RunRecord(
        seed=1,
        customers=5,
        days=1,
        start=START,
        end=START + timedelta(days=1),
        notices=[
            notice(
                1,
                "bill_increase",
                START - timedelta(minutes=30),
                channel="email",
                message=EMAIL,
                customer_timezone="America/Los_Angeles",
            ),
            notice(2, "bill_increase", START - timedelta(minutes=29), channel="sms", message=SMS),
            notice(3, "callback_escalation", START + timedelta(hours=2, minutes=5), message=TEAM),
            notice(4, "callback_overdue", START + timedelta(hours=2, minutes=10), channel="sms", message=SMS),
            notice(
                5,
                "visit_done",
                START + timedelta(hours=3),
                status="held",
                channel="sms",
                reason="quiet_hours",
                hold_until=START + timedelta(days=1, hours=6),
            ),
            notice(6, "ticket_stale", START + timedelta(hours=4), status="skipped", reason="do_not_contact"),
            # Held overnight and released after the simulated window ended.
            notice(
                7,
                "visit_done",
                START + timedelta(days=1, hours=1, minutes=15),
                channel="email",
                message=EMAIL,
            ),
        ],
    )


def test_the_chart_has_one_column_per_hour_stacked_by_kind_and_widens_to_every_sent_notice(
    run: RunRecord,
) -> None:
    chart = sent_per_hour(run, plot_height=100)

    by_hour = {(bar.hour, bar.kind): bar.count for bar in chart.bars}
    assert by_hour == {
        (datetime(2026, 11, 24, 7, tzinfo=UTC), "bill_increase"): 2,
        (datetime(2026, 11, 24, 10, tzinfo=UTC), "callback_escalation"): 1,
        (datetime(2026, 11, 24, 10, tzinfo=UTC), "callback_overdue"): 1,
        (datetime(2026, 11, 25, 9, tzinfo=UTC), "visit_done"): 1,
    }
    assert chart.peak == 2
    assert chart.width == pytest.approx(27 * chart.bar_width)  # 07:00 on the 24th to 09:00 on the 25th
    assert all(bar.x >= 0 and bar.y >= 0 for bar in chart.bars)
    tallest = [bar for bar in chart.bars if bar.count == 2]
    assert tallest[0].height == pytest.approx(100)
    ten = sorted((bar for bar in chart.bars if bar.hour.hour == 10), key=lambda bar: bar.y)
    assert ten[0].y + ten[0].height == pytest.approx(ten[1].y)  # stacked, not overlapping
    assert chart.totals == {
        "bill_increase": 2,
        "callback_escalation": 1,
        "callback_overdue": 1,
        "visit_done": 1,
    }
    assert len(set(chart.colours.values())) == len(chart.colours)


def iframe_documents(page: str) -> list[str | None]:
    found: list[str | None] = []

    class Frames(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "iframe":
                found.append(dict(attrs)["srcdoc"])

    Frames().feed(page)
    return found


def test_the_page_has_a_row_per_notice_and_shows_each_message_escaped(run: RunRecord) -> None:
    page = render_page(run)

    assert page.count('<details class="notice"') == len(run.notices)
    assert html.escape(SMS.text) in page
    assert "<b>bold</b>" not in page  # an SMS is text, never markup
    # The email's HTML is the iframe's document: the attribute, once unescaped, is that HTML exactly.
    assert iframe_documents(page) == [EMAIL.html, EMAIL.html]
    assert "Held until 2026-11-25 14:00 UTC (quiet_hours)" in page
    assert "Not sent: skipped, do_not_contact." in page
    # When it reached the customer, on their clock: 07:30 UTC is 23:30 the evening before in LA
    assert "settled 2026-11-24 07:30 UTC (Mon 23:30 on the customer's clock, America/Los_Angeles)" in page
    assert "<b>2</b> sent (email)" in page
    assert "<b>1</b> sent (team)" in page
    assert page.count('<rect class="bar"') == 4


def test_a_saved_run_reads_back_the_same(run: RunRecord, tmp_path: Path) -> None:
    assert load_run(save_run(run, tmp_path / "run" / "last.json")) == run


def test_the_outbox_explains_a_missing_or_broken_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NoRunRecorded, match="run `headsup simulate` first"):
        load_run(tmp_path / "none.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"seed": "seven"}')
    with pytest.raises(NoRunRecorded, match="is not a run record"):
        load_run(broken)

    assert main(["outbox", "--record", str(tmp_path / "none.json"), "--out", str(tmp_path / "o.html")]) == 1
    assert "headsup simulate" in capsys.readouterr().out
    assert not (tmp_path / "o.html").exists()


def test_the_outbox_command_writes_the_page(run: RunRecord, tmp_path: Path) -> None:
    record = save_run(run, tmp_path / "last.json")
    out = tmp_path / "page" / "outbox.html"

    assert main(["outbox", "--record", str(record), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_page(run)


def test_simulate_refuses_an_empty_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--days", "0"]) == 2
    assert "at least 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("bill_increase", "Bill increase"),
        ("ticket_sla_warning", "Ticket SLA warning"),
        ("visit_done", "Visit done"),
    ],
)
def test_kinds_read_as_words(kind: str, label: str) -> None:
    assert kind_label(kind) == label


def test_the_summary_counts_each_notice_once_and_says_why_the_others_were_not_sent(run: RunRecord) -> None:
    notices = [
        *run.notices,
        notice(8, "visit_done", START + timedelta(hours=5), status="failed", reason="MessageRejected"),
        notice(9, "visit_done", START + timedelta(hours=6), status="unconfirmed"),
    ]
    summary = summarise(notices)
    console = Console(record=True, width=100)
    console.print(not_sent_table(summary))
    lines = [line.split() for line in console.export_text().splitlines()]

    assert summary["visit_done"]["email"] == 1
    assert summary["visit_done"]["held"] == {"quiet_hours": 1}
    assert summary["visit_done"]["other"] == {"failed": 1, "unconfirmed": 1}
    assert summary["visit_done"]["held_first"] == 0  # the one sent after a hold had no hold_until
    assert ["visit_done", "held", "quiet_hours", "1"] in lines
    assert ["visit_done", "failed", "1"] in lines
    assert ["visit_done", "unconfirmed", "1"] in lines
    assert ["ticket_stale", "skipped", "do_not_contact", "1"] in lines


def test_what_the_check_as_they_went_out_did_is_counted_in_the_summary_and_on_the_page(
    run: RunRecord,
) -> None:
    night = START + timedelta(hours=23)
    stopped = [
        notice(10, "callback_overdue", night, status="skipped", reason="no_longer_true: callback done"),
        notice(
            11, "ticket_stale", night, status="skipped", reason="no_longer_true: ticket solved at 06:10 UTC"
        ),
        notice(12, "bill_increase", night, status="skipped", reason="superseded: by notice n016"),
        notice(
            13,
            "bill_increase",
            night,
            status="skipped",
            reason="already_told: notice n001 reached the customer; a correction follows it",
        ),
        notice(
            14,
            "bill_correction",
            night,
            status="skipped",
            reason="nothing_to_correct: nothing about it reached the customer before",
        ),
    ]
    better_news = [
        notice(15, "bill_correction", night, channel="email", message=EMAIL),
        notice(16, "visit_eta_earlier", night, channel="sms", message=SMS),
        notice(17, "visit_eta_earlier", night, status="skipped", reason="no_longer_true: visit arrived"),
    ]
    record = run.model_copy(update={"notices": [*run.notices, *stopped, *better_news]})

    checks = rechecked(record.notices)

    assert checks == {
        ("skipped", "no_longer_true"): 3,
        ("skipped", "superseded"): 1,
        ("skipped", "already_told"): 1,
        ("skipped", "nothing_to_correct"): 1,
        ("sent", "bill_correction"): 1,
        ("sent", "visit_eta_earlier"): 1,
    }
    assert set(rechecked(run.notices).values()) == {0}  # none in a run without them, each still listed
    console = Console(record=True, width=100)
    console.print(rechecked_table(record.notices))
    lines = [line.split() for line in console.export_text().splitlines()]
    assert ["skipped", "no_longer_true", "3"] in lines
    assert ["skipped", "nothing_to_correct", "1"] in lines
    assert ["sent", "visit_eta_earlier", "1"] in lines
    # The page counts them too, and marks the rows the check stopped (the filter shows those alone)
    page = render_page(record)
    assert '<li data-recheck="no_longer_true"><b>3</b> skipped: no_longer_true</li>' in page
    assert '<li data-recheck="bill_correction"><b>1</b> sent: bill_correction</li>' in page
    assert page.count("data-rechecked=") == 6  # not the do_not_contact skip
    row = page[page.index('id="notice-n012"') :].split(">", 1)[0]
    assert 'data-rechecked="superseded"' in row
    assert "Not sent: skipped, no_longer_true: ticket solved at 06:10 UTC." in page
    assert 'id="show-rechecked"' in page


def test_each_notice_shows_what_the_provider_reported_became_of_it(run: RunRecord) -> None:
    # Given the first email delivered and the last one bounced, by the mail servers' reports
    notices = list(run.notices)
    notices[0] = notices[0].model_copy(update={"delivery_state": "delivered"})
    notices[-1] = notices[-1].model_copy(update={"delivery_state": "bounced:permanent"})
    page = render_page(run.model_copy(update={"notices": notices}))

    # Then each row says so beside its outcome, and the rows without a receipt say nothing
    assert page.count('data-delivery="delivered"') == 1
    assert page.count('data-delivery="bounced:permanent"') == 1
    assert page.count('class="receipt"') == 2


def test_each_row_tells_its_timeline_down_to_the_fallback(run: RunRecord) -> None:
    # Given the first email bounced for good, and the SMS after it delivered
    notices = list(run.notices)
    notices[0] = notices[0].model_copy(
        update={
            "delivery_state": "bounced:permanent",
            "delivery_detail": "no_email",
            "delivery_at": START - timedelta(minutes=29),
            "fallback_notice_id": "n002",
            "fallback_reason": "bounced:permanent",
        }
    )
    notices[1] = notices[1].model_copy(
        update={
            "fallback_of": "n001",
            "delivery_state": "delivered",
            "delivery_at": START - timedelta(minutes=28),
        }
    )
    page = render_page(run.model_copy(update={"notices": notices}))

    def steps(notice_id: str) -> list[tuple[str, str]]:
        row = page[page.index(f'id="notice-{notice_id}"') :].split("</details>", 1)[0]
        found = re.findall(r'<li class="step step-(\w+)">(.*?)</li>', row)
        return [(tone, re.sub(r"<[^>]+>", "", words)) for tone, words in found]

    # Then its row tells each step with its time (UTC), in plain words, the fallback last
    assert steps("n001") == [
        ("plain", "detected 07:25"),
        ("ok", "sent 07:30"),
        ("bad", "bounced 07:31 (address does not exist)"),
        ("ok", "fallback by SMS: sent, delivered 07:32"),
    ]
    assert steps("n002")[-1] == ("plain", "second attempt of notice n001")
    assert steps("n005") == [
        ("plain", "detected 10:55"),
        ("wait", "held until Wed 25 Nov 14:00 (quiet hours)"),
    ]
    assert steps("n004")[-1] == ("wait", "no receipt yet")
    assert steps("n006")[-1] == ("plain", "not sent 12:00 (the customer asked not to be contacted)")
    assert page.count('<ol class="timeline"') == len(notices)
    assert '<span class="fallback">, then by SMS</span>' in page
    assert '<time datetime="2026-11-24T07:31:00+00:00">07:31</time>' in page


def test_the_summary_puts_every_notice_sent_to_a_customer_under_one_receipt_outcome() -> None:
    states = [
        ("email", "delivered"),
        ("email", "opened"),
        ("email", "bounced:transient"),
        ("email", "bounced:permanent"),
        ("email", "rejected"),
        ("email", "rendering_failed"),
        ("sms", "failed:permanent"),
        ("sms", "failed:transient"),
        ("email", "delayed"),
        ("sms", None),
    ]
    notices = [
        *(
            notice(20 + n, "ticket_stale", START, channel=c, delivery_state=s)
            for n, (c, s) in enumerate(states)
        ),
        notice(40, "ticket_stale", START, status="skipped", reason="no_channel"),
        notice(41, "callback_escalation", START, channel="escalation_topic"),  # the team: no receipts
    ]

    summary = summarise(notices)

    row = summary["ticket_stale"]
    assert row["receipts"] == {"delivered": 2, "bounced": 2, "failed": 4, "delayed": 1, "no receipt yet": 1}
    assert sum(row["receipts"].values()) == row["email"] + row["sms"]
    assert summary["callback_escalation"]["receipts"] == {}
    console = Console(record=True, width=200)
    console.print(summary_table(summary, argparse.Namespace(customers=5, days=1, seed=1)))
    text = console.export_text()
    assert "no receipt" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split()}
    # detected, email, sms, team, skipped, held now, other, held first, the five receipts, answered
    assert lines["ticket_stale"] == ["11", "7", "3", "0", "1", "0", "0", "0", "2", "2", "4", "1", "1", "0"]
    assert lines["all"][-6:-1] == ["2", "2", "4", "1", "1"]


def answered_run(run: RunRecord) -> RunRecord:
    """The run, and three customers' answers: a ticket still a problem (which the team was told
    of), a ticket fixed, and a callback for later (by SMS reply); a text of a customer's own words
    that went to the team, and a customer who texted STOP."""
    answered_at = START + timedelta(hours=1, minutes=30)
    answers = [
        notice(20, "ticket_follow_up", START + timedelta(hours=1), channel="email", message=EMAIL,
               delivery_state="delivered", answer="not_fixed", answered_at=answered_at, answer_source="link"),
        notice(21, "ticket_follow_up", START + timedelta(hours=1), channel="email", message=EMAIL,
               delivery_state="delivered", answer="fixed", answered_at=answered_at, answer_source="link"),
        notice(22, "callback_overdue", START + timedelta(hours=1), channel="sms", message=SMS,
               delivery_state="delivered", answer="call_later", answered_at=answered_at, answer_source="sms",
               answer_slot=START + timedelta(hours=6)),
        notice(23, "ticket_answer", answered_at + timedelta(minutes=5), channel="escalation_topic",
               message=TEAM, notice_id=make_notice_id(NoticeKind.TICKET_ANSWER, "n020")),
        notice(24, "customer_message", answered_at, channel="escalation_topic", message=TEAM),
    ]  # fmt: skip
    stopped = {"cust-00004": START + timedelta(hours=2, minutes=42)}
    return run.model_copy(update={"notices": [*run.notices, *answers], "sms_opt_outs": stopped})


def test_the_page_counts_the_answers_and_each_row_tells_its_answer_and_the_team_notice_it_made(
    run: RunRecord,
) -> None:
    record = answered_run(run)
    team_id = make_notice_id(NoticeKind.TICKET_ANSWER, "n020")

    page = render_page(record)

    def steps(notice_id: str) -> list[tuple[str, str]]:
        row = page[page.index(f'id="notice-{notice_id}"') :].split("</details>", 1)[0]
        found = re.findall(r'<li class="step step-(\w+)">(.*?)</li>', row)
        return [(tone, html.unescape(re.sub(r"<[^>]+>", "", words))) for tone, words in found]

    # Then the header counts them by answer, in the buttons' words, and by how they came
    assert (
        "<b>3</b> answered by the customer, 2 with one tap in the email and 1 by SMS reply; "
        "1 of the answers made a notice for the team; "
        "1 of their texts, in their own words, made a notice for the team:" in page
    )
    assert '<li data-answer="not_fixed"><b>1</b> No, still a problem</li>' in page
    assert '<li data-answer="call_later"><b>1</b> Call me later</li>' in page
    # ... each answered row says so, and its timeline ends with the answer and what it made
    assert steps("n020")[-2:] == [
        ("wait", "answered: No, still a problem (by link) 09:30 (ticket reopened)"),
        ("ok", "to the team: sent 09:35"),
    ]
    assert steps("n021")[-1] == ("ok", "answered: Yes, it's fixed (by link) 09:30 (ticket confirmed fixed)")
    assert steps("n022")[-1] == ("wait", "answered: Call me at Tue 24 Nov 14:00 (by SMS reply) 09:30")
    assert '<span class="answer">, answered: No, still a problem</span>' in page
    # ... and the team's notice says whose answer it passes on; the filter shows the four alone
    assert steps(team_id)[-1] == ("plain", "the customer's answer to notice n020: No, still a problem")
    assert f'id="notice-{team_id}" data-kind="ticket_answer"' in page
    assert 'data-answer-to="n020"' in page
    assert len(re.findall(r'<details class="notice"[^>]* data-answer(?:-to)?="', page)) == 4
    assert 'id="show-answered"' in page
    # ... and with them what customers texted the team
    assert ':not([data-answer-to]):not([data-kind="customer_message"]) { display: none; }' in page
    # The customer who texted STOP is named, with when (UTC)
    assert (
        '<li data-stopped-sms="cust-00004">cust-00004: stopped SMS (STOP) at '
        '<time datetime="2026-11-24T10:42:00+00:00">10:42</time></li>' in page
    )
    plain = render_page(run)
    assert "<b>0</b> answered by the customer, 0 with one tap in the email and 0 by SMS reply." in plain
    assert "stopped SMS" not in plain


def test_the_summary_counts_the_notices_answered_per_kind_and_what_they_answered(run: RunRecord) -> None:
    summary = summarise(answered_run(run).notices)
    console = Console(record=True, width=200)
    console.print(summary_table(summary, argparse.Namespace(customers=5, days=1, seed=1)))
    console.print(answers_table(summary))
    lines = [line.split() for line in console.export_text().splitlines()]

    assert summary["ticket_follow_up"]["answers"] == {"not_fixed": 1, "fixed": 1}
    assert next(line for line in lines if line[:1] == ["ticket_follow_up"])[-1] == "2"  # answered
    assert next(line for line in lines if line[:1] == ["all"])[-1] == "3"
    assert next(line for line in lines if line[:1] == ["ticket_answer"])[-1] == "0"
    # kind, answer, notices, of them by SMS reply
    assert ["ticket_follow_up", "fixed", "1", "0"] in lines
    assert ["ticket_follow_up", "not_fixed", "1", "0"] in lines
    assert ["callback_overdue", "call_later", "1", "1"] in lines
    assert summary["callback_overdue"]["answers_by_sms"] == {"call_later": 1}
