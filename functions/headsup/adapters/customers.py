"""CustomersTable: the business's customers, read (in batches) for delivery and the sweep, and a
customer's locale and timezone alone for the preference page."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from headsup.adapters.dynamodb import BatchReads, DynamoTable, PrefetchCache, to_item, to_python
from headsup.domain.customer import Customer, customer_from_item
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CustomerDirectory(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def prefetch(self, customer_ids: Iterable[str]) -> None: ...


class DynamoCustomerDirectory(DynamoTable):
    def __init__(
        self,
        table_name: str,
        *,
        default_locale: str,
        default_timezone: str,
        client: "DynamoDBClient | None" = None,
        reads: BatchReads | None = None,
    ) -> None:
        super().__init__(table_name, client)
        self._reads = reads  # prefetches go with other tables' when given
        self._default_locale = default_locale
        self._default_timezone = default_timezone
        self._prefetched = PrefetchCache("customer_id")

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        """Read the batch's customers in one call; `get` then serves them (this batch only)."""
        self._prefetched.fill(self._client, self._table, ((i,) for i in customer_ids), self._reads)

    def get(self, customer_id: str) -> Customer | None:
        fetched, item = self._prefetched.lookup(customer_id)
        if not fetched:
            item = self._get({"customer_id": customer_id})
        if item is None:
            return None
        return customer_from_item(
            item, default_locale=self._default_locale, default_timezone=self._default_timezone
        )


@dataclass(frozen=True)
class CustomerPlace:
    """Where a customer's words and clock come from, as the business wrote them (unvalidated)."""

    locale: str | None
    timezone: str | None


class CustomerPlaces(Protocol):
    def get(self, customer_id: str) -> CustomerPlace | None: ...


class DynamoCustomerPlaces(DynamoTable):
    """The customer's `locale` and `timezone` only, for the preference page: the projection is what
    UnsubscribeFunction's policy allows (dynamodb:Attributes), so the function that answers a link
    anyone may hold never reads an address, a phone or a name."""

    def get(self, customer_id: str) -> CustomerPlace | None:
        """None when the customer is not there, or cannot be read: the page then goes by the
        browser's language, which is better than no page (the failure is logged)."""
        try:
            # Eventually consistent: a locale changed a second ago may show the old one, at half the cost.
            response = self._client.get_item(
                TableName=self._table,
                Key=to_item({"customer_id": customer_id}),
                ProjectionExpression="#locale, #timezone",
                ExpressionAttributeNames={"#locale": "locale", "#timezone": "timezone"},
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "Customer locale unreadable; page in the browser's language",
                extra={"customer_id": customer_id, "error": describe_error(exc)},
            )
            return None
        raw = response.get("Item")
        if raw is None:
            return None
        item = to_python(raw)
        locale, timezone = item.get("locale"), item.get("timezone")
        return CustomerPlace(
            locale=locale if isinstance(locale, str) else None,
            timezone=timezone if isinstance(timezone, str) else None,
        )
