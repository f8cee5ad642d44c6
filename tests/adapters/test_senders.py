"""SES and SNS adapters: what moto records, and how provider errors are sorted."""

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from headsup.delivery.rendering import RenderedEmail, RenderedSms
from headsup.delivery.senders import PermanentSendError, SesEmailSender, SnsSmsSender
from moto import mock_aws

from infra.local_aws import provision, sent_emails, sent_sms

EMAIL = RenderedEmail(subject="Your bill", html="<p>Hi Ana</p>", text="Hi Ana\n")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        provision()  # verifies the template's SenderEmail identity, as a real account would have
        yield


def test_email_is_sent_as_multipart_mime_traceable_to_its_notice(aws: None) -> None:
    sender = SesEmailSender("notices@example.com", sender_name="Example Co")

    message_id = sender.send_email("ana@example.com", EMAIL, notice_id="n-1", kind="bill_increase")

    [sent] = sent_emails()
    assert sent.message_id == message_id
    assert sent.destinations == ["ana@example.com"]
    assert sent.message["From"] == "Example Co <notices@example.com>"
    assert sent.message["X-Headsup-Notice-Id"] == "n-1"
    assert sent.message["Message-ID"].endswith("@example.com>")
    assert (sent.text, sent.html) == ("Hi Ana\n", "<p>Hi Ana</p>\n")


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


def stubbed_ses(code: str) -> SesEmailSender:
    client = boto3.client("sesv2", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("send_email", service_error_code=code, service_message="refused ana@example.com")
    stub.activate()
    return SesEmailSender("notices@example.com", sender_name="Example Co", client=client)


@pytest.mark.parametrize(
    "code", ["MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"]
)
def test_permanent_ses_rejection_is_a_permanent_send_error_without_the_address(code: str) -> None:
    with pytest.raises(PermanentSendError) as caught:
        stubbed_ses(code).send_email("ana@example.com", EMAIL, notice_id="n-1", kind="bill_increase")
    assert caught.value.code == code
    assert "ana@example.com" not in str(caught.value)


@pytest.mark.parametrize("code", ["TooManyRequestsException", "Throttling", "InternalFailure"])
def test_transient_ses_errors_propagate_to_be_retried(code: str) -> None:
    with pytest.raises(ClientError) as caught:
        stubbed_ses(code).send_email("ana@example.com", EMAIL, notice_id="n-1", kind="bill_increase")
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(("code", "permanent"), [("InvalidParameter", True), ("Throttled", False)])
def test_sns_errors_are_sorted_into_permanent_and_transient(code: str, permanent: bool) -> None:
    client = boto3.client("sns", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("publish", service_error_code=code)
    stub.activate()
    sender = SnsSmsSender(sender_id="ExampleCo", client=client)

    with pytest.raises(PermanentSendError if permanent else ClientError):
        sender.send_sms("+14155550123", RenderedSms("hi"), notice_id="n-1", kind="bill_increase")
