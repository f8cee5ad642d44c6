"""moto's transactions, checked before they are applied (emulator/moto_transactions.py): the same
answers as moto's own, without copying the tables."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

import emulator  # noqa: F401 - installs the transaction check
from emulator.moto_transactions import _conditions_first


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("left", "right"):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        client.put_item(TableName="right", Item={"id": {"S": "r"}, "version": {"N": "2"}})
        yield client


def update(table: str, key: str, condition: str, version: str) -> dict[str, object]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"id": {"S": key}},
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":next": {"N": version}, ":read": {"N": "2"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def test_the_check_is_installed() -> None:
    assert DynamoDBBackend.transact_write_items is _conditions_first


def test_a_failed_condition_cancels_the_whole_transaction_and_writes_nothing(dynamodb: Any) -> None:
    items = [
        update("left", "l", "attribute_not_exists(id)", "1"),
        update("right", "r", "version = :read AND attribute_not_exists(id)", "3"),
    ]
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=items)

    reasons = cancelled.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["version"] == {"N": "2"}
    assert "Item" not in dynamodb.get_item(TableName="left", Key={"id": {"S": "l"}})
    assert dynamodb.get_item(TableName="right", Key={"id": {"S": "r"}})["Item"]["version"] == {"N": "2"}


def test_a_transaction_whose_conditions_hold_writes_every_item(dynamodb: Any) -> None:
    items = [
        update("left", "l", "attribute_not_exists(id)", "1"),
        update("right", "r", "version = :read", "3"),
    ]

    dynamodb.transact_write_items(TransactItems=items)

    assert dynamodb.get_item(TableName="left", Key={"id": {"S": "l"}})["Item"]["version"] == {"N": "1"}
    assert dynamodb.get_item(TableName="right", Key={"id": {"S": "r"}})["Item"]["version"] == {"N": "3"}
