"""`make bench`: every benchmark in turn, each printing its own tables, then one summary table.

Each benchmark runs in its own interpreter (`python -m bench.<name>`), so none inherits another's
imports, mocks or memory, and writes its figures under its own key in build/bench/results.json
(started afresh here). The summary lists every headline figure with its goal and whether it is met.
Goals are reported, not enforced: the exit status is non-zero only when a benchmark failed to run.
Usage: python -m bench.run [name ...] (default: all).
"""

import subprocess
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.results import RESULTS, load
from emulator.template import REPO_ROOT

# (module, arguments): sizes chosen to keep the whole run within about ten minutes on two cores.
BENCHMARKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("notice_cost", ("100",)),  # 100 customers per channel
    ("sweep_reads", ("3000", "1")),  # 3,000 callbacks, 1 % due at the sweep
    ("cold_start", ("7",)),  # 7 fresh interpreters per handler
    ("busy_day", ("300",)),  # 300 customers, a whole simulated day
    ("throughput", ()),  # 1,000 notices; 1,000-record batches
    ("sweep_release", ("800",)),  # 800 held notices released by one sweep, one worker and one per shard
    ("scale_sim", ()),  # the 1 M / 10 M customer model against the issue-18 figures
)


def _value(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def run(chosen: set[str], console: Console) -> tuple[dict[str, float], list[str]]:
    """Each chosen benchmark (all if none is) in its own interpreter: wall seconds by name, and
    those that did not run to the end."""
    timings: dict[str, float] = {}
    failed: list[str] = []
    for name, arguments in BENCHMARKS:
        if chosen and name not in chosen:
            continue
        console.rule(f"[bold]bench.{name}[/bold] {' '.join(arguments)}")
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *arguments], cwd=REPO_ROOT, check=False
        )
        timings[name] = time.perf_counter() - started
        if name not in load() or completed.returncode not in (0, 1):
            failed.append(name)
    return timings, failed


def _goal(figure: dict[str, Any]) -> str:
    if figure["goal"] is None:
        return ""
    return f"{'≤' if figure['lower_is_better'] else '≥'} {figure['goal']:g}"


def _verdict(figure: dict[str, Any]) -> str:
    if figure["passed"] is None:
        return ""
    return "[green]pass[/green]" if figure["passed"] else "[red]FAIL[/red]"


def summary_table(timings: dict[str, float], failed: list[str]) -> Table:
    results = load()
    table = Table(title="make bench: summary (figures from build/bench/results.json)", show_lines=False)
    for column in ("benchmark", "figure", "value", "unit", "goal", "result"):
        table.add_column(column, justify="right" if column == "value" else "left", overflow="fold")
    for name, _ in BENCHMARKS:
        if name not in timings:
            continue
        if name in failed:
            table.add_row(
                name, "did not run to the end (see its output above)", "", "", "", "[red]ERROR[/red]"
            )
            continue
        for figure in results[name]["summary"]:
            table.add_row(
                name, figure["name"], _value(figure["value"]), figure["unit"], _goal(figure), _verdict(figure)
            )
        table.add_row(name, "wall time of the benchmark", _value(timings[name]), "s", "", "", style="dim")
    return table


def main() -> int:
    chosen = set(sys.argv[1:])
    unknown = chosen - {name for name, _ in BENCHMARKS}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if not chosen:
        RESULTS.unlink(missing_ok=True)
    console = Console(width=150)
    timings, failed = run(chosen, console)
    console.rule("[bold]summary[/bold]")
    console.print(summary_table(timings, failed))
    console.print(f"Total {sum(timings.values()):.0f} s. Figures: {RESULTS.relative_to(REPO_ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
