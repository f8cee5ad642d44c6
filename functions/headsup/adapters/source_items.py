"""Reading one item of the business's CallbacksTable or TicketsTable by its key."""

from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_deserializer = TypeDeserializer()


class DynamoSourceItems:
    def __init__(self, table_name: str, key_name: str, client: "DynamoDBClient | None" = None) -> None:
        self._table = table_name
        self._key = key_name
        self._client = client or boto3.client("dynamodb")

    def get(self, item_id: str) -> dict[str, Any] | None:
        # Consistent: the index may lag the table by a stream hop, the item itself must not.
        response = self._client.get_item(
            TableName=self._table, Key={self._key: {"S": item_id}}, ConsistentRead=True
        )
        raw = response.get("Item")
        return None if raw is None else {k: _deserializer.deserialize(v) for k, v in raw.items()}
