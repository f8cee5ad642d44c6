"""Faults injected around the real moto calls: nothing lost, nothing sent twice.

Each test names the fault, drives the real handlers through their event sources, and checks the
two things that matter: what reached SES/SNS (moto's own record of accepted messages) and the
one outcome the ledger holds for the notice.
"""

import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from headsup.adapters.ledger import DynamoLedger, Intent, Outcome, Status
from headsup.domain.notices import NoticeRequest

from emulator import queue_messages, sent_emails, sent_sms
from emulator.faults import FaultPlan, injected
from sim.pipeline import LocalPipeline
from tests.stack import BUSINESS_HOURS, bill

# A killed invocation publishes no metrics in Lambda; here Powertools' flush still runs and says so.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

MAX_RATE = "Maximum sending rate exceeded."
DELIVERY = "NoticeDeliveryFunction"


@pytest.fixture
def faults() -> Iterator[FaultPlan]:
    with injected(FaultPlan(seed=11)) as plan:
        yield plan


def ana_bill_goes_up(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-10", "100"), bill("cust-ana", "2026-11", "150")])


def jonas_bill_goes_up(pipeline: LocalPipeline) -> None:
    pipeline.put_bills(
        [
            bill("cust-jonas", "2026-10", "40", currency="EUR"),
            bill("cust-jonas", "2026-11", "60", currency="EUR"),
        ]
    )


def after_visibility_timeout(pipeline: LocalPipeline) -> time_machine.travel:
    """The clock once SQS makes a message that failed just now visible again (VisibilityTimeout)."""
    properties = pipeline.deployment.resolve(pipeline.deployment.resources["NoticeQueue"]["Properties"])
    timeout = int(properties["VisibilityTimeout"])
    return time_machine.travel(datetime.now(UTC) + timedelta(seconds=timeout + 5), tick=True)


def only_entry(pipeline: LocalPipeline) -> dict[str, object]:
    [entry] = pipeline.ledger()
    return entry


def test_ses_rate_throttling_waits_in_the_queue_never_counts_as_a_receive_and_is_sent_once(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given SES refusing the send for its rate more times than the queue allows receives
    max_receives = int(pipeline.deployment.parameters["NoticeMaxReceiveCount"])
    throttle = faults.error("sesv2", "SendEmail", "ThrottlingException", MAX_RATE, times=max_receives + 1)
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()
    # Each refusal put the notice back as a new message, hidden for a growing delay: nothing left
    # to receive until the clock moves on
    assert delivered.failures == 0
    assert sent_emails() == []
    delays = [int(call.params["DelaySeconds"]) for call in faults.calls if call.operation == "SendMessage"]
    clock = datetime.now(UTC)
    while len(sent_emails()) == 0 and len(delays) <= max_receives + 1:
        clock += timedelta(seconds=900)  # SQS's longest delay
        with time_machine.travel(clock, tick=True):
            delivered = pipeline.deliver_notices()
        assert delivered.failures == 0
        delays = [
            int(call.params["DelaySeconds"]) for call in faults.calls if call.operation == "SendMessage"
        ]

    assert throttle.injected == max_receives + 1
    assert len(sent_emails()) == 1
    assert len(delays) == max_receives + 1
    assert delays == sorted(delays)  # each wait at least as long as the one before
    assert delays[0] >= 1
    assert delays[-1] <= 900  # SQS's longest delay
    entry = only_entry(pipeline)
    assert (entry["status"], entry["rate_waits"]) == ("sent", max_receives + 1)
    assert int(entry["rate_waited_seconds"]) == sum(delays)  # each wait as queued, rounded to seconds
    assert pipeline.dead_letters() == []


def test_the_daily_quota_holds_the_notice_and_it_goes_once_when_the_quota_allows(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given SES refusing every send for the account's 24-hour quota
    quota = faults.error("sesv2", "SendEmail", "ThrottlingException", "Daily message quota exceeded.")
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()

    # Then the notice is held, not failed: one attempt, no retry through the queue, no dead letter
    assert (quota.injected, delivered.failures) == (1, 0)
    assert sent_emails() == []
    entry = only_entry(pipeline)
    assert (entry["status"], entry["reason"]) == ("held", "daily_quota")
    assert pipeline.dead_letters() == []

    # When the quota allows it again, the sweep that finds it due releases it, and it goes once
    faults.rules.remove(quota)
    released_at = datetime.fromisoformat(str(entry["hold_until"])) + timedelta(minutes=1)
    with time_machine.travel(released_at, tick=True):
        pipeline.sweep_at(released_at)
        pipeline.deliver_notices()
    assert len(sent_emails()) == 1
    assert only_entry(pipeline)["status"] == "sent"


def test_permanent_rejection_is_recorded_once_without_a_retry_storm(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    rejected = faults.error("sesv2", "SendEmail", "MessageRejected", "Email address is not verified.")
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()
    # A replay of the same request later is acknowledged without calling SES again
    for event in pipeline.bills_stream.replay_all():
        pipeline.deployment.invoke("BillIncreaseDetectorFunction", event)
    pipeline.deliver_notices()

    assert rejected.seen == 1
    assert delivered.failures == 0
    entry = only_entry(pipeline)
    assert (entry["status"], entry["reason"]) == ("failed", "PermanentSendError: MessageRejected")
    assert pipeline.dead_letters() == []


@pytest.mark.parametrize(
    ("code", "status", "sms_sent"), [("InternalError", "sent", 1), ("InvalidParameter", "failed", 0)]
)
def test_sns_errors_transient_are_retried_and_permanent_are_recorded(
    pipeline: LocalPipeline, faults: FaultPlan, code: str, status: str, sms_sent: int
) -> None:
    error = faults.error("sns", "Publish", code, "try again", times=1, when=lambda p: "PhoneNumber" in p)
    jonas_bill_goes_up(pipeline)

    pipeline.run()

    assert error.injected == 1
    assert len(sent_sms()) == sms_sent
    assert only_entry(pipeline)["status"] == status


@pytest.mark.parametrize(
    ("operation", "code", "queue_retries"),
    [
        # The batch's customers and preferences: each record then reads its own, no retry needed
        ("BatchGetItem", "ProvisionedThroughputExceededException", 0),
        # The claim, written with the customer's sent log in one transaction: cancelled (a
        # conflict with another transaction on either item), or throttled
        ("TransactWriteItems", "TransactionCanceledException", 1),
        ("TransactWriteItems", "ProvisionedThroughputExceededException", 1),
    ],
)
def test_dynamodb_throttling_and_condition_failures_in_delivery_are_retried_and_sent_once(
    pipeline: LocalPipeline, faults: FaultPlan, operation: str, code: str, queue_retries: int
) -> None:
    fault = faults.error("dynamodb", operation, code, times=1, function=DELIVERY)
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()

    assert fault.injected == 1
    assert delivered.failures == queue_retries
    assert len(sent_emails()) == 1
    assert only_entry(pipeline)["status"] == "sent"


def test_a_batch_reads_its_earlier_bills_in_one_call_and_customers_and_preferences_in_one_call(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given last month's bills, already processed
    pipeline.put_bills(
        [bill("cust-ana", "2026-10", "100"), bill("cust-jonas", "2026-10", "40", currency="EUR")]
    )
    pipeline.run()
    faults.calls.clear()

    # When this month's higher bills arrive, in one stream batch
    pipeline.put_bills(
        [bill("cust-ana", "2026-11", "150"), bill("cust-jonas", "2026-11", "60", currency="EUR")]
    )
    _, delivered = pipeline.run()

    # Then the detector read both earlier bills in one call (no Query per record) ...
    detector_calls = Counter(
        call.operation for call in faults.calls if call.function == "BillIncreaseDetectorFunction"
    )
    assert detector_calls == {"BatchGetItem": 1, "SendMessageBatch": 1}  # both notices in one send
    # ... and delivery the customers and their preferences together, in one call
    assert delivered.invocations == 1
    reads = [
        (call.operation, sorted(call.params.get("RequestItems", {})) or [call.params.get("TableName")])
        for call in faults.calls
        if call.function == DELIVERY and call.operation in {"GetItem", "BatchGetItem"}
    ]
    assert reads == [
        (
            "BatchGetItem",
            sorted([pipeline.deployment.ref("CustomersTable"), pipeline.deployment.ref("PreferencesTable")]),
        )
    ]
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)


def test_crash_after_ses_accepted_is_never_sent_again_and_is_accounted_unconfirmed(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # Given SQS's real visibility timeout, and an invocation killed just after SES accepted the email
    pipeline.notice_queue.honour_visibility_timeout = True
    killed = faults.kill_after("sesv2", "SendEmail", times=1)
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()
    assert killed.injected == 1
    assert delivered.function_errors  # the whole batch failed, as Lambda reports a timeout
    assert only_entry(pipeline)["status"] == "in_progress"

    # When SQS redelivers it after the visibility timeout
    with after_visibility_timeout(pipeline):
        redelivered = pipeline.deliver_notices()

    # Then it is not sent again: one email, and the ledger settles it as unconfirmed
    assert redelivered.processed == 1
    assert len(sent_emails()) == 1
    entry = only_entry(pipeline)
    assert (entry["status"], entry["channel"]) == ("unconfirmed", "email")
    assert queue_messages(pipeline.deployment, "NoticeQueue") == []


def test_an_answer_lost_after_ses_accepted_is_unconfirmed_not_resent(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    lost = faults.no_answer_after("sesv2", "SendEmail", times=1)
    ana_bill_goes_up(pipeline)

    _, delivered = pipeline.run()

    assert lost.injected == 1
    assert delivered.failures == 0
    assert len(sent_emails()) == 1
    entry = only_entry(pipeline)
    assert (entry["status"], entry["reason"]) == ("unconfirmed", "UnconfirmedSend: ReadTimeoutError")


def test_ledger_write_failing_after_the_send_is_settled_unconfirmed_on_redelivery(
    pipeline: LocalPipeline, faults: FaultPlan, lambda_logs: io.StringIO
) -> None:
    # The outcome write is the second UpdateItem of the delivery (the first is the claim)
    pipeline.notice_queue.honour_visibility_timeout = True
    failed_write = faults.error(
        "dynamodb",
        "UpdateItem",
        "ProvisionedThroughputExceededException",
        times=1,
        function=DELIVERY,
        when=lambda p: ":status" in p.get("ExpressionAttributeValues", {}),
    )
    ana_bill_goes_up(pipeline)

    pipeline.run()
    assert failed_write.injected == 1
    with after_visibility_timeout(pipeline):
        pipeline.deliver_notices()

    assert len(sent_emails()) == 1
    entry = only_entry(pipeline)
    assert entry["status"] == "unconfirmed"
    # The log names the provider's message id, so an operator can confirm it went out
    [line] = [json.loads(x) for x in lambda_logs.getvalue().splitlines() if "could not be recorded" in x]
    assert (line["notice_id"], line["provider_message_id"]) == (
        entry["notice_id"],
        sent_emails()[0].message_id,
    )


def test_copy_redelivered_while_the_first_is_sending_waits_and_then_sends_nothing(
    pipeline: LocalPipeline,
) -> None:
    # Given a notice request whose first copy is being sent by another invocation right now
    pipeline.notice_queue.honour_visibility_timeout = True
    ana_bill_goes_up(pipeline)
    pipeline.run_detectors()
    [message] = queue_messages(pipeline.deployment, "NoticeQueue")
    request = NoticeRequest.model_validate_json(message["Body"])
    ledger = DynamoLedger(pipeline.deployment.ref("NoticeLedgerTable"), retention=timedelta(days=1))
    first = ledger.claim(
        request,
        now=BUSINESS_HOURS,
        lease_until=BUSINESS_HOURS + timedelta(seconds=40),
        intent=Intent.SEND,
        channel="email",
    )

    # When the second copy is delivered meanwhile, it is put back for later, untouched
    waiting = pipeline.deliver_notices()
    assert (waiting.failures, len(sent_emails())) == (1, 0)

    # ... the first copy finishes ...
    ledger.record(first, Outcome(Status.SENT, channel="email", provider_message_id="m-1"), now=BUSINESS_HOURS)

    # Then the second copy, seen again after the visibility timeout, is acknowledged without a send
    with after_visibility_timeout(pipeline):
        again = pipeline.deliver_notices()
    assert (again.processed, len(sent_emails())) == (1, 0)
    assert only_entry(pipeline)["status"] == "sent"


def test_sqs_delivering_every_message_twice_sends_each_notice_once(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    doubled = faults.twice("sqs", "SendMessageBatch")
    ana_bill_goes_up(pipeline)
    jonas_bill_goes_up(pipeline)

    _, delivered = pipeline.run()

    assert doubled.injected == 1  # the batch's one send, of both notices
    assert delivered.processed == 4
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    assert [entry["status"] for entry in pipeline.ledger()] == ["sent", "sent"]


def test_poison_stream_record_does_not_block_its_shard(pipeline: LocalPipeline, faults: FaultPlan) -> None:
    # Given a bill whose processing fails every time (its previous-bill read always errors) ...
    poison = faults.error(
        "dynamodb",
        "Query",
        "InternalServerError",
        function="BillIncreaseDetectorFunction",
        when=lambda p: "cust-poison" in json.dumps(p),
    )
    # ... written between good ones, in the same shard and batch
    ana_bill_goes_up(pipeline)
    pipeline.put_bills([bill("cust-poison", "2026-11", "99")])
    jonas_bill_goes_up(pipeline)

    detected, _ = pipeline.run()

    # Then it is retried, bisected and set aside to the failure destination with its coordinates ...
    assert poison.injected >= 2
    [failure] = pipeline.detector_failures()
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["DDBStreamBatchInfo"]["batchSize"] >= 1
    # ... while the good records on either side of it were processed, each notice sent once
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    # ... and the shard moves on: a later bill is detected as usual
    pipeline.put_bills([bill("cust-ana", "2026-12", "180")])
    later, _ = pipeline.run()
    assert later.discarded == []
    assert len(sent_emails()) == 2
    assert detected.invocations > 1


def test_killed_invocation_before_any_claim_leaves_nothing_to_clean_up(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    pipeline.notice_queue.honour_visibility_timeout = True
    killed = faults.kill_after("dynamodb", "BatchGetItem", times=1, function=DELIVERY)
    ana_bill_goes_up(pipeline)

    pipeline.run()
    assert killed.injected == 1
    assert pipeline.ledger() == []

    with after_visibility_timeout(pipeline):
        pipeline.deliver_notices()
    assert len(sent_emails()) == 1
    assert only_entry(pipeline)["status"] == "sent"


def test_fault_plan_is_seeded(pipeline: LocalPipeline) -> None:
    def injections(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        rule = plan.error("sesv2", "SendEmail", "Throttling", probability=0.5)
        return [plan.pick("sesv2", "SendEmail", {}, DELIVERY) is rule for _ in range(40)]

    assert injections(3) == injections(3)
    assert injections(3) != injections(4)
    assert 5 < sum(injections(3)) < 35


def test_faults_only_touch_calls_made_inside_function_invocations(
    pipeline: LocalPipeline, faults: FaultPlan
) -> None:
    # The emulator's own calls (writing test data, polling the queue) are never faulted
    everything = faults.error("dynamodb", "PutItem", "InternalServerError")
    ana_bill_goes_up(pipeline)
    assert everything.seen == 0
    assert len(pipeline.ledger()) == 0
