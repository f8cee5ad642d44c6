"""SES and SNS adapters: what moto records, and how provider errors are sorted."""

from collections.abc import Iterator
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.stub import Stubber
from headsup.adapters.senders import (
    SEND_CLIENT_CONFIG,
    EmailIdentity,
    PermanentSendError,
    SendQuotaExceeded,
    SendThrottled,
    SesEmailSender,
    SnsSmsSender,
    UnconfirmedSend,
)
from headsup.domain.messages import RenderedEmail, RenderedSms
from moto import mock_aws

from emulator import provision, sent_emails, sent_sms

EMAIL = RenderedEmail(subject="Your bill", html="<p>Hi Ana</p>", text="Hi Ana\n")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        provision()  # verifies the template's SenderEmail identity, as a real account would have
        yield


def test_email_is_sent_as_multipart_mime_traceable_to_its_notice(aws: None) -> None:
    sender = SesEmailSender(EmailIdentity("notices@example.com", name="Example Co"))

    message_id = sender.send_email("ana@example.com", EMAIL, notice_id="n-1", kind="bill_increase")

    [sent] = sent_emails()
    assert sent.message_id == message_id
    assert sent.destinations == ["ana@example.com"]
    assert sent.message["From"] == "Example Co <notices@example.com>"
    assert sent.message["X-Headsup-Notice-Id"] == "n-1"
    assert sent.message["Message-ID"].endswith("@example.com>")
    assert (sent.text, sent.html) == ("Hi Ana\n", "<p>Hi Ana</p>\n")


@pytest.mark.parametrize(
    "subject",
    [
        "Su factura de noviembre de 2026 sube $155.13: le explicamos por qué",  # folds before "qué"
        "Su factura de noviembre de 2026 sube 20,74 €: le explicamos por qué",
        "Ihre Rechnung für November 2026 steigt um 12,00 €: was sich geändert hat, und warum",
        "田中 様: 11月のご請求額が ¥1,200 上がりました (理由はこちら)",
    ],
)
def test_a_subject_reaches_the_inbox_exactly_as_rendered(aws: None, subject: str) -> None:
    sender = SesEmailSender(EmailIdentity("notices@example.com", name="Example Co"))

    sender.send_email(
        "ana@example.com", RenderedEmail(subject, EMAIL.html, EMAIL.text), notice_id="n", kind="k"
    )

    [sent] = sent_emails()
    assert sent.subject == subject  # as a mail client decodes it: no space added or lost


def test_sms_is_published_as_transactional(aws: None) -> None:
    sender = SnsSmsSender()

    sender.send_sms("+14155550123", RenderedSms("Example Co: hi"), notice_id="n-1", kind="bill_increase")

    [sms] = sent_sms()
    assert (sms.phone_number, sms.message) == ("+14155550123", "Example Co: hi")


def test_sns_opt_out_is_reported(aws: None) -> None:
    sender = SnsSmsSender()
    # moto answers "opted out" for numbers ending in 99
    assert sender.is_opted_out("+14155550199") is True
    assert sender.is_opted_out("+14155550123") is False


def stubbed_ses(*errors: tuple[str, str], succeed: bool = False) -> tuple[SesEmailSender, Stubber]:
    """An SES sender whose client answers with `errors` (code, message) in turn, then maybe a send."""
    client = boto3.client("sesv2", region_name="us-east-1")
    stub = Stubber(client)
    for code, message in errors:
        stub.add_client_error("send_email", service_error_code=code, service_message=message)
    if succeed:
        stub.add_response("send_email", {"MessageId": "ses-1"})
    stub.activate()
    return SesEmailSender(EmailIdentity("notices@example.com", name="Example Co"), client=client), stub


def send(sender: SesEmailSender) -> str:
    return sender.send_email("ana@example.com", EMAIL, notice_id="n-1", kind="bill_increase")


