"""The system tier: whole busy days, replays and accounting, `headsup simulate`, the outbox page and
the customer pages in a browser. Every test here is marked `slow` (`make check` leaves them out;
`make test` runs them)."""

import pytest

BROWSER_TESTS = ("test_outbox_page.py", "test_customer_pages.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "system":
            item.add_marker(pytest.mark.slow)
        if item.path.name in BROWSER_TESTS:
            item.add_marker(pytest.mark.browser)
