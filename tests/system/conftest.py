"""The system tier: whole busy days, replays and accounting, `headsup simulate`, the outbox page in a
browser. Every test here is marked `slow` (`make check` leaves them out; `make test` runs them)."""

import pytest


# Modules whose tests share a module-scoped whole-stack run: their tests stay on one xdist worker
# (`--dist loadgroup`), so the run is built once.
_SHARED_RUN = {"test_accounting.py", "test_outbox_page.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "system":
            item.add_marker(pytest.mark.slow)
            if item.path.name in _SHARED_RUN:
                item.add_marker(pytest.mark.xdist_group(item.path.stem))
        if item.path.name == "test_outbox_page.py":
            item.add_marker(pytest.mark.browser)
