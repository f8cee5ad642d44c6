"""What the inbound SMS function reads and keeps, against moto with the tables from template.yaml:
who has a number on file (PhoneIndex), what a customer was sent lately (CustomerSentIndex), and
which inbound messages were handled (DueItemsTable)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from headsup.adapters.dynamodb import to_item
from headsup.adapters.inbound_sms import (
    INBOUND_KEPT,
    SENDER_FIELDS,
    DynamoInboundLog,
    DynamoRecentNotices,
    DynamoSenders,
)
from headsup.domain.inbound_sms import Sender

from emulator import Deployment
from emulator.template import load_template

NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
PHONE = "+4915112345678"


def put(deployment: Deployment, table: str, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=deployment.ref(table), Item=to_item(item))


def customer(customer_id: str, phone: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "first_name": "Jonas",
        "email": "j@example.com",
        "phone": phone,
        **extra,
    }


@pytest.fixture
def senders(deployment: Deployment) -> DynamoSenders:
    return DynamoSenders(deployment.ref("CustomersTable"))


def test_the_sender_is_the_customer_with_the_number_on_file_read_without_name_or_address(
    deployment: Deployment, senders: DynamoSenders
) -> None:
    put(deployment, "CustomersTable", customer("cust-jonas", PHONE, locale="de-DE", timezone="Europe/Berlin"))
    put(deployment, "CustomersTable", customer("cust-ana", "+14155550123"))

    assert senders.find(PHONE) == [Sender("cust-jonas", locale="de-DE", timezone="Europe/Berlin")]
    assert senders.find("+14155550100") == []


def test_the_fields_read_are_the_ones_the_functions_policy_allows() -> None:
    function = load_template()["Resources"]["InboundSmsFunction"]["Properties"]
    [statement] = [
        s
        for p in function["Policies"]
        for s in p.get("Statement", [])
        if s["Sid"] == "ReadTheSendersLocaleAndClock"
    ]
    assert statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] == list(SENDER_FIELDS)


def test_everyone_sharing_a_number_is_found_and_do_not_contact_is_read(
    deployment: Deployment, senders: DynamoSenders
) -> None:
    put(deployment, "CustomersTable", customer("cust-b", PHONE, do_not_contact=True))
    put(deployment, "CustomersTable", customer("cust-a", PHONE, locale=7))  # a locale that is not text

    assert senders.find(PHONE) == [
        Sender("cust-a", locale=None, timezone=None),
        Sender("cust-b", locale=None, timezone=None, do_not_contact=True),
    ]


def sent(deployment: Deployment, notice_id: str, customer_id: str, hours_ago: float, **extra: Any) -> None:
    put(
        deployment,
        "NoticeLedgerTable",
        {
            "notice_id": notice_id,
            "customer_id": customer_id,
            "kind": "ticket_follow_up",
            "status": "sent",
            "created_at": (NOW - timedelta(hours=hours_ago, minutes=1)).isoformat(),
            "sent_at": (NOW - timedelta(hours=hours_ago)).isoformat(),
            **extra,
        },
    )


def test_a_customers_notices_sent_since_a_time_come_newest_first_with_their_answers(
    deployment: Deployment,
) -> None:
    sent(deployment, "n-old", "cust-jonas", 100)
    sent(deployment, "n-1", "cust-jonas", 5, subject="tickets/t-1", answer="fixed", answer_reference="in-1")
    sent(deployment, "n-2", "cust-jonas", 1, kind="visit_done")
    sent(deployment, "n-ana", "cust-ana", 1)

    notices = DynamoRecentNotices(deployment.ref("NoticeLedgerTable")).sent_since(
        "cust-jonas", NOW - timedelta(hours=72)
    )

    assert [(n.notice_id, n.kind) for n in notices] == [
        ("n-2", "visit_done"),
        ("n-1", "ticket_follow_up"),
    ]
    assert (notices[1].subject, notices[1].answer, notices[1].answer_reference) == (
        "tickets/t-1",
        "fixed",
        "in-1",
    )
    assert DynamoRecentNotices(deployment.ref("NoticeLedgerTable")).sent_since("cust-x", NOW) == []


def test_an_inbound_message_is_finished_once_kept_a_week_and_can_be_undone(deployment: Deployment) -> None:
    log = DynamoInboundLog(deployment.ref("DueItemsTable"))

    assert log.seen("in-1") is False
    assert log.finish("in-1", "answered", customer_id="cust-jonas", now=NOW) is True
    assert log.finish("in-1", "answered", customer_id="cust-jonas", now=NOW) is False
    assert log.seen("in-1") is True
    item = boto3.client("dynamodb").get_item(
        TableName=deployment.ref("DueItemsTable"), Key=to_item({"item_key": "inbound_sms#in-1"})
    )["Item"]
    assert item["expires_at"] == {"N": str(int((NOW + INBOUND_KEPT).timestamp()))}
    assert "due_at" not in item  # never in the sweep's due index

    log.forget("in-1")
    assert log.seen("in-1") is False
