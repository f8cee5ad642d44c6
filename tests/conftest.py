"""Shared test set-up. No test talks to real AWS: credentials are fake and sockets are disabled
(pytest-socket allows 127.0.0.1 only, see pyproject addopts); moto is used in-process."""

import os
from collections.abc import Iterator

import pytest

# Set before any boto3 client exists, so nothing can pick up a developer's real credentials.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "headsup",
        "POWERTOOLS_METRICS_NAMESPACE": "Headsup",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)


@pytest.fixture(autouse=True)
def fresh_cold_start() -> Iterator[None]:
    """Each test starts like a new Lambda execution environment."""
    from headsup.platform import cold_start

    cold_start.reset()
    yield
    cold_start.reset()
