"""The system tier: whole busy days, replays and accounting, `headsup simulate`, the outbox page in a
browser. Every test here is marked `slow` (`make check` leaves them out; `make test` runs them)."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "system":
            item.add_marker(pytest.mark.slow)
        if item.path.name == "test_outbox_page.py":
            item.add_marker(pytest.mark.browser)
