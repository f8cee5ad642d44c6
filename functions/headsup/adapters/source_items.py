"""Reading one item of the business's CallbacksTable or TicketsTable by its key."""

from typing import TYPE_CHECKING, Any

from headsup.adapters.dynamodb import DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSourceItems(DynamoTable):
    def __init__(self, table_name: str, key_name: str, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table_name, client)
        self._key = key_name

    def get(self, item_id: str) -> dict[str, Any] | None:
        # Consistent: the index may lag the table by a stream hop, the item itself must not.
        return self._get({self._key: item_id})
