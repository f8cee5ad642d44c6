"""emulator.providers: what SES, SNS and SQS accepted, read back from moto."""

import json
from email.message import EmailMessage

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import (
    Deployment,
    sent_emails,
    sent_sms,
    topic_messages,
)

ESCALATIONS = "EscalationTopic"


# ------------------------------------------------------------------------------------------- SES and SMS


def test_sender_identity_is_verified_and_sent_emails_are_parsed(deployment: Deployment) -> None:
    # Given a multipart email from the template's sender address
    sender = deployment.parameters["SenderEmail"]
    mime = EmailMessage()
    mime["Subject"], mime["From"], mime["To"] = "Your bill went up", sender, "Ana <ana@example.net>"
    mime.set_content("Plain text")
    mime.add_alternative("<p>HTML</p>", subtype="html")
    sesv2 = boto3.client("sesv2")

    # When it is sent through SES v2
    sesv2.send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["ana@example.net"]},
        Content={"Raw": {"Data": mime.as_bytes()}},
    )

    # Then it is in the outbox, parsed
    (sent,) = sent_emails()
    assert sent.source == sender
    assert sent.destinations == ["ana@example.net"]
    assert sent.subject == "Your bill went up"
    assert (sent.text or "").strip() == "Plain text"
    assert (sent.html or "").strip() == "<p>HTML</p>"
    assert sent.message is not None
    assert sent.message["To"] == "Ana <ana@example.net>"
    # ...while an address outside the verified identity is refused, as by SES
    with pytest.raises(ClientError, match="MessageRejected"):
        sesv2.send_email(
            FromEmailAddress="someone@unverified.test",
            Destination={"ToAddresses": ["ana@example.net"]},
            Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
        )


def test_sent_sms_lists_published_text_messages(deployment: Deployment) -> None:
    # When an SMS is published to a phone number
    boto3.client("sns").publish(PhoneNumber="+15555550100", Message="Your bill went up")

    # Then it is in the SMS outbox
    assert [(s.phone_number, s.message) for s in sent_sms()] == [("+15555550100", "Your bill went up")]


# ------------------------------------------------------------------------------------------- topics


def test_topic_messages_keep_subject_message_and_attributes_without_any_subscriber(
    deployment: Deployment,
) -> None:
    # Given the escalation topic, which nothing subscribes to locally
    sns = boto3.client("sns")
    topic_arn = deployment.ref(ESCALATIONS)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []

    # When an escalation with a subject and attributes is published
    message_id = sns.publish(
        TopicArn=topic_arn,
        Subject="Callback overdue: c-1",
        Message='{"callback_id": "c-1"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "callback_overdue"},
            "minutes_late": {"DataType": "Number", "StringValue": "17"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )["MessageId"]

    # Then it is read back whole, attributes in the shape SNS hands to subscribers
    (published,) = topic_messages(deployment, ESCALATIONS)
    assert published.message_id == message_id
    assert published.subject == "Callback overdue: c-1"
    assert json.loads(published.message) == {"callback_id": "c-1"}
    assert published.attributes == {
        "kind": {"Type": "String", "Value": "callback_overdue"},
        "minutes_late": {"Type": "Number", "Value": "17"},
        "blob": {"Type": "Binary", "Value": "AAE="},
    }
    assert published.group_id is None


def test_topic_messages_are_in_order_whether_subscribed_or_batched_and_only_the_topics_own(
    deployment: Deployment,
) -> None:
    # Given the escalation topic with a queue subscribed, and another topic and an SMS besides
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = deployment.ref(ESCALATIONS)
    queue_url = sqs.create_queue(QueueName="team-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
    other_topic = sns.create_topic(Name="elsewhere")["TopicArn"]

    # When messages are published singly and in a batch, elsewhere, and by SMS
    sns.publish(TopicArn=topic_arn, Subject="first", Message="1")
    sns.publish(TopicArn=other_topic, Subject="not ours", Message="x")
    sns.publish(PhoneNumber="+15555550100", Message="an SMS")
    sns.publish_batch(
        TopicArn=topic_arn,
        PublishBatchRequestEntries=[
            {"Id": "a", "Subject": "second", "Message": "2"},
            {"Id": "b", "Message": "3"},
        ],
    )

    # Then the topic's messages are exactly its own, oldest first, subjects kept (or None)
    assert [(m.subject, m.message) for m in topic_messages(deployment, ESCALATIONS)] == [
        ("first", "1"),
        ("second", "2"),
        (None, "3"),
    ]
    assert [s.message for s in sent_sms()] == ["an SMS"]
    # ...and the subscriber got them too, the subject in SNS's envelope
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]).get("Subject") for m in received] == ["first", "second", None]
