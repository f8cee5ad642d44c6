from pathlib import Path

import pytest

from infra import demo


def test_demo_runs_end_to_end_and_writes_a_readable_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "OUT_DIR", tmp_path)

    exit_code = demo.main()

    out = capsys.readouterr().out
    assert exit_code == 0
    assert "0 new send(s)" in out
    assert "Rejected bill record" in out
    assert "cust-1009" in out
    outbox = (tmp_path / "outbox.html").read_text()
    assert "Your November 2026 bill is $22.40 higher" in outbox
    assert "&lt;script&gt;" in outbox
    assert "<script>alert" not in outbox
    assert (tmp_path / "lambda.log").stat().st_size > 0
