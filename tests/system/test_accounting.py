"""The accounting invariant over a busy day with faults: nothing lost, nothing sent twice.

Every notice a detector put on the queue ends in exactly one recorded outcome (sent, held then
sent, skipped with a reason, failed, unconfirmed, or dead-lettered), and what SES/SNS accepted
equals what the ledger says went out. Then every stream batch and queue message of the day is
fed again three times, in order and shuffled, and not one more message goes out.
"""

import io
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from moto import mock_aws

from emulator import sent_emails, sent_sms, topic_messages
from emulator.faults import FaultPlan, Rule, injected
from emulator.iam import denied
from sim.mailboxes import Mailboxes
from sim.pipeline import LocalPipeline, lambda_output_to
from sim.population import busy_day, simulate_day

CUSTOMERS = 200
DELIVERY = "NoticeDeliveryFunction"
FINAL = {"sent", "skipped", "failed", "unconfirmed", "dead_lettered"}
pytestmark = [
    # Killed invocations publish no metrics in Lambda; here Powertools' flush still runs and says so.
    pytest.mark.filterwarnings("ignore:No application metrics:UserWarning"),
    # Its tests share one module-scoped faulty day: they stay on one xdist worker, so it is built once.
    pytest.mark.xdist_group("accounting"),
]


def faults_of_a_bad_day(plan: FaultPlan, rejected_addresses: set[str]) -> dict[str, Rule]:
    """Every kind of fault issue 7 names, at rates that make each happen several times."""
    return {
        "ses rate throttling": plan.error(
            "sesv2", "SendEmail", "Throttling", "Maximum sending rate exceeded.", probability=0.15
        ),
        "ses daily quota": plan.error(
            "sesv2", "SendEmail", "Throttling", "Daily message quota exceeded.", probability=0.03, times=4
        ),
        "ses permanent rejection": plan.error(
            "sesv2",
            "SendEmail",
            "MessageRejected",
            "Email address is not verified.",
            when=lambda p: bool(set(p["Destination"]["ToAddresses"]) & rejected_addresses),
        ),
        "ses killed after accepting": plan.kill_after("sesv2", "SendEmail", probability=0.05, times=3),
        "ses answer lost": plan.no_answer_after("sesv2", "SendEmail", probability=0.1, times=2),
        "sns sms error": plan.error(
            "sns", "Publish", "InternalError", probability=0.08, when=lambda p: "PhoneNumber" in p
        ),
        "sns killed after accepting": plan.kill_after(
            "sns", "Publish", probability=0.03, times=2, when=lambda p: "PhoneNumber" in p
        ),
        # A batch's prefetch throttled: each record then reads its own customer and preferences
        "dynamodb throttled batch read": plan.error(
            "dynamodb",
            "BatchGetItem",
            "ProvisionedThroughputExceededException",
            probability=0.1,
            function=DELIVERY,
        ),
        "dynamodb throttled read": plan.error(
            "dynamodb",
            "GetItem",
            "ProvisionedThroughputExceededException",
            probability=0.2,
            function=DELIVERY,
        ),
        "dynamodb throttled claim": plan.error(
            "dynamodb",
            "UpdateItem",
            "ProvisionedThroughputExceededException",
            # Only the team's claims are single UpdateItems (a customer's is a transaction with
            # its sent log): about 80 a day here, so a rate that throttles a few of them
            probability=0.06,
            function=DELIVERY,
            when=lambda p: ":intent" in p.get("ExpressionAttributeValues", {}),
        ),
        "sqs duplicate": plan.twice("sqs", "SendMessageBatch", probability=0.1),
    }


@pytest.fixture(scope="module")
def day() -> Iterator[dict[str, Any]]:
    """The busy day played once for all the checks below (it takes a while on moto)."""
    data = busy_day(customers=CUSTOMERS, seed=2026)
    # Three addresses SES rejects, of customers the day writes to: email first, and a callback,
    # ticket or visit of their own
    owners = {item["customer_id"] for name in ("callbacks", "tickets", "visits") for item in data[name]}
    emails = sorted(
        c["email"]
        for c in data["customers"]
        if isinstance(c.get("email"), str)
        and c["customer_id"] in owners
        and (c.get("channels") or ["email"])[0] == "email"
    )
    rejected = set(random.Random(5).sample(emails, 3))
    start = datetime.fromisoformat(data["day"]["start"])
    with (
        time_machine.travel(datetime(2026, 11, 24, 7, 0, tzinfo=UTC), tick=True),
        mock_aws(),
        injected(FaultPlan(seed=2026)) as plan,
    ):
        pipeline = LocalPipeline.provision()
        # As in AWS, a failed message comes back after the queue's VisibilityTimeout (the next sweep
        # tick), by which time the lease of a killed invocation has run out.
        pipeline.notice_queue.honour_visibility_timeout = True
        logs = io.StringIO()
        with lambda_output_to(logs, pipeline.deployment):
            rules = faults_of_a_bad_day(plan, rejected)
            # The customers' mail servers and phones report what became of each message as it
            # goes (a seeded few bounce or fail, which sends those notices by the other channel).
            receivers = Mailboxes(pipeline, seed=2026, bounced=0.05, sms_failed_permanently=0.05)
            simulate_day(pipeline, data, on_tick=lambda _: receivers.report())
            # The faults stop; a further day lets held notices, retries and second attempts play out.
            plan.rules.clear()
            pipeline.run_schedule(
                start + timedelta(hours=24, minutes=5),
                start + timedelta(hours=48),
                on_tick=lambda _: receivers.report(),
            )
            # The last tick's messages are reported on, and any second attempt that queues goes.
            receivers.report()
            pipeline.deliver_notices()
            receivers.report()
            outcome = {
                "pipeline": pipeline,
                "plan": plan,
                "rules": rules,
                "rejected": rejected,
                "ledger": pipeline.ledger(),
                "emails": sent_emails(),
                "sms": sent_sms(),
                "escalations": topic_messages(pipeline.deployment, "EscalationTopic"),
                "dead_letters": pipeline.dead_letters(),
                "end": start + timedelta(hours=48, minutes=10),
                "logs": logs,
                "customers": data["customers"],
            }
            # The replay test runs inside this same mock, clock and fault plan (cleared by then).
            yield outcome


