"""The ledger as the receipts functions and the sweep use it (adapters/receipt_ledger.py): against
moto, with NoticeLedgerTable provisioned from template.yaml (its SmsMessageIndex, UnresolvedIndex
and ToldIndex included)."""

from datetime import UTC, datetime, timedelta

import pytest
from headsup.adapters.ledger import DynamoLedger, Intent, Outcome, Status, UnfinishedSend
from headsup.adapters.receipt_ledger import DynamoFeedbackLedger, DynamoUnresolvedNotices, ReceiptRecorded
from headsup.domain.notices import NoticeRequest
from headsup.domain.receipts import DeliveryState, Receipt

from emulator import Deployment
from sim.samples import sample_bill_increase

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOWS = {"email": timedelta(hours=1), "sms": timedelta(hours=24)}


@pytest.fixture
def table(deployment: Deployment) -> str:
    return deployment.ref("NoticeLedgerTable")


def sent(
    table: str,
    channel: str,
    message_id: str,
    *,
    status: Status = Status.SENT,
    request: NoticeRequest | None = None,
) -> NoticeRequest:
    request = request or sample_bill_increase("150.00", detected_at=NOW)
    ledger = DynamoLedger(table, retention=timedelta(days=400), receipt_windows=WINDOWS)
    claim = ledger.claim(
        request, now=NOW, lease_until=NOW + timedelta(minutes=5), intent=Intent.SEND, channel=channel
    )
    outcome = Outcome(
        status, channel=channel, provider_message_id=message_id, counts_towards_cap=status is Status.SENT
    )
    ledger.record(claim, outcome, now=NOW)
    return request


def receipt(notice_id: str | None, state: DeliveryState, message_id: str = "m-1") -> Receipt:
    return Receipt(
        notice_id=notice_id, state=state, at=NOW + timedelta(minutes=1), provider_message_id=message_id
    )


def test_an_sms_notice_is_found_by_the_message_id_sns_gave_it(table: str) -> None:
    request = sent(table, "sms", "sns-123")
    receipts = DynamoFeedbackLedger(table)

    assert receipts.notice_for_sms("sns-123") == request.notice_id
    assert receipts.notice_for_sms("sns-unknown") is None


def test_an_email_notice_is_not_in_the_sms_index(table: str) -> None:
    sent(table, "email", "ses-123")

    assert DynamoFeedbackLedger(table).notice_for_sms("ses-123") is None


def test_a_notice_that_never_arrived_is_no_longer_one_the_customer_was_told(table: str) -> None:
    request = sent(table, "email", "ses-1")
    ledger = DynamoLedger(table, retention=timedelta(days=400))
    story = request.story_key or ""
    assert [told.notice_id for told in ledger.told(story)] == [request.notice_id]

    DynamoFeedbackLedger(table).record_receipt(receipt(request.notice_id, DeliveryState.BOUNCED_PERMANENT))

    assert ledger.told(story) == []


def test_a_second_attempt_is_started_once_from_the_request_as_it_was_sent(table: str) -> None:
    request = sent(table, "email", "ses-1")
    receipts = DynamoFeedbackLedger(table)
    bounced = receipt(request.notice_id, DeliveryState.BOUNCED_PERMANENT)

    first = receipts.start_fallback(bounced, now=NOW)
    again = receipts.start_fallback(bounced, now=NOW + timedelta(minutes=5))

    assert first is not None
    assert again == first  # the same request until the second attempt has an outcome
    assert first.model_dump(exclude={"notice_id", "fallback_of"}) == request.model_dump(
        exclude={"notice_id", "fallback_of"}
    )
    assert first.fallback_of is not None
    assert (first.fallback_of.failed_channel, first.fallback_of.reason) == ("email", "bounced:permanent")

    # When the second attempt's outcome is recorded (on both items)
    ledger = DynamoLedger(table, retention=timedelta(days=400))
    claim = ledger.claim(
        first, now=NOW, lease_until=NOW + timedelta(minutes=5), intent=Intent.SEND, channel="sms"
    )
    ledger.record(claim, Outcome(Status.SENT, channel="sms", provider_message_id="sns-9"), now=NOW)

    # Then no further second attempt, and none for the second attempt itself
    assert receipts.start_fallback(bounced, now=NOW) is None
    assert receipts.start_fallback(receipt(first.notice_id, DeliveryState.FAILED_PERMANENT), now=NOW) is None
    item = ledger.get(request.notice_id) or {}
    assert (item["fallback_status"], item["fallback_channel"]) == ({"S": "sent"}, {"S": "sms"})


def test_no_second_attempt_for_a_notice_with_no_request_kept(table: str) -> None:
    # (a team notice, or one sent before notices kept their request)
    request = sample_bill_increase("150.00", detected_at=NOW)
    ledger = DynamoLedger(table, retention=timedelta(days=400))
    claim = ledger.claim(request, now=NOW, lease_until=NOW + timedelta(minutes=5), intent=Intent.RECORD)
    ledger.record(claim, Outcome(Status.SKIPPED, reason="opted_out_topic"), now=NOW)

    assert (
        DynamoFeedbackLedger(table).start_fallback(
            receipt(request.notice_id, DeliveryState.BOUNCED_PERMANENT), now=NOW
        )
        is None
    )


def test_an_unconfirmed_send_waits_its_channels_window_then_is_counted_once(table: str) -> None:
    # Given an email and an SMS recorded unconfirmed at NOW
    email = sent(table, "email", "ses-1", status=Status.UNCONFIRMED)
    sms = sent(
        table,
        "sms",
        "sns-1",
        status=Status.UNCONFIRMED,
        request=sample_bill_increase("150.00", period="2026-10", detected_at=NOW),
    )
    unresolved = DynamoUnresolvedNotices(table)

    # Then the email is due after an hour and the SMS after a day, and each is counted once
    assert unresolved.past_window(NOW + timedelta(minutes=59)) == []
    assert unresolved.past_window(NOW + timedelta(hours=2)) == [email.notice_id]
    assert unresolved.count_once(email.notice_id, NOW + timedelta(hours=2))
    assert not unresolved.count_once(email.notice_id, NOW + timedelta(hours=2))
    assert unresolved.past_window(NOW + timedelta(hours=25)) == [sms.notice_id]


def test_a_receipt_takes_an_unconfirmed_send_out_of_the_alarms_count(table: str) -> None:
    request = sent(table, "email", "ses-1", status=Status.UNCONFIRMED)

    result = DynamoFeedbackLedger(table).record_receipt(receipt(request.notice_id, DeliveryState.DELIVERED))

    assert result is ReceiptRecorded.RESOLVED
    assert DynamoUnresolvedNotices(table).past_window(NOW + timedelta(days=2)) == []


def test_a_send_whose_sender_died_waits_for_its_receipt_too(table: str) -> None:
    request = sample_bill_increase("150.00", detected_at=NOW)
    ledger = DynamoLedger(table, retention=timedelta(days=400), receipt_windows=WINDOWS)
    ledger.claim(request, now=NOW, lease_until=NOW + timedelta(minutes=5), intent=Intent.SEND, channel="sms")

    ledger.settle_unfinished(UnfinishedSend(request.notice_id, "sms"), now=NOW + timedelta(minutes=10))

    unresolved = DynamoUnresolvedNotices(table)
    assert unresolved.past_window(NOW + timedelta(hours=24)) == []
    assert unresolved.past_window(NOW + timedelta(hours=25)) == [request.notice_id]
