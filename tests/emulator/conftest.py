"""Fixtures shared by the harness tests: template.yaml provisioned, and the environment put back."""

import os
from collections.abc import Iterator

import pytest
from moto import mock_aws

from emulator import Deployment, provision


@pytest.fixture(autouse=True)
def restore_environ() -> Iterator[None]:
    """invoke() leaves the function's environment set (as a warm Lambda would); undo it between tests."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()
