import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from moto import mock_aws

from sim.pipeline import LocalPipeline, lambda_output_to

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


@pytest.fixture
def pipeline() -> Iterator[LocalPipeline]:
    """template.yaml provisioned into a fresh moto account, with two customers."""
    with time_machine.travel(BUSINESS_HOURS, tick=True), mock_aws():
        local = LocalPipeline.provision()
        local.put_customers([ANA, JONAS])
        yield local


@pytest.fixture
def lambda_logs(pipeline: LocalPipeline) -> Iterator[io.StringIO]:
    """Everything the functions log (JSON lines) and print (EMF metrics) during the test."""
    with lambda_output_to(io.StringIO(), pipeline.deployment) as buffer:
        yield buffer  # type: ignore[misc]
