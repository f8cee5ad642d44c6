"""Fixtures shared by the harness tests: template.yaml provisioned into a fresh moto account."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from emulator import Deployment, provision


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()
