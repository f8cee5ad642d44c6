"""Receipts without AWS: reading SNS's SMS delivery-status lines, what ReceiptRecorder does with a
receipt (record it, queue a notice's one second attempt), and how a second attempt is routed."""

import base64
import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from headsup.adapters.receipt_ledger import ReceiptRecorded
from headsup.domain.notices import NoticeRequest, fallback_notice_id
from headsup.domain.policy import DeliveryPolicy, QuietHours, Recipient, Send, Skip, decide
from headsup.domain.preferences import Preferences
from headsup.domain.receipts import RANK, DeliveryState, Receipt
from headsup.domain.sms_receipts import MalformedSmsStatus, parse_sms_status
from headsup.handlers.sms_receipts import UnreadableLogsEvent, log_events
from headsup.logic.receipts import ReceiptRecorder, count_unresolved

from tests.unit.builders import customer, notice_request

SNS_MESSAGE_ID = "34d9b400-c6dd-5444-820d-fbeb0f1f54cf"
AT = datetime(2026, 11, 24, 16, 0, 2, 558000, tzinfo=UTC)


def status_line(response: str, *, status: str = "FAILURE", **changes: Any) -> str:
    """SNS's delivery-status log line for one SMS, as SNS writes it."""
    line: dict[str, Any] = {
        "notification": {"messageId": SNS_MESSAGE_ID, "timestamp": "2026-11-24 16:00:02.558"},
        "delivery": {
            "phoneCarrier": "My Phone Carrier",
            "mnc": 270,
            "numberOfMessageParts": 1,
            "destination": "+14155550123",
            "priceInUSD": 0.00645,
            "smsType": "Transactional",
            "mcc": 310,
            "providerResponse": response,
            "dwellTimeMs": 599,
            "dwellTimeMsUntilDeviceAck": 1344,
        },
        "status": status,
    }
    line.update(changes)
    return json.dumps(line)


# ------------------------------------------------------------------------------------ SMS status lines


@pytest.mark.parametrize(
    ("response", "status", "state", "detail"),
    [
        ("Message has been accepted by phone carrier", "SUCCESS", DeliveryState.DELIVERED, None),
        ("Message has been accepted by phone", "SUCCESS", DeliveryState.DELIVERED, None),
        (
            "Phone is currently unreachable/unavailable",
            "FAILURE",
            DeliveryState.FAILED_TRANSIENT,
            "unreachable",
        ),
        (
            "Unknown error attempting to reach phone",
            "FAILURE",
            DeliveryState.FAILED_TRANSIENT,
            "unknown_error",
        ),
        ("Phone carrier has blocked this message", "FAILURE", DeliveryState.FAILED_PERMANENT, "blocked"),
        ("Phone number is opted out", "FAILURE", DeliveryState.FAILED_PERMANENT, "opted_out"),
        ("Invalid phone number", "FAILURE", DeliveryState.FAILED_PERMANENT, "invalid_number"),
        ("Something SNS never said before", "FAILURE", DeliveryState.FAILED_TRANSIENT, "unknown_error"),
    ],
)
def test_each_carrier_answer_is_read_as_a_delivery_state_with_a_reason(
    response: str, status: str, state: DeliveryState, detail: str | None
) -> None:
    receipt = parse_sms_status(status_line(response, status=status))

    assert receipt == Receipt(
        notice_id=None, state=state, at=AT, provider_message_id=SNS_MESSAGE_ID, detail=detail
    )


def test_a_failure_the_carrier_may_get_over_is_not_one_that_never_arrives() -> None:
    transient = parse_sms_status(status_line("Phone is currently unreachable/unavailable"))
    permanent = parse_sms_status(status_line("Phone carrier has blocked this message"))

    assert (transient.never_arrived, permanent.never_arrived) == (False, True)
    assert RANK[transient.state] < RANK[DeliveryState.DELIVERED] < RANK[permanent.state]


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        json.dumps({"status": "SUCCESS"}),
        status_line("x", status="MAYBE"),
        status_line("x", notification={"messageId": "", "timestamp": "2026-11-24 16:00:02.558"}),
        status_line("x", notification={"messageId": SNS_MESSAGE_ID, "timestamp": "yesterday"}),
    ],
)
def test_a_line_that_is_not_snss_delivery_status_is_refused_naming_fields_not_values(line: str) -> None:
    with pytest.raises(MalformedSmsStatus) as refused:
        parse_sms_status(line)

    assert refused.value.problems
    assert "+14155550123" not in str(refused.value)


