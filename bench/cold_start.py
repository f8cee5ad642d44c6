"""Cold start: how long importing each function's handler module takes, against a bare `import boto3`.

For every `AWS::Serverless::Function` in template.yaml, the handler module (its `Handler` minus the
function name) is imported in a fresh interpreter, `python -X importtime -c "import <module>"`,
with the environment Lambda would give it: the template's variables (Globals and the function's,
resolved against a moto deployment), `AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, `LAMBDA_TASK_ROOT`
(so Powertools' Tracer is active, as `Tracing: Active` makes it in Lambda) and
`PYTHONPATH=functions`. A bare `import boto3` is measured the same way in the same run; runs are
interleaved so that a busy machine slows all of them alike. The figure is the median of the runs'
import times (the sum of importtime's cumulative column over the imports the `-c` statement made,
interpreter start-up excluded) and its ratio to boto3's median.

For a handler over the goal, the five slowest imports the headsup code makes of other packages are
listed (importtime's cumulative column; nested imports are inside their importer's figure).

A handler imports its own code (settings, adapters, logic, and with them pydantic, the rules, the
templates) inside its builders, on its first invocation. With `--first-use`, each handler is also
measured importing, after its module, every module its functions import: what its first
invocation adds, so that the figure shows what was deferred as well as what was left out.
Usage: python -m bench.cold_start [runs] [--first-use] (default 7 runs).
"""

import ast
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws
from rich.console import Console
from rich.table import Table

from bench.results import Figure, record
from emulator import provision
from emulator.template import REPO_ROOT

GOAL_RATIO = 1.3
BASELINE = "(baseline)"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S.*)$")
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list["Node"] = field(default_factory=list)


@dataclass
class Measurement:
    total_us: int
    top: list[Node]  # the imports the -c statement made, in order


def parse_importtime(stderr: str) -> list[Node]:
    """importtime's lines as a tree; returns the top-level imports.

    A module's line is printed when its import finishes, after its children's lines, indented one
    level (two spaces) more than its importer.
    """
    pending: dict[int, list[Node]] = {}
    for raw in stderr.splitlines():
        match = _LINE.match(raw)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        depth = (len(indent) - 1) // 2
        node = Node(name.strip(), int(self_us), int(cumulative_us), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])


def _base_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return env


def measure(statement: str, env: dict[str, str], startup: set[str]) -> Measurement:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    top = [node for node in parse_importtime(completed.stderr) if node.name not in startup]
    return Measurement(sum(node.cumulative_us for node in top), top)


def _root(name: str) -> str:
    return name.split(".")[0]


def aws_sdk_inside(node: Node) -> int:
    """µs of boto3/botocore imported inside `node` (the first importer of the SDK pays for it)."""
    if _root(node.name) in ("boto3", "botocore"):
        return node.cumulative_us
    return sum(aws_sdk_inside(child) for child in node.children)


def slowest_imports(top: list[Node], count: int = 5) -> list[tuple[str, str, int, int]]:
    """(module, imported by, cumulative µs, of which boto3/botocore µs) of the slowest imports headsup
    code makes of other packages."""
    found: list[tuple[str, str, int, int]] = []

    def walk(node: Node, importer: str) -> None:
        if _root(node.name) == "headsup":
            for child in node.children:
                walk(child, node.name)
        else:
            found.append((node.name, importer, node.cumulative_us, aws_sdk_inside(node)))

    for node in top:
        walk(node, "(handler module)")
    return sorted(found, key=lambda item: -item[2])[:count]


def self_time_by_package(top: list[Node]) -> dict[str, int]:
    """µs spent in each top-level package's own module code (self times add up to the total)."""
    totals: dict[str, int] = {}

    def walk(node: Node) -> None:
        totals[_root(node.name)] = totals.get(_root(node.name), 0) + node.self_us
        for child in node.children:
            walk(child)

    for node in top:
        walk(node)
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def handler_modules() -> dict[str, tuple[str, dict[str, str], int]]:
    """function logical id -> (handler module, the environment Lambda gives it, MemorySize)."""
    with mock_aws():
        deployment = provision()
        modules = {}
        for function_id in deployment.function_ids():
            properties = deployment.resolve(deployment.function_properties(function_id))
            module = str(properties["Handler"]).rpartition(".")[0]
            env = deployment.function_env(function_id)
            env.pop("POWERTOOLS_TRACE_DISABLED", None)  # a local override: Lambda traces (Tracing: Active)
            env |= {
                "AWS_LAMBDA_FUNCTION_NAME": deployment.function_name(function_id),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
                "LAMBDA_TASK_ROOT": str(REPO_ROOT / "functions"),
            }
            modules[function_id] = (module, env, int(properties.get("MemorySize", 128)))
    return modules


