"""``motionlcm retarget`` and the helpers other commands use to add robot outputs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from motionlcm_node.cli import retarget_command
from motionlcm_node.cli.retarget_command import RetargetCommandError, add_robot_arguments, write_robot_outputs
from motionlcm_node.errors import MotionLCMError
from retargeting import RobotTrajectory
from retargeting.config import BUILTIN_ROBOTS_DIR

CLIP = Path(__file__).parent / "fixtures" / "joints" / "dataset-2_wave-left-hand_normal_024.npy"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="motionlcm")
    retarget_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["retarget", *argv])


def _short_clip(tmp_path: Path, frames: int = 6) -> Path:
    path = tmp_path / "motion.npy"
    np.save(path, np.load(CLIP)[:frames])
    return path


def test_retarget_writes_trajectory_and_video(tmp_path, capsys):
    out, video = tmp_path / "traj.npz", tmp_path / "robot.gif"
    args = _parse(
        [
            str(_short_clip(tmp_path)),
            "--robot",
            "g1",
            "--rate",
            "100",
            "--out",
            str(out),
            "--render",
            str(video),
            "--render-size",
            "96x64",
        ]
    )
    assert args.handler(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["robot"] == "g1" and summary["input_frames"] == 6 and summary["rate_hz"] == 100.0
    assert summary["joint_limit_violations"] == summary["velocity_limit_violations"] == 0
    trajectory = RobotTrajectory.load_npz(out)
    assert trajectory.rate == 100.0 and trajectory.sample_count == 26 and len(trajectory.joint_names) == 29
    assert video.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--robot", "atlas"], "unknown robot 'atlas'"),
        (["--out", "traj.csv"], "--out must be an .npz"),
        (["--render", "robot.avi"], "--render must be an .mp4 or .gif"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, argv, message):
    args = _parse([str(_short_clip(tmp_path)), *argv])
    with pytest.raises(RetargetCommandError, match=message) as caught:
        args.handler(args)
    assert isinstance(caught.value, MotionLCMError)


def test_bad_motion_files(tmp_path):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((5, 24, 3)))
    for path, message in ((tmp_path / "missing.npy", "cannot read motion"), (wrong, r"expected a \[T, 22, 3\]")):
        args = _parse([str(path), "--out", str(tmp_path / "t.npz")])
        with pytest.raises(RetargetCommandError, match=message):
            args.handler(args)


def test_bad_robot_yaml_is_reported(tmp_path):
    document = yaml.safe_load((BUILTIN_ROBOTS_DIR / "g1.yaml").read_text())
    document["keypoints"][3]["frame"] = "left_knee_lnk"
    robot = tmp_path / "robot.yaml"
    robot.write_text(yaml.safe_dump(document))
    args = _parse([str(_short_clip(tmp_path)), "--robot", str(robot), "--out", str(tmp_path / "t.npz")])
    with pytest.raises(RetargetCommandError, match="unknown frame 'left_knee_lnk'"):
        args.handler(args)


@pytest.mark.parametrize("argv", [["--rate", "0"], ["--rate", "fast"], ["--ik-workers", "0"], ["--render-size", "big"]])
def test_invalid_option_values_are_rejected_by_argparse(tmp_path, argv):
    with pytest.raises(SystemExit):
        _parse([str(_short_clip(tmp_path)), *argv])


def test_write_robot_outputs_for_other_commands(tmp_path):
    parser = argparse.ArgumentParser()
    add_robot_arguments(parser)
    assert write_robot_outputs(np.load(CLIP)[:5], 20.0, parser.parse_args([]), tmp_path) is None
    args = parser.parse_args(["--robot", "talos", "--robot-rate", "50", "--robot-video-size", "64x48"])
    outputs = write_robot_outputs(np.load(CLIP)[:5], 20.0, args, tmp_path / "job", render=False)
    assert outputs is not None and outputs.video is None
    assert outputs.trajectory == tmp_path / "job" / "robot_trajectory.npz"
    assert RobotTrajectory.load_npz(outputs.trajectory).robot == "talos"
    assert outputs.summary["velocity_limit_violations"] == 0


def test_main_entry_point_reports_errors_without_traceback(tmp_path, capsys):
    from motionlcm_node.cli.main import main

    assert main(["retarget", str(tmp_path / "missing.npy")]) == 2
    assert "motionlcm: error: cannot read motion" in capsys.readouterr().err
