"""Shared test set-up. No test talks to real AWS: credentials are fake and sockets are disabled
(pytest-socket allows 127.0.0.1 only, see pyproject addopts); moto is used in-process."""

import io
import os
from collections.abc import Iterator

import pytest
import time_machine
from moto import mock_aws

from emulator import Deployment, provision
from sim.pipeline import LocalPipeline, lambda_output_to
from tests.stack import ANA, BUSINESS_HOURS, JONAS

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


# The whole stack on moto, for the integration and system tiers (the unit tier never asks for it).
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


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    """template.yaml provisioned into a fresh moto account."""
    saved = dict(os.environ)  # invoke() leaves the function's environment set, as a warm Lambda would
    with mock_aws():
        yield provision()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def logs(deployment: Deployment) -> Iterator[io.StringIO]:
    """Everything the functions log (JSON lines) and print (EMF metrics) during the test."""
    with lambda_output_to(io.StringIO(), deployment) as buffer:
        yield buffer  # type: ignore[misc]
