"""Shared test set-up. No test talks to real AWS: credentials are fake and sockets are disabled
(pytest-socket allows 127.0.0.1 only, see pyproject addopts); moto is used in-process."""

import io
import os
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime

import pytest
import time_machine
from moto import mock_aws

from emulator import Deployment, provision
from emulator.snapshot import MotoSnapshot
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-stack tests first: the longest jobs start while the other worker takes the many
    short ones, instead of one of them running alone at the end (stable sort: order kept within)."""
    items.sort(key=lambda item: item.path.parent.name != "system")


@pytest.fixture(autouse=True)
def fresh_cold_start() -> Iterator[None]:
    """Each test starts like a new Lambda execution environment."""
    from headsup.platform import cold_start

    cold_start.reset()
    yield
    cold_start.reset()


class ProvisionedStacks:
    """template.yaml provisioned once per test process (so once per xdist worker) and restored for
    each test from a snapshot of moto's state: the same resources, with no data in them."""

    def __init__(self) -> None:
        self._stacks: dict[datetime | None, tuple[Deployment, MotoSnapshot]] = {}

    def fresh(self, clock: datetime | None = None) -> Deployment:
        """Restore the stack provisioned at `clock` (now, if None) into the active moto mock."""
        if clock not in self._stacks:
            with mock_aws(), time_machine.travel(clock, tick=False) if clock else nullcontext():
                self._stacks[clock] = (provision(), MotoSnapshot())
        deployment, snapshot = self._stacks[clock]
        snapshot.restore()
        return deployment


@pytest.fixture(scope="session")
def stacks() -> ProvisionedStacks:
    return ProvisionedStacks()


# The whole stack on moto, for the integration and system tiers (the unit tier never asks for it).
@pytest.fixture
def pipeline(stacks: ProvisionedStacks) -> Iterator[LocalPipeline]:
    """template.yaml provisioned into a fresh moto account, with two customers."""
    with time_machine.travel(BUSINESS_HOURS, tick=True), mock_aws():
        local = LocalPipeline(stacks.fresh(BUSINESS_HOURS))
        local.put_customers([ANA, JONAS])
        yield local


@pytest.fixture
def lambda_logs(pipeline: LocalPipeline) -> Iterator[io.StringIO]:
    """Everything the functions log (JSON lines) and print (EMF metrics) during the test."""
    with lambda_output_to(io.StringIO(), pipeline.deployment) as buffer:
        yield buffer  # type: ignore[misc]


@pytest.fixture
def deployment(stacks: ProvisionedStacks) -> Iterator[Deployment]:
    """template.yaml provisioned into a fresh moto account."""
    with mock_aws():
        yield stacks.fresh()


@pytest.fixture
def logs(deployment: Deployment) -> Iterator[io.StringIO]:
    """Everything the functions log (JSON lines) and print (EMF metrics) during the test."""
    with lambda_output_to(io.StringIO(), deployment) as buffer:
        yield buffer  # type: ignore[misc]
