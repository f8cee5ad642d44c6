"""What the stack tests share: two sample customers, a bill builder, and the business-hours clock."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ANA = {
    "customer_id": "cust-ana",
    "first_name": "Ana",
    "last_name": "Souza",
    "email": "ana.souza@example.com",
    "locale": "en-US",
    "timezone": "America/Los_Angeles",
}
JONAS = {
    "customer_id": "cust-jonas",
    "first_name": "Jonas",
    "last_name": "Weber",
    "phone": "+4915112345678",
    "locale": "de-DE",
    "timezone": "Europe/Berlin",
    "channels": ["sms", "email"],
}


def bill(customer_id: str, period: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "period": period, "amount": Decimal(amount), **extra}


# Inside every sample customer's sending window (08:00 Los Angeles, 11:00 New York, 17:00 Berlin):
# delivery reads the clock for quiet hours and the frequency cap, so tests fix it.
BUSINESS_HOURS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def ledger_claim(params: dict[str, Any], operation: str) -> dict[str, Any] | None:
    """The ledger claim an AWS call makes, if it makes one (the update whose values name an
    `:intent`): alone (a team notice, or a test ledger without sent logs), or in a transaction
    with the customer's sent log (a customer notice)."""
    writes = [params] if operation == "UpdateItem" else []
    if operation == "TransactWriteItems":
        writes = [entry["Update"] for entry in params["TransactItems"] if "Update" in entry]
    claims = [write for write in writes if ":intent" in write.get("ExpressionAttributeValues", {})]
    return claims[0] if claims else None
