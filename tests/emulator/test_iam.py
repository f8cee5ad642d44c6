"""The IAM model used to check recorded calls against template.yaml's policies."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from emulator import Deployment, provision
from emulator.iam import denied

DELIVERY = "NoticeDeliveryFunction"


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()


def batch_get(deployment: Deployment, *tables: str) -> dict[str, object]:
    return {"RequestItems": {deployment.ref(t): {"Keys": []} for t in tables}}


def test_inline_statements_allow_what_they_name_and_nothing_else(deployment: Deployment) -> None:
    assert (
        denied(deployment, DELIVERY, "dynamodb", "BatchGetItem", batch_get(deployment, "PreferencesTable"))
        == []
    )
    [(action, resource)] = denied(
        deployment, DELIVERY, "dynamodb", "BatchGetItem", batch_get(deployment, "DueItemsTable")
    )
    assert action == "dynamodb:BatchGetItem"
    assert resource.endswith(f":table/{deployment.ref('DueItemsTable')}")


def test_sam_policy_templates_are_expanded(deployment: Deployment) -> None:
    # DynamoDBReadPolicy on CustomersTable covers BatchGetItem; not writes
    assert (
        denied(deployment, DELIVERY, "dynamodb", "BatchGetItem", batch_get(deployment, "CustomersTable"))
        == []
    )
    put = {"TableName": deployment.ref("CustomersTable")}
    assert denied(deployment, DELIVERY, "dynamodb", "PutItem", put) != []
    # SQSSendMessagePolicy on NoticeQueue for the detector
    send = {"QueueUrl": deployment.ref("NoticeQueue")}
    assert denied(deployment, "BillIncreaseDetectorFunction", "sqs", "SendMessage", send) == []
    # ...and for delivery, whose waits for the sending rate go back to NoticeQueue, that queue only
    assert denied(deployment, DELIVERY, "sqs", "SendMessage", send) == []
    failures = {"QueueUrl": deployment.ref("DetectorFailureQueue")}
    assert denied(deployment, DELIVERY, "sqs", "SendMessage", failures) != []


def test_an_index_needs_its_own_resource(deployment: Deployment) -> None:
    ledger = deployment.ref("NoticeLedgerTable")
    by_index = {"TableName": ledger, "IndexName": "ToldIndex"}
    assert denied(deployment, DELIVERY, "dynamodb", "Query", by_index) == []
    assert denied(deployment, DELIVERY, "dynamodb", "Query", {"TableName": ledger}) != []