def queued_bodies(plan: FaultPlan, queue_url: str) -> list[str]:
    """The message bodies the functions sent to the queue: one by one (SendMessage), or in batches
    (SendMessageBatch: the detectors and the sweep)."""
    bodies = []
    for call in plan.calls:
        if call.params.get("QueueUrl") != queue_url:
            continue
        if call.operation == "SendMessage":
            bodies.append(call.params["MessageBody"])
        elif call.operation == "SendMessageBatch":
            bodies += [entry["MessageBody"] for entry in call.params["Entries"]]
    return bodies


def detected_notice_ids(plan: FaultPlan, queue_url: str) -> Counter[str]:
    """Notice ids the detectors and the sweep put on NoticeQueue (copies SQS duplicated counted once)."""
    return Counter(json.loads(body)["notice_id"] for body in queued_bodies(plan, queue_url))


def test_every_fault_kind_was_really_injected(day: dict[str, Any]) -> None:
    injected_counts = {name: rule.injected for name, rule in day["rules"].items()}
    assert all(injected_counts.values()), injected_counts


def test_every_detected_notice_has_exactly_one_final_outcome(day: dict[str, Any]) -> None:
    ledger: list[dict[str, Any]] = day["ledger"]
    detected = detected_notice_ids(day["plan"], day["pipeline"].deployment.ref("NoticeQueue"))
    recorded = Counter(entry["notice_id"] for entry in ledger)

    assert len(detected) > CUSTOMERS  # a busy day: more notices than customers
    assert set(detected) == set(recorded)  # zero unaccounted, nothing recorded that was not detected
    assert max(recorded.values()) == 1
    statuses = Counter(entry["status"] for entry in ledger)
    assert set(statuses) <= FINAL, statuses  # nothing left in_progress or held
    assert statuses["sent"] > len(ledger) / 2
    # Dead letters in the ledger are the messages in the dead-letter queue, one for one
    dead = {entry["notice_id"] for entry in ledger if entry["status"] == "dead_lettered"}
    assert dead == {message["notice_id"] for message in day["dead_letters"]}


def test_held_notices_were_sent_later(day: dict[str, Any]) -> None:
    # Held by the policy (quiet hours, the cap): never before its time. A hold for SES's daily
    # quota is only a time to look again: a copy of the message that finds the quota allowing it
    # (SQS delivers some twice here) may send it sooner, and the hold's release then finds it sent.
    held_then_sent = [e for e in day["ledger"] if e.get("hold_until") and e["status"] == "sent"]
    by_policy = [e for e in held_then_sent if e.get("reason") != "daily_quota"]
    assert by_policy
    for entry in by_policy:
        assert entry["completed_at"] >= entry["hold_until"]


def test_provider_sends_equal_the_sent_and_unconfirmed_outcomes(day: dict[str, Any]) -> None:
    ledger: list[dict[str, Any]] = day["ledger"]
    by_channel = Counter(
        (entry["status"], entry.get("channel"))
        for entry in ledger
        if entry["status"] in {"sent", "unconfirmed"}
    )
    # Every unconfirmed notice here was in fact accepted (the faults kill or cut off *after* the
    # provider took it), so the providers' counts include them.
    assert len(day["emails"]) == by_channel["sent", "email"] + by_channel["unconfirmed", "email"]
    assert len(day["sms"]) == by_channel["sent", "sms"] + by_channel["unconfirmed", "sms"]
    assert len(day["escalations"]) == by_channel["sent", "escalation_topic"]
    assert by_channel["unconfirmed", "email"] + by_channel["unconfirmed", "sms"] > 0


