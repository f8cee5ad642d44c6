"""A whole busy day (sim.population) through the real handlers on moto: every notice kind occurs."""

import io
from collections import Counter
from datetime import UTC, datetime

import time_machine
from headsup.domain.kinds import FROM_CUSTOMERS, NoticeKind
from moto import mock_aws

from emulator import sent_emails, sent_sms
from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import busy_day, simulate_day


def test_a_busy_day_of_60_customers_raises_every_notice_kind_each_with_one_outcome() -> None:
    # Given 60 customers' bills, callbacks, tickets and visits, with their opt-outs (a seed whose
    # do-not-contact customer's bill went up: each scenario is guaranteed once, the policy's
    # refusals are not)
    data = busy_day(customers=60, seed=1)
    with time_machine.travel(datetime(2026, 11, 24, 7, 30, tzinfo=UTC), tick=True), mock_aws():
        pipeline = LocalPipeline.provision()
        with lambda_output_to(io.StringIO(), pipeline.deployment):
            # When the bills arrive at 07:30 UTC (a few corrected after), and the day's sweeps run
            # with the business's and the technicians' changes at their times
            ticks = simulate_day(pipeline, data)
            ledger = pipeline.ledger()
            emails, texts = sent_emails(), sent_sms()
            dead_letters, detector_failures = pipeline.dead_letters(), pipeline.detector_failures()

    # Then every kind of notice the business's data raises occurred and was sent at least once
    # (customers do not answer on this day: test_cli_simulate's run has them answer)
    assert len(ticks) == 24 * 12 + 1
    raised = {kind.value for kind in NoticeKind} - FROM_CUSTOMERS
    kinds = Counter(entry["kind"] for entry in ledger)
    assert set(kinds) == raised, kinds
    sent_kinds = {entry["kind"] for entry in ledger if entry["status"] == "sent"}
    assert sent_kinds == raised
    # ... each notice has one outcome, nothing broke the contract, and moto's outbox matches the ledger
    assert len({entry["notice_id"] for entry in ledger}) == len(ledger)
    assert {entry["status"] for entry in ledger} <= {"sent", "skipped", "held"}
    assert not dead_letters
    assert not detector_failures
    customer_sends = [e for e in ledger if e["status"] == "sent" and e.get("channel") in ("email", "sms")]
    assert len(emails) + len(texts) == len(customer_sends)
    # ... and the policy had work to do: opt-outs, do_not_contact and unusable channels were skipped
    reasons = {entry.get("reason", "").split(":")[0] for entry in ledger if entry["status"] == "skipped"}
    assert {"do_not_contact", "no_channel"} <= reasons
    # ... and so had the check as they went out: the business acted while some waited for the
    # morning (a callback made, a ticket solved or reopened, a bill corrected), a corrected bill
    # replaced the one held, and a correction or better news went only where it fitted what the
    # customer had been told
    assert {"no_longer_true", "superseded", "already_told", "nothing_to_correct"} <= reasons
    stopped = {entry["kind"] for entry in ledger if entry.get("reason", "").startswith("no_longer_true")}
    assert {"callback_overdue", "ticket_stale", "ticket_follow_up", "bill_increase"} <= stopped
