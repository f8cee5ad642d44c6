"""Still true when it lands, end to end on moto from template.yaml.

A notice held overnight (quiet hours) is checked against the business's item again when the sweep
releases it: what the business did meanwhile (the call made, the ticket solved or reopened, the
bill corrected, the ETA pulled in) decides whether it goes, and with which figures and times. A
bill notice already sent and then corrected gets one correction; a "running late" already sent
and then improved gets one piece of good news.

Nia reads SMS in New York: quiet hours there are 21:00-08:00, 02:00-13:00 UTC in November.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from emulator import sent_emails, sent_sms
from emulator.calls import ApiCall, Proceed, subscribed
from sim.pipeline import LocalPipeline
from tests.stack import bill

NIA = {
    "customer_id": "cust-nia",
    "first_name": "Nia",
    "phone": "+14155550142",
    "locale": "en-US",
    "timezone": "America/New_York",
    "channels": ["sms"],
}
EVENING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 21:00 in New York
MORNING = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 in New York: quiet hours end


def at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=True)


def ledger_by_kind(pipeline: LocalPipeline) -> dict[str, list[dict[str, Any]]]:
    entries: dict[str, list[dict[str, Any]]] = {}
    for entry in pipeline.ledger():
        entries.setdefault(entry["kind"], []).append(entry)
    return entries


def nia_sms() -> list[str]:
    return [sms.message for sms in sent_sms() if sms.phone_number == NIA["phone"]]


@pytest.fixture
def nia(pipeline: LocalPipeline) -> LocalPipeline:
    pipeline.put_customers([NIA])
    return pipeline


# ------------------------------------------------------------------------------ callbacks


def nia_callback(**overrides: Any) -> dict[str, Any]:
    return {
        "callback_id": "cb-nia",
        "customer_id": "cust-nia",
        "promised_at": EVENING.isoformat(),
        "status": "pending",
        "topic": "the router keeps dropping the connection",
        **overrides,
    }


def overdue_apology_held_overnight(pipeline: LocalPipeline) -> None:
    """Promised for 21:00; at 21:30 the apology is decided and held until 08:00."""
    with at(EVENING - timedelta(minutes=5)):
        pipeline.put_callbacks([nia_callback()])
    pipeline.sweep_at(EVENING + timedelta(minutes=30))
    [apology] = ledger_by_kind(pipeline)["callback_overdue"]
    assert (apology["status"], apology["reason"]) == ("held", "quiet_hours")


def test_a_held_apology_is_not_sent_once_the_call_was_made(nia: LocalPipeline) -> None:
    # Given the apology held overnight
    overdue_apology_held_overnight(nia)

    # When the agent calls Nia at 07:40 and marks the callback done, and the sweep runs at 08:00
    with at(MORNING - timedelta(minutes=20)):
        nia.put_callbacks([nia_callback(status="done")])
    nia.sweep_at(MORNING)

    # Then nothing reaches Nia, and the apology's one outcome says why
    assert nia_sms() == []
    [apology] = ledger_by_kind(nia)["callback_overdue"]
    assert apology["status"] == "skipped"
    assert apology["reason"] == "no_longer_true: callback done"


def test_a_held_apology_still_due_promises_a_time_after_it_is_sent(nia: LocalPipeline) -> None:
    # Given the apology held overnight, computed at 21:30 with "we will call you by 10:30 PM"
    overdue_apology_held_overnight(nia)

    # When nobody calls, and the sweep releases it at 08:00
    nia.sweep_at(MORNING)

    # Then it goes, promising the first quarter hour at least an hour (CallbackRescheduleMinutes)
    # after the send: sent a moment after 08:00, that is 09:15
    [text] = nia_sms()
    assert "9:15 AM" in text
    assert "10:30 PM" not in text
    [apology] = ledger_by_kind(nia)["callback_overdue"]
    assert apology["status"] == "sent"
    promised = datetime.fromisoformat(apology["promised"]["new_deadline"])
    sent_at = datetime.fromisoformat(apology["completed_at"])
    assert timedelta(hours=1) <= promised - sent_at < timedelta(hours=1, minutes=15)
    assert promised == MORNING + timedelta(hours=1, minutes=15)


def test_a_re_promised_callback_voids_the_held_apology(nia: LocalPipeline) -> None:
    overdue_apology_held_overnight(nia)
    with at(MORNING - timedelta(hours=2)):
        nia.put_callbacks([nia_callback(promised_at=(MORNING + timedelta(hours=2)).isoformat())])
    nia.sweep_at(MORNING)

    assert nia_sms() == []
    [apology] = ledger_by_kind(nia)["callback_overdue"]
    assert apology["reason"] == "no_longer_true: callback re-promised"


def test_a_released_notice_is_checked_in_the_one_read_its_batch_makes(nia: LocalPipeline) -> None:
    # Given the apology held overnight
    overdue_apology_held_overnight(nia)

    # When the sweep releases it, watching what delivery reads
    reads: list[tuple[str, list[str]]] = []

    def watch(call: ApiCall, proceed: Proceed) -> Any:
        if call.function == "NoticeDeliveryFunction" and call.operation in {"GetItem", "BatchGetItem"}:
            reads.append(
                (call.operation, sorted(call.params.get("RequestItems", {})) or [call.params["TableName"]])
            )
        return proceed()

    with subscribed(calls=watch):
        nia.sweep_at(MORNING)

    # Then its customer, their preferences and the callback came in one BatchGetItem
    tables = sorted(nia.deployment.ref(t) for t in ("CustomersTable", "PreferencesTable", "CallbacksTable"))
    assert reads == [("BatchGetItem", tables)]
    assert len(nia_sms()) == 1


# ------------------------------------------------------------------------------ tickets


def nia_ticket(**overrides: Any) -> dict[str, Any]:
    return {
        "ticket_id": "t-nia",
        "customer_id": "cust-nia",
        "subject": "No signal since the storm",
        "priority": "urgent",  # SLA 4 h
        "status": "open",
        "created_at": (EVENING - timedelta(days=1)).isoformat(),
        "updated_at": (EVENING - timedelta(hours=3)).isoformat(),  # the SLA breaches at 22:00
        **overrides,
    }


def test_a_held_ticket_update_is_not_sent_once_the_ticket_is_solved(nia: LocalPipeline) -> None:
    # Given the breach at 22:00: "still being worked on" is held until 08:00
    with at(EVENING - timedelta(minutes=5)):
        nia.put_tickets([nia_ticket()])
    nia.sweep_at(EVENING + timedelta(hours=1))
    [update] = ledger_by_kind(nia)["ticket_stale"]
    assert update["status"] == "held"

    # When an agent solves it at 01:00 and the sweep runs at 08:00
    solved = EVENING + timedelta(hours=4)
    with at(solved):
        nia.put_tickets(
            [nia_ticket(status="solved", solved_at=solved.isoformat(), updated_at=solved.isoformat())]
        )
    nia.sweep_at(MORNING)

    # Then Nia is not told her solved ticket is still being worked on
    assert nia_sms() == []
    [update] = ledger_by_kind(nia)["ticket_stale"]
    assert (update["status"], update["reason"]) == ("skipped", "no_longer_true: ticket solved at 06:00 UTC")


def test_a_held_follow_up_is_not_sent_once_the_ticket_is_reopened(nia: LocalPipeline) -> None:
    # Given a ticket solved 24 hours before 22:00: the follow-up falls at night and is held
    solved_at = EVENING + timedelta(hours=1) - timedelta(hours=24)
    solved = nia_ticket(status="solved", solved_at=solved_at.isoformat(), updated_at=solved_at.isoformat())
    nia.put_tickets([solved])
    nia.sweep_at(EVENING + timedelta(hours=1))
    [follow_up] = ledger_by_kind(nia)["ticket_follow_up"]
    assert follow_up["status"] == "held"

    # When Nia's problem comes back and the ticket is reopened at 06:00
    with at(MORNING - timedelta(hours=2)):
        reopened = (MORNING - timedelta(hours=2)).isoformat()
        nia.put_tickets([{**solved, "status": "open", "updated_at": reopened}])
    nia.sweep_at(MORNING)

    # Then "is everything working now?" is not asked
    assert nia_sms() == []
    [follow_up] = ledger_by_kind(nia)["ticket_follow_up"]
    assert (follow_up["status"], follow_up["reason"]) == (
        "skipped",
        "no_longer_true: ticket open at 11:00 UTC",
    )


# ------------------------------------------------------------------------------ bills


def june_bill_held_overnight(pipeline: LocalPipeline) -> None:
    """May 100.00, June 150.00 written at 21:30: the SMS is held until 08:00."""
    with at(EVENING + timedelta(minutes=30)):
        pipeline.put_bills([bill("cust-nia", "2026-05", "100.00"), bill("cust-nia", "2026-06", "150.00")])
        pipeline.run()
    [increase] = ledger_by_kind(pipeline)["bill_increase"]
    assert increase["status"] == "held"


def correct_june(pipeline: LocalPipeline, amount: str, when: datetime) -> None:
    with at(when):
        pipeline.put_bills([bill("cust-nia", "2026-06", amount)])
        pipeline.run()


def test_a_held_bill_notice_corrected_before_it_went_is_one_notice_with_the_right_figures(
    nia: LocalPipeline,
) -> None:
    # Given the 150.00 notice held overnight
    june_bill_held_overnight(nia)

    # When the business corrects June to 130.00 at 06:00, and the sweep runs at 08:00
    correct_june(nia, "130.00", MORNING - timedelta(hours=2))
    nia.sweep_at(MORNING)

    # Then Nia gets one SMS, with the right figures, and no correction of what she never saw
    [text] = nia_sms()
    assert "$130.00" in text
    assert "$150.00" not in text
    entries = ledger_by_kind(nia)
    outcomes = sorted(
        (e["status"], e["asserted"]["amount"], e["reason"].split(":")[0]) for e in entries["bill_increase"]
    )
    # (the sent one was held for quiet hours first, and its record keeps that reason)
    assert outcomes == [("sent", "130", "quiet_hours"), ("skipped", "150", "superseded")]
    [correction] = entries["bill_correction"]
    assert (correction["status"], correction["reason"].split(":")[0]) == ("skipped", "nothing_to_correct")


def test_a_held_bill_notice_corrected_to_no_rise_is_not_sent(nia: LocalPipeline) -> None:
    # Given the 150.00 notice held overnight
    june_bill_held_overnight(nia)

    # When June is corrected to 101.00 (1 % on May: nothing worth telling)
    correct_june(nia, "101.00", MORNING - timedelta(hours=2))
    nia.sweep_at(MORNING)

    # Then nothing is sent: the held notice is no longer true
    assert nia_sms() == []
    [increase] = ledger_by_kind(nia)["bill_increase"]
    assert (increase["status"], increase["reason"]) == ("skipped", "no_longer_true: bill amount changed")


@pytest.mark.parametrize(("corrected", "wording"), [("120.00", "less"), ("180.00", "more")])
def test_a_sent_bill_notice_then_corrected_gets_one_correction(
    pipeline: LocalPipeline, corrected: str, wording: str
) -> None:
    # Given Ana (email) told at once that November is 150.00, up from 100.00
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()
    [first] = sent_emails()
    assert "$150.00" in (first.text or "")

    # When the business corrects November, and the same change is seen twice (a replay)
    pipeline.put_bills([bill("cust-ana", "2026-11", corrected)])
    pipeline.run()
    pipeline.put_bills([bill("cust-ana", "2026-11", corrected)])
    pipeline.run()

    # Then one correction names the figure she was given and the right one, and says sorry
    assert len(sent_emails()) == 2
    correction = sent_emails()[1]
    text = correction.text or ""
    assert f"${corrected}" in text
    assert "$150.00" in text
    assert "sorry" in text.lower()
    assert f"{wording} than we said" in text
    # ...and the bill judged afresh stays unsent: the correction already tells her
    fresh = [e for e in ledger_by_kind(pipeline)["bill_increase"] if e["status"] != "sent"]
    assert all(e["reason"].startswith("already_told") for e in fresh)


def test_a_second_correction_names_the_figure_of_the_first(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()
    for amount in ("120.00", "135.50"):
        pipeline.put_bills([bill("cust-ana", "2026-11", amount)])
        pipeline.run()

    texts = [email.text or "" for email in sent_emails()]
    assert len(texts) == 3
    assert "$120.00" in texts[2]
    assert "$135.50" in texts[2]
    assert "$150.00" not in texts[2]


# ------------------------------------------------------------------------------ visits


WINDOW_START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 9:00-11:00 AM in Los Angeles
WINDOW_END = WINDOW_START + timedelta(hours=2)


def ana_visit(**overrides: Any) -> dict[str, Any]:
    return {
        "visit_id": "v-ana",
        "customer_id": "cust-ana",
        "window_start": WINDOW_START.isoformat(),
        "window_end": WINDOW_END.isoformat(),
        "eta": (WINDOW_START + timedelta(minutes=40)).isoformat(),
        "status": "en_route",
        "technician_name": "Carlos Mendes",
        **overrides,
    }


def change_visit(pipeline: LocalPipeline, when: datetime, **fields: Any) -> None:
    with at(when):
        pipeline.put_visits([ana_visit(**fields)])
        pipeline.index_changes()
        pipeline.deliver_notices()


def test_an_eta_pulled_in_after_running_late_is_told_once_as_good_news(pipeline: LocalPipeline) -> None:
    # Given Ana told the technician is on the way, then running late until 11:45
    change_visit(pipeline, WINDOW_START + timedelta(minutes=15))
    late = WINDOW_END + timedelta(minutes=45)
    change_visit(pipeline, WINDOW_END - timedelta(minutes=30), eta=late.isoformat())
    assert len(sent_emails()) == 2

    # When the app pulls the ETA in to 11:10, still after the window (and the record is replayed)
    sooner = WINDOW_END + timedelta(minutes=10)
    change_visit(pipeline, WINDOW_END - timedelta(minutes=15), eta=sooner.isoformat())
    change_visit(pipeline, WINDOW_END - timedelta(minutes=14), eta=sooner.isoformat())

    # Then one good-news email, naming the new time; the restated "running late" stays unsent
    emails = sent_emails()
    assert len(emails) == 3
    assert "11:10\u202fAM" in (emails[2].text or "")  # CLDR puts a narrow no-break space before AM
    assert "sooner" in (emails[2].text or "").lower()
    kinds = ledger_by_kind(pipeline)
    [good_news] = kinds["visit_eta_earlier"]
    assert good_news["status"] == "sent"
    restated = [e for e in kinds["visit_running_late"] if e["status"] == "skipped"]
    assert [e["reason"].split(":")[0] for e in restated] == ["already_told"]


def test_the_ledger_records_the_facts_each_notice_asserted(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-10", "100.00"), bill("cust-ana", "2026-11", "150.00")])
    pipeline.run()

    [entry] = pipeline.ledger()
    assert entry["asserted"] == {"amount": "150", "currency": "USD"}
    assert entry["subject"] == "bills/cust-ana/2026-11"
    assert entry["told_key"] == "bills/cust-ana/2026-11#bill"
    assert Decimal(entry["asserted"]["amount"]) == Decimal("150.00")


def test_replaying_the_visit_stream_in_any_order_changes_nothing(pipeline: LocalPipeline) -> None:
    # Given a visit on the way, told late, then back on time, the technician not there yet
    change_visit(pipeline, WINDOW_START + timedelta(minutes=15))
    late, sooner = WINDOW_END + timedelta(minutes=45), WINDOW_END - timedelta(minutes=5)
    change_visit(pipeline, WINDOW_END - timedelta(minutes=30), eta=late.isoformat())
    change_visit(pipeline, WINDOW_END - timedelta(minutes=20), eta=sooner.isoformat())
    before = sorted((e["notice_id"], e["status"]) for e in pipeline.ledger())
    kinds = {e["kind"] for e in pipeline.ledger()}
    assert kinds == {"visit_on_the_way", "visit_running_late", "visit_eta_earlier"}
    emails = len(sent_emails())

    # When every batch of its stream is fed again, in order and backwards (retried, redriven)
    with at(WINDOW_END - timedelta(minutes=15)):
        events = pipeline.visits_stream.replay_all()
        for event in [*events, *reversed(events)]:
            pipeline.deployment.invoke(pipeline.visits_stream.function_logical_id, event)
        pipeline.deliver_notices()

    # Then not one more notice is decided, and the customer was told nothing more
    assert sorted((e["notice_id"], e["status"]) for e in pipeline.ledger()) == before
    assert len(sent_emails()) == emails
