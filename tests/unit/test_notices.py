"""`headsup notices`: its plain words, its arguments, and `--local` on a saved run (no AWS here:
the deployed path is tests/adapters/test_notices_command.py)."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import make_notice_id
from headsup.domain.receipts import DeliveryState

from cli.main import main
from cli.notices import (
    BAD_ARGUMENTS,
    FOUND,
    NONE_FOUND,
    UNREACHABLE,
    NoticesUnavailable,
    deploy_settings,
    parse_since,
)
from cli.outbox import RunNotice, RunRecord, load_run, save_run
from cli.timeline import (
    RECEIPT_OUTCOMES,
    STATES,
    Clock,
    answer_step,
    answer_words,
    delivery_step,
    fallback_step,
    outcome_step,
    reason_words,
    receipt_outcome,
    timeline,
)
from emulator.template import REPO_ROOT

DETECTED = datetime(2026, 11, 24, 15, 55, tzinfo=UTC)  # 07:55 in Los Angeles
LA = "America/Los_Angeles"


def notice(name: str, **fields: object) -> RunNotice:
    at = fields.pop("at", DETECTED + timedelta(minutes=5))
    assert isinstance(at, datetime)
    return RunNotice.model_validate(
        {
            "notice_id": name,
            "kind": "bill_increase",
            "customer_id": "cust-ana",
            "status": "sent",
            "channel": "email",
            "detected_at": at - timedelta(minutes=5),
            "created_at": at,
            "settled_at": at,
            "sent_at": at if fields.get("status", "sent") == "sent" else None,
            "customer_timezone": LA,
            **fields,
        }
    )


def test_since_takes_a_duration_or_an_iso_date_or_time() -> None:
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("24h") == timedelta(hours=24)
    assert parse_since("30m") == timedelta(minutes=30)
    assert parse_since("2w") == timedelta(weeks=2)
    assert parse_since("2026-11-24") == datetime(2026, 11, 24, tzinfo=UTC)  # no offset: UTC
    assert parse_since("2026-11-24T08:00:00+01:00") == datetime(2026, 11, 24, 7, tzinfo=UTC)
    assert parse_since("2026-11-24T08:00Z") == datetime(2026, 11, 24, 8, tzinfo=timezone.utc)  # noqa: UP017
    for wrong in ("yesterday", "7 days", "-3d", ""):
        with pytest.raises(ValueError, match="give a duration"):
            parse_since(wrong)


def test_the_stack_is_the_one_sam_deploys(tmp_path: Path) -> None:
    assert deploy_settings([REPO_ROOT / "samconfig.toml"]) == {"stack_name": "headsup", "region": "us-east-1"}
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[default.global.parameters]\nstack_name = "everywhere"\n'
        '[default.deploy.parameters]\nstack_name = "deployed"\n'
    )
    assert deploy_settings([tmp_path / "none.toml", config]) == {
        "stack_name": "deployed"
    }  # deploy's own wins
    assert deploy_settings([tmp_path / "none.toml"]) == {}
    config.write_text("stack_name = \n")
    with pytest.raises(NoticesUnavailable, match="not valid TOML"):
        deploy_settings([config])


def test_reasons_read_as_words() -> None:
    assert reason_words("frequency_cap+quiet_hours") == "daily limit reached, quiet hours"
    assert reason_words("no_longer_true: callback done") == "no longer true: callback done"
    assert reason_words("something_new") == "something new"
    assert reason_words(None) == ""


def test_every_delivery_state_has_words_and_one_place_in_the_summary() -> None:
    assert set(STATES) == {state.value for state in DeliveryState}
    assert {receipt_outcome(state) for state in DeliveryState} | {receipt_outcome(None)} == set(
        RECEIPT_OUTCOMES
    )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"delivery_state": "delivered"}, "delivered 08:02"),
        ({"delivery_state": "bounced:permanent", "delivery_detail": "no_email"},
         "bounced 08:02 (address does not exist)"),
        ({"delivery_state": "bounced:permanent"}, "bounced 08:02 (permanent)"),
        ({"delivery_state": "delayed"}, "delayed 08:02 (the provider is still trying)"),
        ({"channel": "sms", "delivery_state": "failed:permanent", "delivery_detail": "opted_out"},
         "failed 08:02 (the number opted out of texts)"),
        ({"channel": "sms", "delivery_state": "failed:transient", "delivery_detail": "unreachable"},
         "not delivered 08:02 (phone unreachable)"),
        ({"delivery_state": "rejected"}, "refused by the email service 08:02"),
        ({"delivery_state": "complained", "delivery_at": DETECTED + timedelta(days=1)},
         "delivered, marked as spam Wed 25 Nov 07:55"),
        ({"delivery_state": "failed:permanent", "delivery_detail": "new_code"}, "failed 08:02 (new code)"),
        ({}, "no receipt yet"),
    ],
)  # fmt: skip
def test_what_the_provider_reported_reads_as_words_on_the_customers_clock(
    fields: dict[str, object], words: str
) -> None:
    sent = notice("n1", **({"delivery_at": DETECTED + timedelta(minutes=7)} | fields))
    step = delivery_step(sent)

    assert step is not None
    assert step.text(Clock(ZoneInfo(LA)), sent.detected_at) == words


def test_no_receipt_is_expected_of_a_notice_not_sent_or_sent_to_the_team() -> None:
    assert delivery_step(notice("n1", status="skipped", reason="no_channel", channel=None)) is None
    assert delivery_step(notice("n1", channel="escalation_topic", sent_at=None)) is None


def test_what_delivery_did_reads_as_words() -> None:
    clock, day = Clock(ZoneInfo(LA)), DETECTED
    held = notice(
        "n1", status="held", reason="quiet_hours", hold_until=DETECTED + timedelta(hours=16, minutes=5)
    )
    assert outcome_step(held).text(clock, day) == "held until Wed 25 Nov 00:00 (quiet hours)"
    assert outcome_step(notice("n2", status="skipped", reason="do_not_contact")).text(clock) == (
        "not sent Tue 24 Nov 08:00 (the customer asked not to be contacted)"
    )
    assert outcome_step(notice("n3", status="unconfirmed", resolved_by_receipt="delivered")).what.startswith(
        "sent (confirmed"
    )
    assert outcome_step(notice("n4", status="unconfirmed")).tone == "bad"
    assert outcome_step(notice("n5", status="dead_lettered")).what.startswith("not sent: stuck")


def test_the_fallback_is_told_from_its_own_item_when_read_else_from_the_first_attempts() -> None:
    clock = Clock(ZoneInfo(LA))

    def told(first: RunNotice, second: RunNotice | None = None) -> str:
        step = fallback_step(first, second)
        return "" if step is None else step.text(clock, DETECTED)

    first = notice(
        "n1",
        delivery_state="bounced:permanent",
        fallback_notice_id="n2",
        fallback_reason="bounced:permanent",
        fallback_at=DETECTED + timedelta(minutes=6),
    )
    second = notice("n2", channel="sms", fallback_of="n1", at=DETECTED + timedelta(minutes=7))
    recorded = first.model_copy(
        update={
            "fallback_status": "skipped",
            "fallback_channel": "sms",
            "fallback_detail": "no_channel",
            "fallback_completed_at": DETECTED + timedelta(minutes=7),
        }
    )
    arrived = second.model_copy(
        update={"delivery_state": "delivered", "delivery_at": DETECTED + timedelta(minutes=9)}
    )

    assert told(first) == "fallback by the other channel: queued 08:01"  # started, no outcome yet
    assert told(recorded) == "fallback by SMS: not sent 08:02 (no way to reach the customer)"
    assert told(first, second) == "fallback by SMS: sent 08:02 (no receipt yet)"
    assert told(first, arrived) == "fallback by SMS: sent, delivered 08:04"
    assert told(second) == "second attempt of notice n1"
    assert told(notice("n3")) == ""
    assert [step.what for step in timeline(first, arrived)] == [
        "detected",
        "sent",
        "bounced",
        "fallback by SMS: sent, delivered",
    ]


@pytest.fixture
def record(tmp_path: Path) -> Path:
    """A saved run: Ana's bounced email and its SMS fallback, a notice held overnight, an older one
    from the day before; and one of Jonas's."""
    notices = [
        notice("n-old", at=DETECTED - timedelta(days=1), delivery_state="delivered",
               delivery_at=DETECTED - timedelta(days=1)),
        notice("n-bounced", delivery_state="bounced:permanent", delivery_detail="no_email",
               delivery_at=DETECTED + timedelta(minutes=6), fallback_notice_id="n-fallback",
               fallback_status="sent", fallback_channel="sms"),
        notice("n-fallback", channel="sms", fallback_of="n-bounced", at=DETECTED + timedelta(minutes=8),
               delivery_state="delivered", delivery_at=DETECTED + timedelta(minutes=9)),
        notice("n-held", status="held", channel="sms", reason="quiet_hours", at=DETECTED + timedelta(hours=6),
               hold_until=DETECTED + timedelta(hours=16, minutes=5)),
        notice("n-waited", channel="sms", reason="quiet_hours", at=DETECTED + timedelta(hours=7),
               hold_until=DETECTED + timedelta(hours=7)),
        notice("n-jonas", customer_id="cust-jonas", customer_timezone="Europe/Berlin"),
    ]  # fmt: skip
    end = DETECTED + timedelta(hours=8)
    run = RunRecord(seed=1, customers=2, days=1, start=end - timedelta(days=1), end=end, notices=notices)
    return save_run(run, tmp_path / "last-run.json")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def shown(out: str) -> list[str]:
    """The notices in the table, in order: each row's first line ends with its id."""
    return [
        line.split()[-1] for line in out.splitlines() if line.split() and line.split()[-1].startswith("n-")
    ]


