"""SES bounces and complaints: parsing and the rules with in-memory fakes, then the real handler on
moto with template.yaml provisioned, driven with the Lambda SNS events SES's notifications arrive in."""

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from headsup.domain.preferences import Preferences
from headsup.domain.receipts import RANK, DeliveryState, Receipt
from headsup.domain.ses_feedback import (
    FeedbackType,
    MalformedFeedback,
    SesFeedback,
    parse_notification,
    parse_receipt,
)
from headsup.logic.feedback import FeedbackRecorder, FeedbackResult

from emulator import Deployment

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOTICE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_NOTICE = "00112233445566778899aabbccddeeff"
ADDRESS = "ana.souza@example.com"
OTHER_ADDRESS = "jonas.weber@example.org"


# ------------------------------------------------------------------------------------------- events


def ses_notification(
    event_type: str,
    *,
    notice_id: str | None = NOTICE,
    address: str = ADDRESS,
    bounce_type: str = "Permanent",
    tagged: bool = True,
    key: str = "eventType",
) -> dict[str, Any]:
    """SES's notification for one email delivery sent (event publishing through a configuration
    set, as template.yaml sets up; `key="notificationType"` for the classic identity notifications)."""
    headers = [
        {"name": "From", "value": "Example Co <notices@example.com>"},
        {"name": "To", "value": address},
        {"name": "Subject", "value": "Your bill went up"},
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "List-Unsubscribe-Post", "value": "List-Unsubscribe=One-Click"},
    ]
    tags: dict[str, list[str]] = {
        "ses:configuration-set": ["headsup-local-SesConfigurationSet"],
        "ses:source-ip": ["192.0.2.20"],
        "ses:from-domain": ["example.com"],
        "ses:caller-identity": ["headsup-NoticeDeliveryFunction-role"],
        "kind": ["bill_increase"],
    }
    if notice_id is not None:
        headers.append({"name": "X-Headsup-Notice-Id", "value": notice_id})
        if tagged:
            tags["notice_id"] = [notice_id]
    mail = {
        "timestamp": "2026-11-24T11:59:58.120Z",
        "source": "Example Co <notices@example.com>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        "sendingAccountId": "123456789012",
        "messageId": "0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
        "destination": [address],
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": ["Example Co <notices@example.com>"],
            "to": [address],
            "messageId": "0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
            "subject": "Your bill went up",
        },
    }
    if key == "eventType":
        mail["tags"] = tags  # classic notifications carry no tags
    notification: dict[str, Any] = {key: event_type, "mail": mail}
    if event_type == "Bounce":
        permanent = bounce_type == "Permanent"
        notification["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General" if permanent else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1" if permanent else "4.2.2",
                    "diagnosticCode": f"smtp; 550 5.1.1 <{address}>: user unknown"
                    if permanent
                    else "smtp; 452 4.2.2 mailbox full",
                }
            ],
            "timestamp": "2026-11-24T12:00:02.669Z",
            "feedbackId": "0100019a5b1c3f00-11111111-2222-3333-4444-555555555555-000000",
            "reportingMTA": "dsn; a8-50.smtp-out.amazonses.com",
        }
    elif event_type == "Delivery":
        notification["delivery"] = {
            "timestamp": "2026-11-24T12:00:01.412Z",
            "processingTimeMillis": 3292,
            "recipients": [address],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-50.smtp-out.amazonses.com",
        }
    elif event_type == "DeliveryDelay":
        notification["deliveryDelay"] = {
            "timestamp": "2026-11-24T12:10:00.000Z",
            "delayType": "MailboxFull",
            "expirationTime": "2026-11-25T12:00:00.000Z",
            "delayedRecipients": [
                {"emailAddress": address, "status": "4.2.2", "diagnosticCode": "smtp; 452 4.2.2 mailbox full"}
            ],
        }
    elif event_type == "Reject":
        notification["reject"] = {"reason": "Bad content"}
    elif event_type == "Rendering Failure":
        notification["failure"] = {"errorMessage": "Attribute 'name' is not present", "templateName": "x"}
    elif event_type == "Open":
        # Only from SesTrackedConfigurationSet, for a topic the business chose to track.
        notification["open"] = {
            "ipAddress": "192.0.2.1",
            "timestamp": "2026-11-24T12:30:00.000Z",
            "userAgent": "Mozilla/5.0",
        }
    elif event_type == "Click":
        notification["click"] = {
            "ipAddress": "192.0.2.1",
            "link": "https://example.com/account",
            "linkTags": {},
            "timestamp": "2026-11-24T12:31:00.000Z",
            "userAgent": "Mozilla/5.0",
        }
    elif event_type == "Complaint":
        notification["complaint"] = {
            "complainedRecipients": [{"emailAddress": address}],
            "timestamp": "2026-11-24T13:15:00.000Z",
            "feedbackId": "0100019a5b1c4a11-66666666-7777-8888-9999-000000000000-000000",
            "userAgent": "Yahoo!-Mail-Feedback/2.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-11-24T13:14:58.000Z",
        }
    return notification


