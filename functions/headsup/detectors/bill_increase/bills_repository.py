"""Reading earlier bills from BillsTable."""

from typing import TYPE_CHECKING, Any, Protocol

import boto3
from boto3.dynamodb.types import TypeDeserializer

from headsup.detectors.bill_increase.models import Bill

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_deserializer = TypeDeserializer()


class BillsRepository(Protocol):
    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None: ...


class DynamoBillsRepository:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
        """The customer's most recent bill for a period before `before_period` (YYYY-MM sorts)."""
        response = self._client.query(
            TableName=self._table_name,
            KeyConditionExpression="customer_id = :customer AND period < :period",
            ExpressionAttributeValues={":customer": {"S": customer_id}, ":period": {"S": before_period}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return None
        item: dict[str, Any] = {key: _deserializer.deserialize(value) for key, value in items[0].items()}
        return Bill.from_item(item)
