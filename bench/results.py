"""One JSON file for every benchmark's figures: build/bench/results.json.

Each benchmark writes its own key (`record`), merged into what the other benchmarks wrote, with
its detailed figures and a `summary`: the headline figures with their goals, which `bench.run`
prints as one table.
"""

import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.template import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "build" / "bench"
RESULTS = RESULTS_DIR / "results.json"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    goal: float | None = None  # None: reported, no goal
    lower_is_better: bool = True
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        return self.value <= self.goal if self.lower_is_better else self.value >= self.goal

    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        return f"{'≤' if self.lower_is_better else '≥'} {self.goal:g} {self.unit}".strip()

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def load(path: Path = RESULTS) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def record(benchmark: str, summary: list[Figure], figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Write one benchmark's results under its own key, keeping the other benchmarks' keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = load(path)
    data[benchmark] = {
        "command": "python -m " + " ".join([f"bench.{benchmark}", *sys.argv[1:]]),
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": [figure.as_json() for figure in summary],
        "figures": figures,
    }
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    temporary.replace(path)