def sns_record(deployment: Deployment, message: str) -> dict[str, Any]:
    """One record of the event Lambda is invoked with for a message on SesFeedbackTopic."""
    topic_arn = deployment.ref("SesFeedbackTopic")
    endpoint = f"https://sns.{deployment.region}.amazonaws.com"
    subscription_arn = f"{topic_arn}:4c5d1f0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": None,
            "Message": message,
            "Timestamp": "2026-11-24T12:00:03.001Z",
            "SignatureVersion": "1",
            "Signature": base64.b64encode(b"Z" * 256).decode(),  # shape only: nothing verifies it
            "SigningCertUrl": f"{endpoint}/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "UnsubscribeUrl": f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            "MessageAttributes": {},
        },
    }


def sns_event(deployment: Deployment, *messages: str) -> dict[str, Any]:
    return {"Records": [sns_record(deployment, message) for message in messages]}


# ------------------------------------------------------------------------------------------- fakes


@dataclass
class InMemoryPreferences:
    suppressed: dict[str, tuple[str, str]] = field(default_factory=dict)  # customer -> (address, reason)

    def get(self, customer_id: str) -> Preferences:
        address = self.suppressed.get(customer_id, (None, None))[0]
        return Preferences(customer_id, suppressed_email=address)

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        raise AssertionError("feedback never opts out of a topic")

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        self.suppressed[customer_id] = (address, reason)


@dataclass
class InMemoryFeedbackLedger:
    """Like the table: only notices it holds can be marked, and marking returns their customer."""

    customers: dict[str, str] = field(default_factory=dict)  # notice id -> customer id
    feedback: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        if notice_id not in self.customers:
            return None
        self.feedback[notice_id] = (feedback, at)
        return self.customers[notice_id]


def recorder(ledger: InMemoryFeedbackLedger, preferences: InMemoryPreferences) -> FeedbackRecorder:
    return FeedbackRecorder(ledger=ledger, preferences=preferences)


# ------------------------------------------------------------------------------------------- parsing


def test_a_permanent_bounce_is_read_with_its_notice_and_bare_address() -> None:
    feedback = parse_notification(json.dumps(ses_notification("Bounce")))

    assert feedback == SesFeedback(
        type=FeedbackType.BOUNCE,
        ses_message_id="0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
        notice_id=NOTICE,
        recipients=(ADDRESS,),
        bounce_type="Permanent",
        occurred_at=datetime(2026, 11, 24, 12, 0, 2, 669000, tzinfo=UTC),
    )
    assert (feedback.outcome, feedback.suppresses) == ("bounce:Permanent", True)


