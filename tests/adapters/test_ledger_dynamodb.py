"""The DynamoDB ledger against moto, with the table provisioned from template.yaml."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from headsup.adapters.ledger import (
    AlreadyRecorded,
    ClaimHeld,
    ClaimLost,
    DynamoLedger,
    Intent,
    Outcome,
    Status,
    UnfinishedSend,
)
from moto import mock_aws

from emulator import Deployment, provision
from tests.unit.builders import notice_request

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()


@pytest.fixture
def ledger(deployment: Deployment) -> DynamoLedger:
    return DynamoLedger(deployment.ref("NoticeLedgerTable"), retention=timedelta(days=400))


def lease(seconds: int = 40) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_claim_then_record_leaves_one_final_outcome(ledger: DynamoLedger) -> None:
    request = notice_request()

    claim = ledger.claim(request, now=NOW, lease_until=lease(), intent=Intent.RECORD)
    ledger.record(claim, Outcome(Status.SENT, channel="email", provider_message_id="m-1"), now=NOW)

    item = ledger.get(request.notice_id)
    assert item is not None
    assert item["status"]["S"] == "sent"
    assert item["provider_message_id"]["S"] == "m-1"
    assert item["customer_id"]["S"] == "cust-1"
    assert item["kind"]["S"] == "bill_increase"
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=400)).timestamp())
    assert "lease_until" not in item


def test_recorded_notice_cannot_be_claimed_again(ledger: DynamoLedger) -> None:
    request = notice_request()
    claim = ledger.claim(request, now=NOW, lease_until=lease(), intent=Intent.RECORD)
    ledger.record(claim, Outcome(Status.SKIPPED, reason="do_not_contact"), now=NOW)

    with pytest.raises(AlreadyRecorded) as caught:
        ledger.claim(request, now=NOW + timedelta(days=1), lease_until=lease(), intent=Intent.RECORD)
    assert caught.value.status is Status.SKIPPED


def attempts(ledger: DynamoLedger, notice_id: str) -> int:
    item = ledger.get(notice_id)
    assert item is not None
    return int(item["attempts"]["N"])


def test_live_claim_blocks_a_second_copy_until_its_lease_expires(ledger: DynamoLedger) -> None:
    request = notice_request()
    first = ledger.claim(request, now=NOW, lease_until=lease(40), intent=Intent.RECORD)

    with pytest.raises(ClaimHeld):
        ledger.claim(request, now=NOW + timedelta(seconds=10), lease_until=lease(50), intent=Intent.RECORD)

    # After the lease, a holder that was only recording a decision is presumed dead: a
    # redelivery may take over and redo it ...
    ledger.claim(request, now=NOW + timedelta(seconds=41), lease_until=lease(90), intent=Intent.RECORD)
    assert attempts(ledger, request.notice_id) == 2
    # ... and the old holder can no longer record over it.
    with pytest.raises(ClaimLost):
        ledger.record(first, Outcome(Status.SENT), now=NOW)


def test_released_claim_can_be_taken_at_once(ledger: DynamoLedger) -> None:
    request = notice_request()
    claim = ledger.claim(request, now=NOW, lease_until=lease(), intent=Intent.RECORD)
    ledger.release(claim, error="Throttling", now=NOW)

    ledger.claim(request, now=NOW + timedelta(seconds=1), lease_until=lease(), intent=Intent.RECORD)
    assert attempts(ledger, request.notice_id) == 2
    item = ledger.get(request.notice_id)
    assert item is not None
    assert item["last_error"]["S"] == "Throttling"


def test_ledger_errors_other_than_the_condition_propagate(deployment: Deployment) -> None:
    missing = DynamoLedger("no-such-table", retention=timedelta(days=1), client=boto3.client("dynamodb"))
    with pytest.raises(Exception, match="ResourceNotFound"):
        missing.claim(notice_request(), now=NOW, lease_until=lease(), intent=Intent.RECORD)


def test_dead_lettered_notice_can_be_claimed_again_when_redriven(ledger: DynamoLedger) -> None:
    # Given a notice that ran out of attempts
    request = notice_request()
    claim = ledger.claim(request, now=NOW, lease_until=lease(), intent=Intent.RECORD)
    ledger.record(claim, Outcome(Status.DEAD_LETTERED, reason="UnknownCustomer"), now=NOW)

    # When an operator redrives it from the dead-letter queue
    again = ledger.claim(request, now=NOW + timedelta(hours=2), lease_until=lease(), intent=Intent.RECORD)
    ledger.record(again, Outcome(Status.SENT, channel="email"), now=NOW + timedelta(hours=2))

    # Then it is delivered, and from then on it is settled
    with pytest.raises(AlreadyRecorded):
        ledger.claim(request, now=NOW + timedelta(hours=3), lease_until=lease(), intent=Intent.RECORD)


def test_a_sender_that_died_mid_send_is_settled_unconfirmed_never_sent_again(ledger: DynamoLedger) -> None:
    # Given an invocation that claimed the notice to send it by SMS, then died (no record, no release)
    request = notice_request()
    ledger.claim(request, now=NOW, lease_until=lease(40), intent=Intent.SEND, channel="sms")

    # When a redelivery comes after the lease
    later = NOW + timedelta(seconds=41)
    with pytest.raises(UnfinishedSend) as caught:
        ledger.claim(request, now=later, lease_until=lease(90), intent=Intent.SEND, channel="sms")
    ledger.settle_unfinished(caught.value, now=later)

    # Then the notice is settled as unconfirmed on its channel, counted towards the cap ...
    item = ledger.get(request.notice_id)
    assert item is not None
    assert (item["status"]["S"], item["channel"]["S"]) == ("unconfirmed", "sms")
    assert "ended before the provider's answer" in item["reason"]["S"]
    assert item["sent_at"]["S"] == later.isoformat()
    # ... and no later copy can claim it to send again
    with pytest.raises(AlreadyRecorded) as again:
        ledger.claim(request, now=later, lease_until=lease(120), intent=Intent.SEND, channel="sms")
    assert again.value.status is Status.UNCONFIRMED


def test_a_released_send_claim_may_be_retried(ledger: DynamoLedger) -> None:
    # A release means the provider answered with a definite refusal (throttling, an outage)
    request = notice_request()
    claim = ledger.claim(request, now=NOW, lease_until=lease(), intent=Intent.SEND, channel="email")
    ledger.release(claim, error="ClientError Throttling (SendEmail)", now=NOW)

    ledger.claim(request, now=NOW + timedelta(seconds=1), lease_until=lease(), intent=Intent.SEND)
    assert attempts(ledger, request.notice_id) == 2


def test_a_live_send_claim_is_not_settled_by_a_copy(ledger: DynamoLedger) -> None:
    request = notice_request()
    ledger.claim(request, now=NOW, lease_until=lease(40), intent=Intent.SEND, channel="email")

    with pytest.raises(ClaimHeld):
        ledger.claim(request, now=NOW + timedelta(seconds=5), lease_until=lease(45), intent=Intent.SEND)
    with pytest.raises(ClaimHeld):
        ledger.settle_unfinished(UnfinishedSend(request.notice_id, "email"), now=NOW + timedelta(seconds=5))


def test_a_decision_is_recorded_in_one_write_on_the_claims_condition(ledger: DynamoLedger) -> None:
    # Given a notice held for quiet hours, recorded without a claim first
    request = notice_request()
    until = NOW + timedelta(hours=9)
    ledger.decide(
        request, Outcome(Status.HELD, reason="quiet_hours", channel="sms", hold_until=until), now=NOW
    )

    item = ledger.get(request.notice_id)
    assert item is not None
    assert (item["status"]["S"], item["hold_until"]["S"], item["attempts"]["N"]) == (
        "held",
        until.isoformat(),
        "1",
    )
    assert {"claim_token", "lease_until", "intent"}.isdisjoint(item)

    # When the sweep releases it and it is sent
    claim = ledger.claim(request, now=until, lease_until=until + timedelta(seconds=40), intent=Intent.SEND)
    ledger.record(claim, Outcome(Status.SENT, channel="sms", provider_message_id="m-1"), now=until)

    # Then a late copy deciding to skip it changes nothing
    with pytest.raises(AlreadyRecorded):
        ledger.decide(request, Outcome(Status.SKIPPED, reason="paused"), now=until)
    assert ledger.get(request.notice_id)["status"]["S"] == "sent"  # type: ignore[index]


def test_a_decision_waits_for_a_live_send_and_settles_a_dead_one(ledger: DynamoLedger) -> None:
    request = notice_request()
    ledger.claim(request, now=NOW, lease_until=lease(40), intent=Intent.SEND, channel="email")

    with pytest.raises(ClaimHeld):
        ledger.decide(request, Outcome(Status.SKIPPED, reason="paused"), now=NOW + timedelta(seconds=5))
    with pytest.raises(UnfinishedSend):
        ledger.decide(request, Outcome(Status.SKIPPED, reason="paused"), now=NOW + timedelta(seconds=41))
