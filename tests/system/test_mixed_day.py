"""The demo's whole sample day, replayed: every notice ends in exactly one recorded outcome."""

import io
import re
from datetime import UTC, datetime, timedelta

import time_machine

from emulator import sent_emails, sent_sms
from sim.pipeline import LocalPipeline, load_sample_data


def test_every_notice_of_a_replayed_mixed_day_ends_in_exactly_one_recorded_outcome(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given the demo's whole sample day: bills, callbacks, tickets and visits, with the business's
    # changes along the way
    data = load_sample_data()
    pipeline.put_customers(data["customers"])
    with time_machine.travel(datetime(2026, 11, 24, 7, 30, tzinfo=UTC), tick=True):
        pipeline.put_bills(data["bills"])
        pipeline.run()
    pipeline.put_callbacks(data["callbacks"])
    pipeline.put_tickets(data["tickets"])
    pipeline.put_visits(data["visits"])
    changes = sorted(data["changes"], key=lambda change: change["at"])

    def business(tick: datetime) -> None:
        while changes and datetime.fromisoformat(changes[0]["at"]) <= tick:
            change = changes.pop(0)
            pipeline.put_items(change["table"], [change["item"]])

    start = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    pipeline.run_schedule(start, start + timedelta(hours=24), on_tick=business)
    sends_before = len(sent_emails()) + len(sent_sms())
    outcomes_before = {entry["notice_id"]: entry["status"] for entry in pipeline.ledger()}

    # When every stream is replayed from the start and the next day's sweeps run
    with time_machine.travel(start + timedelta(hours=24, minutes=5), tick=True):
        for source in (pipeline.bills_stream, pipeline.visits_stream):
            for event in source.replay_all():
                pipeline.deployment.invoke(source.function_logical_id, event)
        pipeline.deliver_notices()
    pipeline.run_schedule(start + timedelta(hours=24, minutes=10), start + timedelta(hours=30))

    # Then no notice was sent twice and every one has exactly one final record
    ledger = pipeline.ledger()
    assert len({entry["notice_id"] for entry in ledger}) == len(ledger)
    assert {entry["status"] for entry in ledger} <= {"sent", "skipped", "held", "failed", "dead_lettered"}
    customer_sends = [e for e in ledger if e["status"] == "sent" and e.get("channel") in ("email", "sms")]
    assert len(sent_emails()) + len(sent_sms()) == len(customer_sends)
    assert set(outcomes_before) <= {entry["notice_id"] for entry in ledger}
    assert sends_before <= len(customer_sends)
    # ... and in all that day's logs, not one email address, phone number or name of a customer
    logs = lambda_logs.getvalue()
    assert "Notice outcome recorded" in logs
    for person in data["customers"]:
        for field in ("email", "phone", "first_name", "last_name"):
            value = person.get(field)
            if value:
                assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", logs), (
                    f"{field} of {person['customer_id']}"
                )
