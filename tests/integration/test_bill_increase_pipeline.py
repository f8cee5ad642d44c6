"""Bills stream -> detector -> NoticeQueue -> delivery -> SES/SNS + ledger, on moto, from template.yaml.

Handlers are driven with stream records read back from moto's DynamoDB stream and SQS messages
received from moto's queue, converted to the exact shapes Lambda delivers."""

import io
import json
import re
from decimal import Decimal

import boto3

from emulator import lambda_sqs_record, queue_messages, sent_emails, sent_sms
from sim.pipeline import LocalPipeline, load_sample_data
from tests.stack import ANA, bill


def test_bill_increase_reaches_the_customer_by_email_with_the_why(pipeline: LocalPipeline) -> None:
    # Given last month's bill and a higher new one for a customer who prefers email
    pipeline.put_bills(
        [
            bill(
                "cust-ana", "2026-10", "110.00", line_items=[{"description": "Plan", "amount": Decimal(110)}]
            ),
            bill(
                "cust-ana",
                "2026-11",
                "132.40",
                due_date="2026-12-15",
                line_items=[
                    {"description": "Plan", "amount": Decimal("117.40")},
                    {"description": "Data add-on", "amount": Decimal(15)},
                ],
            ),
        ]
    )

    # When the stream is processed and the queue drained
    detected, delivered = pipeline.run()

    # Then exactly one email went to her, saying what changed, and the ledger says sent
    [email] = sent_emails()
    assert email.destinations == ["ana.souza@example.com"]
    assert email.message["From"] == "Example Co <notices@example.com>"
    assert email.subject == "Your November 2026 bill is $22.40 higher: here is why"
    assert email.text is not None
    assert email.html is not None
    assert "Hi Ana," in email.text
    assert "Data add-on: new, $15.00" in email.text
    assert "Plan: $110.00 -> $117.40 (+$7.40)" in email.text
    assert "December 15, 2026" in email.html
    [entry] = pipeline.ledger()
    assert entry["status"] == "sent"
    assert entry["channel"] == "email"
    assert entry["provider_message_id"] == email.message_id
    assert email.message["X-Headsup-Notice-Id"] == entry["notice_id"]
    assert detected.batch_item_failures == []
    assert delivered.failures == 0


def test_sms_first_customer_gets_one_short_sms(pipeline: LocalPipeline) -> None:
    pipeline.put_bills(
        [
            bill("cust-jonas", "2026-10", "40", currency="EUR"),
            bill("cust-jonas", "2026-11", "52", currency="EUR"),
        ]
    )

    pipeline.run()

    [sms] = sent_sms()
    assert sms.phone_number == "+4915112345678"
    assert sms.message.startswith("Example Co: Hi Jonas, your Nov bill is 52,00 €, up 12,00 € (30 %) on Oct.")
    assert sent_emails() == []
    [entry] = pipeline.ledger()
    assert (entry["status"], entry["channel"]) == ("sent", "sms")


def test_replaying_the_same_stream_batch_twice_sends_each_notice_once(pipeline: LocalPipeline) -> None:
    # Given two customers whose bills went up
    pipeline.put_bills(
        [
            bill("cust-ana", "2026-10", "100"),
            bill("cust-ana", "2026-11", "150"),
            bill("cust-jonas", "2026-10", "40", currency="EUR"),
            bill("cust-jonas", "2026-11", "60", currency="EUR"),
        ]
    )
    pipeline.run()
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)

    # When the very same stream records are delivered to the detector again, twice
    for _ in range(2):
        for event in pipeline.bills_stream.replay_all():
            pipeline.deployment.invoke("BillIncreaseDetectorFunction", event)
        report = pipeline.deliver_notices()
        assert report.processed == 2  # the re-queued requests were consumed ...

    # Then nothing more was sent, and the ledger still holds one outcome per notice
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    assert [entry["status"] for entry in pipeline.ledger()] == ["sent", "sent"]


def test_redelivered_sqs_message_is_sent_once(pipeline: LocalPipeline) -> None:
    # Given one notice request on the queue
    pipeline.put_bills([bill("cust-ana", "2026-10", "100"), bill("cust-ana", "2026-11", "150")])
    pipeline.run_detectors()
    [message] = queue_messages(pipeline.deployment, "NoticeQueue")
    event = {
        "Records": [lambda_sqs_record(message, pipeline.notice_queue.queue_arn, pipeline.deployment.region)]
    }

    # When SQS delivers the same message twice (at-least-once delivery)
    first = pipeline.deployment.invoke("NoticeDeliveryFunction", event)
    second = pipeline.deployment.invoke("NoticeDeliveryFunction", event)

    # Then both invocations succeed, but only one email exists
    assert first == second == {"batchItemFailures": []}
    assert len(sent_emails()) == 1


def test_malformed_bill_fails_alone_and_is_explained_in_the_log(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given one batch with two good bill increases and a bill whose amount is not a number
    pipeline.put_bills(
        [
            bill("cust-ana", "2026-10", "100"),
            bill("cust-jonas", "2026-10", "40", currency="EUR"),
            bill("cust-ana", "2026-11", "150"),
            {"customer_id": "cust-bad", "period": "2026-11", "amount": "ninety"},
            bill("cust-jonas", "2026-11", "60", currency="EUR"),
        ]
    )
    [event] = pipeline.bills_stream.poll()
    bad = next(r for r in event["Records"] if r["dynamodb"]["Keys"]["customer_id"]["S"] == "cust-bad")

    # When the detector handles the batch
    response = pipeline.deployment.invoke("BillIncreaseDetectorFunction", event)

    # Then only the bad record is reported failed ...
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}
    # ... the log says which record and what is wrong with it ...
    rejected = [
        json.loads(line) for line in lambda_logs.getvalue().splitlines() if "Rejected bill record" in line
    ]
    assert len(rejected) == 1
    assert rejected[0]["level"] == "ERROR"
    assert rejected[0]["key"] == {"customer_id": "cust-bad", "period": "2026-11"}
    assert rejected[0]["problems"] == ["amount: must be a DynamoDB number (N), got S"]
    # ... and the good ones are delivered.
    pipeline.deliver_notices()
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)