def test_local_shows_a_customers_notices_newest_first_on_their_clock(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notices", "--local", "--record", str(record), "--customer", "cust-ana"]) == FOUND

    out = capsys.readouterr().out
    assert shown(out) == ["n-waited", "n-held", "n-fallback", "n-bounced", "n-old"]
    assert "when (America/Los_Angeles)" in out
    row = next(line for line in out.splitlines() if line.rstrip().endswith("n-bounced"))
    assert "detected Tue 24 Nov 07:55" in row
    assert "bounced 08:01 (address does not exist)" in row
    assert "fallback by SMS: sent, delivered 08:04" in row
    assert "held until Wed 25 Nov 00:00 (quiet hours)" in out
    assert "waited until 14:55 (quiet hours)" in out  # then sent, as the `when` column says


def test_local_since_counts_back_from_the_end_of_the_run(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The run ended at 23:55 UTC; 12 hours before, only the day's own notices
    assert (
        main(["notices", "--local", "--record", str(record), "--customer", "cust-ana", "--since", "12h"])
        == FOUND
    )
    assert shown(capsys.readouterr().out) == ["n-waited", "n-held", "n-fallback", "n-bounced"]
    since = ["--since", "2026-11-24T20:00Z"]
    assert main(["notices", "--local", "--record", str(record), "--customer", "cust-ana", *since]) == FOUND
    assert shown(capsys.readouterr().out) == ["n-waited", "n-held"]


def test_local_notice_comes_with_its_fallback_and_json_has_the_ledgers_fields(
    record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notices", "--local", "--record", str(record), "--notice", "n-bounced", "--json"]) == FOUND

    found = json.loads(capsys.readouterr().out)
    assert [n["notice_id"] for n in found] == ["n-bounced", "n-fallback"]
    assert found[0]["delivery_detail"] == "no_email"
    assert found[0]["detected_at"] == "2026-11-24T15:55:00Z"
    assert found[1]["fallback_of"] == "n-bounced"
    assert "message" not in found[0]


def test_local_says_what_it_could_not_find(
    record: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["notices", "--local", "--record", str(tmp_path / "none.json"), "--customer", "cust-ana"])
        == UNREACHABLE
    )
    assert "run `headsup simulate` first" in capsys.readouterr().err

    assert (
        main(["notices", "--local", "--record", str(record), "--customer", "cust-nobody", "--json"])
        == NONE_FOUND
    )
    out, err = capsys.readouterr()
    assert json.loads(out) == []
    assert "no notices for customer cust-nobody in the last simulate run" in err

    assert main(["notices", "--local", "--record", str(record), "--notice", "n-nothing"]) == NONE_FOUND
    assert "no notice n-nothing in the last simulate run" in capsys.readouterr().err

    assert (
        main(["notices", "--local", "--record", str(record), "--customer", "x", "--stack", "s"])
        == BAD_ARGUMENTS
    )
    assert "--local reads the last simulate run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # one of --customer and --notice, not both
        main(["notices", "--local", "--customer", "x", "--notice", "y"])
    assert usage.value.code == BAD_ARGUMENTS


def test_a_run_saved_before_the_timeline_fields_still_loads(record: Path) -> None:
    saved = json.loads(record.read_text())
    newer = {"delivery_at", "delivery_detail", "created_at", "sent_at", "resolved_by_receipt", "resolved_at"}
    for old in saved["notices"]:
        for name in [name for name in old if name in newer or name.startswith("fallback_")]:
            del old[name]
    record.write_text(json.dumps(saved))

    run = load_run(record)

    assert len(run.notices) == 6
    assert all(n.delivery_detail is None and n.fallback_notice_id is None for n in run.notices)


ANSWERED_AT = DETECTED + timedelta(hours=2, minutes=47)  # 10:42 in Los Angeles


def answered(answer: str, **fields: object) -> RunNotice:
    given: dict[str, object] = {
        "kind": "ticket_follow_up",
        "delivery_state": "delivered",
        "delivery_at": DETECTED + timedelta(minutes=6),
        "answer": answer,
        "answered_at": ANSWERED_AT,
        "answer_source": "link",
    }
    return notice("n-follow-up", **(given | fields))


def team_notice(of: RunNotice) -> RunNotice:
    # AnswerFunction names the team's notice after the notice answered
    return notice(
        make_notice_id(NoticeKind.TICKET_ANSWER, of.notice_id),
        kind="ticket_answer",
        channel="escalation_topic",
        at=ANSWERED_AT + timedelta(minutes=5),
        sent_at=None,
    )


def test_what_the_customer_answered_reads_as_the_button_they_tapped_and_what_it_changed() -> None:
    clock = Clock(ZoneInfo(LA))

    def told(first: RunNotice) -> str:
        step = answer_step(first, clock)
        return "" if step is None else step.text(clock, DETECTED)

    assert told(answered("not_fixed")) == "answered: No, still a problem (by link) 10:42 (ticket reopened)"
    assert told(answered("fixed")) == "answered: Yes, it's fixed (by link) 10:42 (ticket confirmed fixed)"
    # "Call me later" with the time chosen, on the customer's clock: 22:00 UTC is 14:00 in LA
    later = answered(
        "call_later", kind="callback_overdue", answer_slot=datetime(2026, 11, 24, 22, tzinfo=UTC)
    )
    assert told(later) == "answered: Call me at Tue 24 Nov 14:00 (by link) 10:42"
    assert told(answered("call_now", answer_source="sms")) == (
        "answered: Call me now (by SMS reply) 10:42 (to be called within 15 minutes)"
    )
    assert told(notice("n-unanswered")) == ""
    assert answer_words("call_later") == "Call me later"
    assert answer_words("shrug") == "shrug"  # an answer this version does not know, as its words
    tones = [step.tone for step in (answer_step(answered(a), clock) for a in ("fixed", "not_right")) if step]
    assert tones == ["ok", "wait"]  # the team acts on the second


def test_the_answer_and_the_team_notice_it_made_end_the_timeline_and_the_team_notice_says_whose() -> None:
    clock = Clock(ZoneInfo(LA))
    first = answered("not_fixed")
    team = team_notice(first)

    steps = timeline(first, team=team, clock=clock)

    assert [step.what for step in steps] == [
        "detected",
        "sent",
        "delivered",
        "answered: No, still a problem (by link)",
        "to the team: sent",
    ]
    assert steps[-1].text(clock, DETECTED) == "to the team: sent 10:47"
    assert timeline(team, answered=first, clock=clock)[-1].what == (
        "the customer's answer to notice n-follow-up: No, still a problem"
    )


def test_local_shows_what_the_customer_answered_and_the_team_notice_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = answered("not_fixed")
    team = team_notice(first)
    end = DETECTED + timedelta(hours=8)
    run = RunRecord(
        seed=1, customers=1, days=1, start=end - timedelta(days=1), end=end, notices=[first, team]
    )
    record = save_run(run, tmp_path / "last-run.json")

    assert main(["notices", "--local", "--record", str(record), "--customer", "cust-ana"]) == FOUND

    out = capsys.readouterr().out
    assert "answered" in out.splitlines()[1] + out.splitlines()[2]  # the column's heading
    assert "answered: No, still a problem (by link) 10:42 (ticket reopened)" in out
    assert "to the team: sent 10:47" in out
    assert "the customer's answer to notice n-follow-up" in out
    assert main(["notices", "--local", "--record", str(record), "--customer", "cust-ana", "--json"]) == FOUND
    found = {n["notice_id"]: n for n in json.loads(capsys.readouterr().out)}
    assert (found["n-follow-up"]["answer"], found["n-follow-up"]["answered_at"]) == (
        "not_fixed",
        "2026-11-24T18:42:00Z",
    )


def test_a_run_saved_before_answers_still_loads_and_the_ledgers_answer_is_read(record: Path) -> None:
    saved = json.loads(record.read_text())
    for old in saved["notices"]:
        for name in ("answer", "answered_at", "answer_source", "answer_slot"):
            old.pop(name, None)
    record.write_text(json.dumps(saved))

    assert all(n.answer is None and n.answered_at is None for n in load_run(record).notices)
    item = {
        "notice_id": "n1",
        "kind": "callback_overdue",
        "customer_id": "cust-ana",
        "status": "sent",
        "detected_at": "2026-11-24T15:55:00+00:00",
        "updated_at": "2026-11-24T16:00:00+00:00",
        "answer": "call_later",
        "answered_at": "2026-11-24T18:42:00+00:00",
        "answer_source": "link",
        "answer_slot": "2026-11-24T22:00:00+00:00",
    }
    read = RunNotice.from_item(item)
    assert (read.answer, read.answer_source) == ("call_later", "link")
    assert read.answer_slot == datetime(2026, 11, 24, 22, tzinfo=UTC)