def _targets(base: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """What to import, and with which environment: boto3 alone, then each handler module."""
    targets: dict[str, tuple[str, dict[str, str]]] = {BASELINE: ("boto3", base)}
    for function_id, (module, env, _) in handler_modules().items():
        targets[function_id] = (module, base | env | {"PYTHONPATH": str(REPO_ROOT / "functions")})
    return targets


def first_use_modules(module: str) -> list[str]:
    """The modules a handler module imports inside its functions (its builders, its handler), the
    handler's own first, as its first invocation imports them (the order can matter: Powertools'
    batch utilities load its parser's pydantic models only if pydantic was loaded before them)."""
    tree = ast.parse((REPO_ROOT / "functions" / f"{module.replace('.', '/')}.py").read_text())
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    found: list[str] = []
    for function in sorted(functions, key=lambda function: function.name != "lambda_handler"):
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
            elif isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
    return list(dict.fromkeys(found))


def _with_first_use(
    targets: dict[str, tuple[str, dict[str, str]]],
) -> dict[str, tuple[str, dict[str, str]]]:
    """Each handler's statement extended with its first-use imports; boto3 alone as before."""
    return {
        name: (module if name == BASELINE else "; import ".join([module, *first_use_modules(module)]), env)
        for name, (module, env) in targets.items()
    }


def _sample(
    targets: dict[str, tuple[str, dict[str, str]]], startup: set[str], runs: int
) -> dict[str, list[Measurement]]:
    samples: dict[str, list[Measurement]] = {name: [] for name in targets}
    for _ in range(runs):  # interleaved: a busy moment slows every target alike
        for name, (module, env) in targets.items():
            samples[name].append(measure(f"import {module}", env, startup))
    return samples


def _median(samples: list[Measurement]) -> Measurement:
    return sorted(samples, key=lambda m: m.total_us)[len(samples) // 2]


def _figures(module: str, samples: list[Measurement], baseline_us: float) -> dict[str, Any]:
    """One handler's figures for results.json: its median, its ratio to boto3, and where the time goes."""
    median_us = statistics.median(m.total_us for m in samples)
    ratio = median_us / baseline_us
    median = _median(samples)
    return {
        "module": module,
        "median_ms": median_us / 1000,
        "runs_ms": [m.total_us / 1000 for m in samples],
        "ratio_to_boto3": ratio,
        "passed": ratio <= GOAL_RATIO,
        "slowest_imports": [
            {
                "module": name,
                "imported_by": importer,
                "cumulative_ms": us / 1000,
                "of_which_boto3_ms": sdk / 1000,
            }
            for name, importer, us, sdk in slowest_imports(median.top)
        ],
        "self_ms_by_package": {
            package: us / 1000 for package, us in self_time_by_package(median.top).items()
        },
    }


def _print_slowest(console: Console, function_id: str, measurement: Measurement) -> None:
    slow = Table(title=f"{function_id}: the 5 slowest imports made by headsup code (cumulative)")
    for column in ("module", "imported by", "ms", "of which boto3/botocore ms"):
        slow.add_column(column, justify="left" if column in ("module", "imported by") else "right")
    for name, importer, us, sdk in slowest_imports(measurement.top):
        slow.add_row(name, importer, f"{us / 1000:.1f}", f"{sdk / 1000:.1f}")
    console.print(slow)
    packages = self_time_by_package(measurement.top)
    console.print(
        "  own module time by package: "
        + ", ".join(f"{package} {us / 1000:.0f} ms" for package, us in list(packages.items())[:8])
    )


def _add_first_use(functions: dict[str, dict[str, Any]], first_use: dict[str, list[Measurement]]) -> None:
    """Each handler's import with its first-use imports, and its ratio to boto3 in that sample."""
    baseline_us = statistics.median(m.total_us for m in first_use[BASELINE])
    for function_id, figures in functions.items():
        median_us = statistics.median(m.total_us for m in first_use[function_id])
        figures["with_first_use_imports_ms"] = median_us / 1000
        figures["with_first_use_imports_ratio"] = median_us / baseline_us


def _table(
    functions: dict[str, dict[str, Any]], runs: int, baseline_us: float, *, with_first_use: bool
) -> Table:
    table = Table(title=f"Cold start: handler import time, median of {runs} fresh interpreters")
    columns = ["function", "handler module", "ms", "ratio to boto3", f"goal ≤ {GOAL_RATIO}"]
    columns += ["with first-use imports ms", "ratio"] if with_first_use else []
    for column in columns:
        table.add_column(column, justify="left" if column in ("function", "handler module") else "right")
    blank = ["", ""] if with_first_use else []
    table.add_row(BASELINE, "boto3", f"{baseline_us / 1000:.0f}", "1.00", "", *blank)
    for function_id, figures in functions.items():
        verdict = "pass" if figures["passed"] else "FAIL"
        ms, ratio = figures["median_ms"], figures["ratio_to_boto3"]
        first_use = (
            [f"{figures['with_first_use_imports_ms']:.0f}", f"{figures['with_first_use_imports_ratio']:.2f}"]
            if with_first_use
            else []
        )
        table.add_row(function_id, figures["module"], f"{ms:.0f}", f"{ratio:.2f}", verdict, *first_use)
    return table


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg != "--first-use"]
    runs = int(args[0]) if args else 7
    base = _base_env()
    startup = {node.name for node in parse_importtime(_run_startup(base))}
    targets = _targets(base)
    samples = _sample(targets, startup, runs)
    first_use = _sample(_with_first_use(targets), startup, runs) if "--first-use" in sys.argv else {}
    baseline_us = statistics.median(m.total_us for m in samples[BASELINE])
    console = Console(width=150)
    functions = {
        function_id: _figures(module, samples[function_id], baseline_us)
        for function_id, (module, _) in targets.items()
        if function_id != BASELINE
    }
    if first_use:
        _add_first_use(functions, first_use)
    console.print(_table(functions, runs, baseline_us, with_first_use=bool(first_use)))
    for function_id, figures in functions.items():
        if not figures["passed"]:
            _print_slowest(console, function_id, _median(samples[function_id]))
    summary = [
        Figure(f"cold start {function_id} / import boto3", figures["ratio_to_boto3"], "x", goal=GOAL_RATIO)
        for function_id, figures in functions.items()
    ]
    results = {
        "runs": runs,
        "baseline": {"module": "boto3", "median_ms": baseline_us / 1000},
        "functions": functions,
    }
    record("cold_start", summary, results)
    return 0


def _run_startup(env: dict[str, str]) -> str:
    """importtime of an interpreter that imports nothing: what start-up imports on its own."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    ).stderr


if __name__ == "__main__":
    sys.exit(main())