def test_bad_record_ends_in_the_detector_failure_queue_after_bounded_retries(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([{"customer_id": "cust-bad", "period": "2026-11"}])

    report = pipeline.run_detectors(retry_failures=True)

    max_retries = int(
        pipeline.deployment.event_properties("BillIncreaseDetectorFunction", "BillsStream", "DynamoDB")[
            "MaximumRetryAttempts"
        ]
    )
    assert report.invocations == 1 + max_retries
    [failure] = pipeline.detector_failures()
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_unknown_customer_is_retried_then_dead_lettered_and_accounted_for(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ghost", "2026-10", "100"), bill("cust-ghost", "2026-11", "150")])

    _, delivered = pipeline.run()

    max_receives = int(pipeline.deployment.parameters["NoticeMaxReceiveCount"])
    assert delivered.failures == max_receives
    [entry] = pipeline.ledger()
    assert entry["status"] == "dead_lettered"
    assert entry["reason"] == "UnknownCustomer: customer cust-ghost not found"
    # The earlier receives failed before claiming, so only the last one wrote to the ledger.
    assert entry["attempts"] == 1
    [dead] = pipeline.dead_letters()
    assert dead["notice_id"] == entry["notice_id"]


def test_dead_lettered_notice_is_delivered_once_redriven_after_the_data_is_fixed(
    pipeline: LocalPipeline,
) -> None:
    # Given a notice dead-lettered because its customer was not in CustomersTable yet
    pipeline.put_bills([bill("cust-late", "2026-10", "100"), bill("cust-late", "2026-11", "150")])
    pipeline.run()
    [dead] = pipeline.dead_letters()

    # When the business adds the customer and an operator redrives the message
    pipeline.put_customers([{**ANA, "customer_id": "cust-late"}])
    sqs = boto3.client("sqs", region_name=pipeline.deployment.region)
    sqs.send_message(QueueUrl=pipeline.deployment.ref("NoticeQueue"), MessageBody=json.dumps(dead))
    pipeline.deliver_notices()

    # Then the notice goes out, once, and the ledger now says sent
    assert len(sent_emails()) == 1
    [entry] = pipeline.ledger()
    assert entry["status"] == "sent"
    assert entry["attempts"] == 2  # the claim that recorded dead_lettered, then the one that sent


def test_correction_notifies_but_a_change_that_keeps_the_amount_does_not(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-11", "80.00", due_date="2026-12-10")])
    pipeline.run()
    assert sent_emails() == []  # first bill: nothing to compare with

    pipeline.put_bills([bill("cust-ana", "2026-11", "80.00", due_date="2026-12-20")])  # due date moved
    pipeline.run()
    assert sent_emails() == []

    pipeline.put_bills([bill("cust-ana", "2026-11", "95.00", due_date="2026-12-20")])  # corrected up
    pipeline.run()
    [email] = sent_emails()
    assert email.subject == "We corrected your November 2026 bill: it is now $95.00"


def test_deleted_bills_never_invoke_the_detector(pipeline: LocalPipeline) -> None:
    pipeline.put_bills([bill("cust-ana", "2026-11", "80.00")])
    pipeline.run_detectors()
    table = pipeline.deployment.ref("BillsTable")
    pipeline._dynamodb.delete_item(
        TableName=table, Key={"customer_id": {"S": "cust-ana"}, "period": {"S": "2026-11"}}
    )

    report = pipeline.run_detectors()

    assert report.invocations == 0


def test_customer_data_never_reaches_the_logs(pipeline: LocalPipeline, lambda_logs: io.StringIO) -> None:
    # Given the demo's sample customers, whose notices go every way (sent, skipped, dead-lettered)
    data = load_sample_data()
    pipeline.put_customers(data["customers"])
    pipeline.put_bills(data["bills"])
    pipeline.run()
    assert len(sent_emails()) + len(sent_sms()) >= 3

    # When we read everything the functions logged
    logs = lambda_logs.getvalue()
    assert "Notice outcome recorded" in logs

    # Then no email, phone or name of theirs appears in it
    for customer in data["customers"]:
        for field in ("email", "phone", "last_name", "first_name"):
            value = customer.get(field)
            if value:
                assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", logs), (
                    f"{field} of {customer['customer_id']}"
                )


def test_message_that_is_not_a_notice_request_fails_alone_and_is_dead_lettered(
    pipeline: LocalPipeline, lambda_logs: io.StringIO
) -> None:
    # Given a garbled message on the queue next to a real notice request
    pipeline.put_bills([bill("cust-ana", "2026-10", "100"), bill("cust-ana", "2026-11", "150")])
    pipeline.run_detectors()
    sqs = boto3.client("sqs", region_name=pipeline.deployment.region)
    sqs.send_message(QueueUrl=pipeline.deployment.ref("NoticeQueue"), MessageBody='{"kind": "bill_increase"}')

    # When the queue is drained
    pipeline.deliver_notices()

    # Then the real notice went out, the garbled one is in the DLQ, and the log says why
    assert len(sent_emails()) == 1
    assert pipeline.dead_letters() == [{"kind": "bill_increase"}]
    malformed = [
        json.loads(x) for x in lambda_logs.getvalue().splitlines() if "Malformed notice message" in x
    ]
    assert malformed
    assert malformed[0]["fields"] == ["customer_id", "detected_at", "notice_id"]