# ------------------------------------------------------------------------------------ the recorder


@dataclass
class FakeReceiptLedger:
    """Like the table: states move forward only, and a notice gets one second attempt."""

    requests: dict[str, NoticeRequest] = field(default_factory=dict)  # customer notices sent
    states: dict[str, DeliveryState] = field(default_factory=dict)
    sms_ids: dict[str, str] = field(default_factory=dict)  # SNS message id -> notice id
    fallbacks: dict[str, NoticeRequest] = field(default_factory=dict)
    finished_fallbacks: set[str] = field(default_factory=set)

    def record_receipt(self, receipt: Receipt) -> ReceiptRecorded:
        if receipt.notice_id not in self.requests:
            return ReceiptRecorded.UNKNOWN
        current = self.states.get(receipt.notice_id)
        if current is not None and RANK[current] >= receipt.rank:
            return ReceiptRecorded.KEPT
        self.states[receipt.notice_id] = receipt.state
        return ReceiptRecorded.MOVED

    def notice_for_sms(self, sms_message_id: str) -> str | None:
        return self.sms_ids.get(sms_message_id)

    def start_fallback(self, receipt: Receipt, *, now: datetime) -> NoticeRequest | None:
        first = self.requests.get(receipt.notice_id or "")
        if first is None or first.fallback_of is not None or first.notice_id in self.finished_fallbacks:
            return None
        second = first.fallback("email", receipt.state.value)
        self.fallbacks[first.notice_id] = second
        return second


@dataclass
class RecordingQueue:
    put_requests: list[NoticeRequest] = field(default_factory=list)

    def put(self, request: NoticeRequest) -> None:
        self.put_requests.append(request)


def bounce(notice_id: str, state: DeliveryState = DeliveryState.BOUNCED_PERMANENT) -> Receipt:
    return Receipt(notice_id=notice_id, state=state, at=AT, provider_message_id="ses-1")


def recorder_with(request: NoticeRequest) -> tuple[ReceiptRecorder, FakeReceiptLedger, RecordingQueue]:
    ledger, queue = FakeReceiptLedger(requests={request.notice_id: request}), RecordingQueue()
    return ReceiptRecorder(ledger=ledger, queue=queue, clock=lambda: AT), ledger, queue


def test_a_permanent_bounce_queues_the_same_notice_once_more_marked_as_a_second_attempt() -> None:
    request = notice_request()
    recorder, _, queue = recorder_with(request)

    result = recorder.record_email(bounce(request.notice_id))

    assert result is ReceiptRecorded.MOVED
    [second] = queue.put_requests
    assert second.notice_id == fallback_notice_id(request.notice_id) != request.notice_id
    assert second.model_dump(exclude={"notice_id", "fallback_of"}) == request.model_dump(
        exclude={"notice_id", "fallback_of"}
    )
    assert second.fallback_of is not None
    assert (second.fallback_of.notice_id, second.fallback_of.failed_channel) == (request.notice_id, "email")


def test_a_replayed_bounce_queues_the_same_second_attempt_until_it_has_an_outcome() -> None:
    # Given a bounce whose second attempt was queued (and maybe lost with the invocation)
    request = notice_request()
    recorder, ledger, queue = recorder_with(request)
    recorder.record_email(bounce(request.notice_id))

    # When SES reports it again, then again after the second attempt went
    assert recorder.record_email(bounce(request.notice_id)) is ReceiptRecorded.KEPT
    ledger.finished_fallbacks.add(request.notice_id)
    recorder.record_email(bounce(request.notice_id))

    # Then the same request was queued twice at most (delivery's claim sends it once), never a third
    assert [r.notice_id for r in queue.put_requests] == [fallback_notice_id(request.notice_id)] * 2


@pytest.mark.parametrize(
    "state",
    [
        DeliveryState.DELIVERED,
        DeliveryState.DELAYED,
        DeliveryState.BOUNCED_TRANSIENT,
        DeliveryState.COMPLAINED,
    ],
)
def test_only_a_notice_that_never_arrived_gets_a_second_attempt(state: DeliveryState) -> None:
    request = notice_request()
    recorder, _, queue = recorder_with(request)

    recorder.record_email(bounce(request.notice_id, state))

    assert queue.put_requests == []


