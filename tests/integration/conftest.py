import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from moto import mock_aws

from infra.pipeline import LocalPipeline, lambda_output_to

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


@pytest.fixture
def pipeline() -> Iterator[LocalPipeline]:
    """template.yaml provisioned into a fresh moto account, with two customers."""
    with mock_aws():
        local = LocalPipeline.provision()
        local.put_customers([ANA, JONAS])
        yield local


@pytest.fixture
def lambda_logs(pipeline: LocalPipeline) -> Iterator[io.StringIO]:
    """Everything the functions log (JSON lines) and print (EMF metrics) during the test."""
    with lambda_output_to(io.StringIO(), pipeline.deployment) as buffer:
        yield buffer  # type: ignore[misc]
