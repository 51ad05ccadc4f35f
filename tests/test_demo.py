"""The README's main job (`motionlcm demo`) end to end on the committed clips."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from motionlcm_node.cli.main import main
from tests.conftest import BANDAI_FIXTURES


def test_demo_prepares_renders_and_summarises(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--input", str(BANDAI_FIXTURES), "--out", str(out), "--clips", "7", "--robot-video-size", "96x64"]
    assert main(args) == 0
    summary = json.loads((out / "demo.json").read_text())
    assert summary["clips_converted"] == 6
    assert list(summary["clips_skipped"]) == ["dataset-2_wave-left-hand_active_011"]
    assert "wave" in summary["clip"] and "left hand" in summary["caption"]
    frames = imageio.mimread(summary["animation"])
    assert len(frames) > 10
    assert imageio.imread(summary["contact_sheet"]).ndim == 3
    printed = capsys.readouterr().out
    assert summary["caption"] in printed
    assert "dataset-2_wave-left-hand_active_011: clip has 13 frames, at least 16 are needed" in printed
    robot = summary["robot"]
    assert robot["robot"] == "g1" and robot["rate_hz"] == 50.0
    assert robot["joint_limit_violations"] == 0 and robot["velocity_limit_violations"] == 0
    trajectory = np.load(robot["trajectory"])
    assert np.all(np.isfinite(trajectory["joint_positions"])) and trajectory["joint_positions"].shape[1] == 29
    assert Path(robot["video"]).stat().st_size > 0


def test_demo_rejects_missing_input(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--input", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