@pytest.mark.parametrize(
    ("notification", "outcome", "suppresses"),
    [
        (ses_notification("Complaint"), "complaint", True),
        (ses_notification("Bounce", bounce_type="Transient"), "bounce:Transient", False),
        (ses_notification("Bounce", bounce_type="Undetermined"), "bounce:Undetermined", False),
        # Classic identity notifications: `notificationType`, no tags, the header names the notice.
        (ses_notification("Bounce", key="notificationType"), "bounce:Permanent", True),
        (ses_notification("Complaint", key="notificationType"), "complaint", True),
    ],
)
def test_what_each_kind_of_feedback_does(
    notification: dict[str, Any], outcome: str, suppresses: bool
) -> None:
    feedback = parse_notification(json.dumps(notification))

    assert feedback is not None
    assert feedback.notice_id == NOTICE
    assert (feedback.outcome, feedback.suppresses) == (outcome, suppresses)


def test_the_notice_id_comes_from_the_header_when_the_tag_is_missing() -> None:
    feedback = parse_notification(json.dumps(ses_notification("Bounce", tagged=False)))

    assert feedback is not None
    assert feedback.notice_id == NOTICE


def test_an_email_without_a_valid_notice_id_cannot_be_attributed() -> None:
    untagged = parse_notification(json.dumps(ses_notification("Bounce", notice_id=None)))
    forged = parse_notification(json.dumps(ses_notification("Bounce", notice_id="../../etc/passwd")))

    assert untagged is not None
    assert untagged.notice_id is None
    assert forged is not None
    assert forged.notice_id is None


@pytest.mark.parametrize(
    "message",
    [
        "Successfully validated SNS topic for Amazon SES event publishing.",
        json.dumps({**ses_notification("Bounce"), "eventType": "Delivery"}),
        json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded", "mail": {"messageId": "x"}}),
    ],
)
def test_other_messages_ses_publishes_need_no_action(message: str) -> None:
    assert parse_notification(message) is None


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("not json at all " + ADDRESS, "Invalid JSON"),
        (json.dumps({"eventType": "Bounce"}), "mail: Field required"),
        (json.dumps({k: v for k, v in ses_notification("Bounce").items() if k != "bounce"}), "bounce"),
        (
            json.dumps(
                {**ses_notification("Bounce"), "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}
            ),
            "bounce.bouncedRecipients",
        ),
        (
            json.dumps({**ses_notification("Complaint"), "complaint": {"complainedRecipients": [{}]}}),
            "complaint.complainedRecipients.0.emailAddress: Field required",
        ),
    ],
)
def test_a_malformed_message_names_what_is_wrong_never_the_address(message: str, problem: str) -> None:
    with pytest.raises(MalformedFeedback) as caught:
        parse_notification(message)

    assert problem in str(caught.value)
    assert ADDRESS not in str(caught.value)


# ------------------------------------------------------------------------------------------- rules


def test_a_permanent_bounce_suppresses_the_address_and_marks_the_notice() -> None:
    # Given a notice sent to cust-ana
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Bounce")))
    assert feedback is not None

    # When its permanent bounce is recorded
    result = recorder(ledger, preferences).record(feedback, now=NOW)

    # Then the address is suppressed for that customer and the notice says why, at SES's time
    assert result is FeedbackResult.SUPPRESSED
    assert preferences.suppressed == {"cust-ana": (ADDRESS, "bounce:Permanent")}
    assert ledger.feedback == {
        NOTICE: ("bounce:Permanent", datetime(2026, 11, 24, 12, 0, 2, 669000, tzinfo=UTC))
    }


def test_a_complaint_suppresses_the_address_and_marks_the_notice() -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Complaint")))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.SUPPRESSED
    assert preferences.suppressed == {"cust-ana": (ADDRESS, "complaint")}
    assert ledger.feedback[NOTICE][0] == "complaint"


def test_a_transient_bounce_is_only_recorded() -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Bounce", bounce_type="Transient")))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.RECORDED
    assert preferences.suppressed == {}
    assert ledger.feedback[NOTICE][0] == "bounce:Transient"


