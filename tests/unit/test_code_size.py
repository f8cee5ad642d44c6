"""Size gates the linters do not have: no module outside tests/ over 600 lines, and no function in
the Lambda code (functions/) over 60 lines. A reader should be able to hold either in their head."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("functions", "emulator", "sim", "cli", "bench")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def modules(*roots: str) -> list[Path]:
    return sorted(path for root in roots for path in (REPO / root).rglob("*.py"))


def long_functions(path: Path, limit: int) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
    return [
        f"{name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


def test_the_gates_see_the_code() -> None:
    # A wrong root would make both gates pass vacuously.
    assert len(modules("functions")) > 40
    assert all((REPO / root).is_dir() for root in PACKAGES)


@pytest.mark.parametrize("root", PACKAGES)
def test_no_module_is_over_600_lines(root: str) -> None:
    too_long = {
        str(path.relative_to(REPO)): lines
        for path in modules(root)
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_lambda_function_is_over_60_lines() -> None:
    assert [line for path in modules("functions") for line in long_functions(path, MAX_FUNCTION_LINES)] == []


def test_the_function_gate_catches_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(f"def long():\n{body}\n\n\ndef short():\n    return 1\n")
    assert [line.split(" ")[1] for line in long_functions(sample, MAX_FUNCTION_LINES)] == ["long"]
