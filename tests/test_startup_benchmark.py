"""`benchmarks/startup.py` on the shipped models, one run per row (the report's structure, not speed)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.startup import main


def test_startup_report_times_each_command_and_names_its_imports(tmp_path: Path, capsys) -> None:
    out = tmp_path / "startup.json"
    main(["--repeats", "1", "--json", str(out)])
    report = json.loads(out.read_text())
    rows = {row["label"]: row for row in report["rows"]}
    assert list(rows) == ["motionlcm --help", "motionlcm generate --no-video (ONNX Runtime)",
                          "motionlcm generate --no-video (PyTorch backends)"]  # fmt: skip
    default, on_torch = (
        rows["motionlcm generate --no-video (ONNX Runtime)"],
        rows["motionlcm generate --no-video (PyTorch backends)"],
    )
    assert not default["imports_torch"] and not default["imports_diffusers"] and on_torch["imports_torch"]
    assert 0 < default["model_load_s_median"] < default["wall_s_median"]
    assert report["targets"]["generate_no_video_s"]["target"] == "<= 2"
    assert "| motionlcm --help |" in capsys.readouterr().out