@pytest.mark.parametrize(
    "code", ["MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"]
)
def test_permanent_ses_rejection_is_a_permanent_send_error_without_the_address(code: str) -> None:
    sender, stub = stubbed_ses((code, "refused ana@example.com"), succeed=True)
    with pytest.raises(PermanentSendError) as caught:
        send(sender)
    assert caught.value.code == code
    assert "ana@example.com" not in str(caught.value)
    assert len(stub._queue) == 1


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "TooManyRequestsException"])
def test_rate_throttling_is_a_wait_for_delivery_not_retried_here(code: str) -> None:
    # Delivery puts the notice back on the queue with a growing delay (domain/pacing.py): a sleep
    # here would bill the function for waiting and hold the batch.
    sender, stub = stubbed_ses((code, "Maximum sending rate exceeded."), succeed=True)
    with pytest.raises(SendThrottled, match=code) as caught:
        send(sender)
    assert not isinstance(caught.value, SendQuotaExceeded)
    assert len(stub._queue) == 1


def test_the_daily_quota_is_told_apart_from_the_rate() -> None:
    sender, stub = stubbed_ses(("ThrottlingException", "Daily message quota exceeded."), succeed=True)
    with pytest.raises(SendQuotaExceeded):
        send(sender)
    assert len(stub._queue) == 1


def test_other_ses_errors_propagate_to_be_retried_by_the_queue() -> None:
    sender, _ = stubbed_ses(("InternalFailure", "try later"))
    with pytest.raises(ClientError) as caught:
        send(sender)
    assert caught.value.response["Error"]["Code"] == "InternalFailure"


class SilentClient:
    """A client whose request goes out and whose answer never comes back."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def send_email(self, **_: object) -> dict[str, str]:
        self.calls += 1
        raise self.error

    publish = send_email


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"),
        ConnectionClosedError(endpoint_url="https://email.us-east-1.amazonaws.com"),
    ],
)
def test_a_send_without_an_answer_is_unconfirmed_and_not_repeated(error: Exception) -> None:
    client = SilentClient(error)
    sender = SesEmailSender(EmailIdentity("notices@example.com", name="Example Co"), client=cast(Any, client))

    with pytest.raises(UnconfirmedSend):
        send(sender)
    assert client.calls == 1


def test_sending_clients_make_one_attempt_per_call() -> None:
    # botocore's retries would repeat a timed-out send, which SES may already have accepted
    config = SEND_CLIENT_CONFIG.retries or {}
    assert config.get("total_max_attempts") == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [("InvalidParameter", PermanentSendError), ("Throttled", SendThrottled), ("InternalError", ClientError)],
)
def test_sns_errors_are_sorted_into_permanent_and_transient(code: str, expected: type[Exception]) -> None:
    client = boto3.client("sns", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("publish", service_error_code=code)
    stub.activate()
    sender = SnsSmsSender(sender_id="ExampleCo", client=client)

    with pytest.raises(expected):
        sender.send_sms("+14155550123", RenderedSms("hi"), notice_id="n-1", kind="bill_increase")


@pytest.mark.parametrize(
    ("own", "per_call", "expected"),
    [
        (None, None, None),
        ("+18002345678", None, "+18002345678"),
        ("+18002345678", "+18005550100", "+18005550100"),
    ],
)
def test_an_sms_goes_from_the_number_asked_for_else_the_senders_own(
    own: str | None, per_call: str | None, expected: str | None
) -> None:
    # With two-way SMS the customer's answer reaches the number the SMS came from.
    client = boto3.client("sns", region_name="us-east-1")
    stub = Stubber(client)
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if expected is not None:
        attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": expected}
    stub.add_response(
        "publish",
        {"MessageId": "sns-1"},
        {"PhoneNumber": "+14155550123", "Message": "hi", "MessageAttributes": attributes},
    )
    stub.activate()
    sender = SnsSmsSender(client=client, origination_number=own)

    assert (
        sender.send_sms("+14155550123", RenderedSms("hi"), notice_id="n", kind="k", origination=per_call)
        == "sns-1"
    )
    stub.assert_no_pending_responses()
