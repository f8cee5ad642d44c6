"""`headsup simulate`: the whole stack on moto for a seeded busy day, summarised per kind."""

import pytest
from headsup.notices import NoticeKind

from infra.cli import main, run_simulation


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_simulate_reports_every_kind_and_the_same_seed_gives_the_same_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = run_simulation(days=1, customers=12, seed=5)
    again = run_simulation(days=1, customers=12, seed=5)

    assert first == again
    assert set(first) == {kind.value for kind in NoticeKind}
    for row in first.values():
        settled = (
            row["email"]
            + row["sms"]
            + row["team"]
            + sum(row["skipped"].values())
            + sum(row["other"].values())
        )
        assert settled == row["detected"]  # every notice is in exactly one column
    assert main(["simulate", "--customers", "3", "--seed", "5"]) == 0
    assert "simulate: 3 customers, 1 day(s), seed 5" in capsys.readouterr().out