def test_every_message_sent_ends_with_a_delivery_state_or_no_receipt_yet(day: dict[str, Any]) -> None:
    # What the support desk answers for each notice that went out: what the provider said became
    # of it, or explicitly that nothing was heard yet (an unconfirmed SMS has no id to be found
    # by: it waits in UnresolvedIndex until its window ends, then is counted for the alarm).
    went_out = [
        e
        for e in day["ledger"]
        if e["status"] in {"sent", "unconfirmed"} and e.get("channel") in {"email", "sms"}
    ]
    answers = Counter(
        e.get("delivery_state")
        or ("no receipt yet" if e["status"] == "unconfirmed" and "receipt_due_at" in e else None)
        for e in went_out
    )
    assert None not in answers, answers
    assert answers["delivered"] > len(went_out) / 2
    # The seeded failures happened, and each notice that never arrived had its second attempt
    never_arrived = [
        e for e in went_out if e.get("delivery_state") in {"bounced:permanent", "failed:permanent"}
    ]
    assert never_arrived
    second_attempts = {e["fallback_of"]: e for e in day["ledger"] if "fallback_of" in e}
    for first in never_arrived:
        if "fallback_of" in first:
            continue  # a second attempt never has one of its own
        second = second_attempts[first["notice_id"]]
        assert second["status"] in FINAL
        assert first["fallback_status"] == second["status"]


def test_no_email_went_out_twice(day: dict[str, Any]) -> None:
    per_notice = Counter(email.message["X-Headsup-Notice-Id"] for email in day["emails"])
    assert per_notice
    assert max(per_notice.values()) == 1


def test_permanent_rejections_were_recorded_once_each_without_retry(day: dict[str, Any]) -> None:
    rule: Rule = day["rules"]["ses permanent rejection"]
    failed = [e for e in day["ledger"] if e["status"] == "failed"]
    assert rule.injected == len(failed) > 0
    assert {e["reason"] for e in failed} == {"PermanentSendError: MessageRejected"}


def test_replaying_every_batch_three_times_in_order_and_shuffled_sends_nothing_more(
    day: dict[str, Any],
) -> None:
    pipeline: LocalPipeline = day["pipeline"]
    plan: FaultPlan = day["plan"]
    sends_before = (
        len(sent_emails()) + len(sent_sms()) + len(topic_messages(pipeline.deployment, "EscalationTopic"))
    )
    outcomes_before = {entry["notice_id"]: entry["status"] for entry in pipeline.ledger()}
    streams = [
        pipeline.bills_stream,
        pipeline.callbacks_stream,
        pipeline.tickets_stream,
        pipeline.visits_stream,
    ]
    queue_url = pipeline.deployment.ref("NoticeQueue")
    messages = queued_bodies(plan, queue_url)
    assert len(messages) >= len(outcomes_before)

    sqs = boto3.client("sqs", region_name=pipeline.deployment.region)
    shuffle = random.Random(3)
    with time_machine.travel(day["end"], tick=True):
        for round_number in range(3):
            for source in streams:
                events = source.replay_all()
                if round_number > 0:
                    shuffle.shuffle(events)
                for event in events:
                    pipeline.deployment.invoke(source.function_logical_id, event)
            bodies = list(messages)
            if round_number > 0:
                shuffle.shuffle(bodies)
            for body in bodies:
                sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            report = pipeline.deliver_notices()
            assert report.function_errors == []

    sends_after = (
        len(sent_emails()) + len(sent_sms()) + len(topic_messages(pipeline.deployment, "EscalationTopic"))
    )
    assert sends_after == sends_before
    after = {entry["notice_id"]: entry["status"] for entry in pipeline.ledger()}
    assert after == outcomes_before


def test_no_customer_email_phone_or_name_in_the_logs_of_the_faulty_day(day: dict[str, Any]) -> None:
    logs: str = day["logs"].getvalue()
    assert "Notice outcome recorded" in logs
    for person in day["customers"]:
        for field in ("email", "phone", "first_name", "last_name"):
            value = person.get(field)
            if isinstance(value, str) and len(value) > 3:
                assert not re.search(rf"(?<![\w.+-]){re.escape(value)}(?![\w-])", logs), (
                    f"{field} of {person['customer_id']}"
                )


def test_every_call_of_the_day_is_allowed_by_its_functions_template_policy(day: dict[str, Any]) -> None:
    # moto does not enforce IAM: a permission missing from template.yaml would only fail in AWS
    deployment = day["pipeline"].deployment
    calls = {
        (call.function, call.service, call.operation, json.dumps(call.params, sort_keys=True, default=str))
        for call in day["plan"].calls
    }
    assert {(function, service) for function, service, _, _ in calls} >= {
        ("NoticeDeliveryFunction", "sesv2"),
        ("NoticeDeliveryFunction", "sns"),
        ("DueSweepFunction", "dynamodb"),
        ("BillIncreaseDetectorFunction", "sqs"),
    }
    refused = {
        (function, action, resource)
        for function, service, operation, params in calls
        for action, resource in denied(deployment, function, service, operation, json.loads(params))
    }
    assert refused == set()