def test_a_receipt_for_no_notice_of_ours_is_dropped() -> None:
    recorder, ledger, queue = recorder_with(notice_request())

    assert recorder.record_email(bounce("0" * 32)) is ReceiptRecorded.UNKNOWN
    assert (ledger.states, queue.put_requests) == ({}, [])


def test_an_sms_receipt_is_matched_by_snss_message_id() -> None:
    request = notice_request()
    recorder, ledger, _ = recorder_with(request)
    ledger.sms_ids[SNS_MESSAGE_ID] = request.notice_id

    matched = recorder.record_sms(parse_sms_status(status_line("Message accepted", status="SUCCESS")))
    unmatched = recorder.record_sms(
        parse_sms_status(
            status_line("x", notification={"messageId": "other", "timestamp": "2026-11-24 16:00:00"})
        )
    )

    assert (matched, unmatched) == (ReceiptRecorded.MOVED, ReceiptRecorded.UNKNOWN)
    assert ledger.states == {request.notice_id: DeliveryState.DELIVERED}


# ------------------------------------------------------------------------------------ routing


def test_a_second_attempt_never_goes_by_the_channel_it_failed_on() -> None:
    # Given a customer who takes email first, then SMS
    person = customer(phone="+14155550123", channels=["email", "sms"])
    first = notice_request(customer_id=person.customer_id)
    policy = DeliveryPolicy(
        quiet_hours=QuietHours(start=datetime.min.time(), end=datetime.min.time()), max_per_day=9
    )
    recipient = Recipient(person, Preferences(person.customer_id), [], lambda phone: False)

    # When the first attempt and the second (after the email bounced) are judged
    as_first = decide(first, recipient, AT, policy)
    as_second = decide(first.fallback("email", "bounced:permanent"), recipient, AT, policy)
    second_without_sms = decide(
        first.fallback("email", "bounced:permanent"),
        Recipient(customer(channels=["email"]), Preferences(person.customer_id), [], lambda phone: False),
        AT,
        policy,
    )

    # Then the second goes by SMS, and with no other channel it is skipped saying why
    assert isinstance(as_first, Send)
    assert as_first.route.channel == "email"
    assert isinstance(as_second, Send)
    assert as_second.route.channel == "sms"
    assert second_without_sms == Skip("no_channel", "email: this notice failed there for good")


# ------------------------------------------------------------------------------------ the alarm's count


@dataclass
class FakeUnresolved:
    due: list[str]
    counted: set[str] = field(default_factory=set)

    def past_window(self, now: datetime, limit: int = 100) -> list[str]:
        return [notice for notice in self.due if notice not in self.counted][:limit]

    def count_once(self, notice_id: str, now: datetime) -> bool:
        if notice_id in self.counted:
            return False
        self.counted.add(notice_id)
        return True


def test_unresolved_notices_are_counted_once_each() -> None:
    unresolved = FakeUnresolved(due=["a" * 32, "b" * 32])

    assert (count_unresolved(unresolved, AT), count_unresolved(unresolved, AT)) == (2, 0)


# ------------------------------------------------------------------------------------ the log payload


def subscription_event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def test_the_subscription_payload_gives_its_log_events_and_nothing_for_a_control_message() -> None:
    events = [{"id": "3795", "timestamp": 1795536000000, "message": status_line("x")}]
    data = {"messageType": "DATA_MESSAGE", "logGroup": "sns/g", "logStream": "s", "logEvents": events}

    assert log_events(subscription_event(data)) == events
    assert log_events(subscription_event({"messageType": "CONTROL_MESSAGE", "logEvents": events})) == []


@pytest.mark.parametrize(
    "event", [{}, {"awslogs": {"data": "not base64!"}}, {"awslogs": {"data": "aGVsbG8="}}]
)
def test_an_event_that_is_not_a_subscription_payload_is_refused_clearly(event: dict[str, Any]) -> None:
    with pytest.raises(UnreadableLogsEvent, match=r"awslogs\.data"):
        log_events(event)
