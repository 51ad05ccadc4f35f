"""Videos: MuJoCo offscreen rendering of the robot beside the human, and the matplotlib fallback."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from retargeting.errors import RenderError
from retargeting.pipeline import retarget
from retargeting.render import render_video
from retargeting.robot_model import load_robot

CLIP = Path(__file__).parent / "fixtures" / "joints" / "dataset-2_wave-left-hand_normal_024.npy"


@pytest.fixture(scope="module")
def short_result():
    robot = load_robot("g1")
    return robot, retarget(np.load(CLIP)[:4], 20.0, robot, rate=50.0)


def _frames(path: Path) -> list[np.ndarray]:
    with imageio.get_reader(path) as reader:
        return [np.asarray(frame) for frame in reader.iter_data()]


def test_mujoco_mp4_shows_robot_and_human(short_result, tmp_path):
    robot, result = short_result
    path = render_video(
        robot,
        result.trajectory,
        result.targets.human_joints,
        20.0,
        tmp_path / "robot.mp4",
        size=(160, 128),
        backend="mujoco",
    )
    frames = _frames(path)
    assert len(frames) == 4 and frames[0].shape == (128, 160, 3)
    image = frames[0].astype(float)
    assert image.std() > 10.0  # not a blank frame
    orange = (image[..., 0] > image[..., 2] + 60) & (image[..., 0] > 120)
    assert orange.sum() > 20  # the human skeleton is drawn in orange


def test_matplotlib_gif_fallback(short_result, tmp_path):
    robot, result = short_result
    path = render_video(
        robot,
        result.trajectory,
        result.targets.human_joints,
        20.0,
        tmp_path / "robot.gif",
        size=(160, 120),
        backend="matplotlib",
    )
    frames = _frames(path)
    assert len(frames) == 4 and frames[0].shape[:2] == (120, 160)


def test_bad_suffix_and_backend(short_result, tmp_path):
    robot, result = short_result
    with pytest.raises(RenderError, match="video must end with"):
        render_video(robot, result.trajectory, result.targets.human_joints, 20.0, tmp_path / "robot.avi")
    with pytest.raises(RenderError, match="unknown render backend"):
        render_video(robot, result.trajectory, result.targets.human_joints, 20.0, tmp_path / "a.mp4", backend="vtk")