@pytest.mark.parametrize("notice_id", [OTHER_NOTICE, None])
def test_feedback_for_no_notice_of_ours_is_skipped(notice_id: str | None) -> None:
    ledger = InMemoryFeedbackLedger(customers={NOTICE: "cust-ana"})
    preferences = InMemoryPreferences()
    feedback = parse_notification(json.dumps(ses_notification("Complaint", notice_id=notice_id)))
    assert feedback is not None

    result = recorder(ledger, preferences).record(feedback, now=NOW)

    assert result is FeedbackResult.UNATTRIBUTED
    assert (preferences.suppressed, ledger.feedback) == ({}, {})


# ------------------------------------------------------------------------------------------- receipts


@pytest.mark.parametrize(
    ("event_type", "bounce_type", "state", "at", "detail"),
    [
        ("Delivery", "Permanent", DeliveryState.DELIVERED, "2026-11-24T12:00:01.412+00:00", None),
        ("DeliveryDelay", "Permanent", DeliveryState.DELAYED, "2026-11-24T12:10:00+00:00", None),
        ("Reject", "Permanent", DeliveryState.REJECTED, "2026-11-24T11:59:58.120+00:00", None),
        (
            "Rendering Failure",
            "Permanent",
            DeliveryState.RENDERING_FAILED,
            "2026-11-24T11:59:58.120+00:00",
            None,
        ),
        ("Bounce", "Permanent", DeliveryState.BOUNCED_PERMANENT, "2026-11-24T12:00:02.669+00:00", "general"),
        (
            "Bounce",
            "Transient",
            DeliveryState.BOUNCED_TRANSIENT,
            "2026-11-24T12:00:02.669+00:00",
            "mailbox_full",
        ),
        ("Complaint", "Permanent", DeliveryState.COMPLAINED, "2026-11-24T13:15:00+00:00", None),
        ("Open", "Permanent", DeliveryState.OPENED, "2026-11-24T12:30:00+00:00", None),
        ("Click", "Permanent", DeliveryState.CLICKED, "2026-11-24T12:31:00+00:00", None),
    ],
)
def test_every_ses_event_that_says_what_became_of_an_email_is_read_as_its_delivery_state(
    event_type: str, bounce_type: str, state: DeliveryState, at: str, detail: str | None
) -> None:
    # Given SES's event, as event publishing writes it (Reject and Rendering Failure carry no time
    # of their own: the mail's is taken)
    message = json.dumps(ses_notification(event_type, bounce_type=bounce_type))

    # When it is read
    receipt = parse_receipt(message)

    # Then it is matched to its notice by the tag, with SES's own time
    assert receipt == Receipt(
        notice_id=NOTICE,
        state=state,
        at=datetime.fromisoformat(at),
        provider_message_id="0100019a5b1c2d3e-6f7a8b9c-0d1e-2f3a-4b5c-6d7e8f9a0b1c-000000",
        detail=detail,
    )


@pytest.mark.parametrize("event_type", ["Send", "Subscription"])
def test_events_that_say_nothing_of_delivery_give_no_receipt(event_type: str) -> None:
    assert parse_receipt(json.dumps(ses_notification(event_type))) is None


def test_a_delay_ranks_below_a_delivery_and_a_complaint_above_it() -> None:
    ranks = [
        RANK[state] for state in (DeliveryState.DELAYED, DeliveryState.DELIVERED, DeliveryState.COMPLAINED)
    ]
    assert ranks == sorted(set(ranks))
    assert (
        RANK[DeliveryState.BOUNCED_TRANSIENT]
        < RANK[DeliveryState.DELIVERED]
        < RANK[DeliveryState.BOUNCED_PERMANENT]
    )


def test_a_receipt_without_any_time_is_malformed_and_names_the_field() -> None:
    notification = ses_notification("Reject")
    del notification["mail"]["timestamp"]
    with pytest.raises(MalformedFeedback, match=r"mail\.timestamp"):
        parse_receipt(json.dumps(notification))
