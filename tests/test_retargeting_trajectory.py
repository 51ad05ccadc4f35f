"""Output trajectory: resampling, limits by construction at the output rate, derivatives, npz files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from retargeting.errors import RetargetingError
from retargeting.robot_model import RobotModel
from retargeting.trajectory import RobotTrajectory, limit_base_motion, limit_joint_steps, resample_configurations


def _wild_configurations(robot: RobotModel, frames: int, seed: int = 0) -> np.ndarray:
    """Configurations that jump across the whole joint range every frame (worst case for limits)."""
    rng = np.random.default_rng(seed)
    q = np.tile(robot.reference_q, (frames, 1))
    q[:, 7:] = rng.uniform(robot.lower, robot.upper, (frames, robot.nq - 7))
    q[:, :3] += np.cumsum(rng.normal(0.0, 0.5, (frames, 3)), axis=0)
    q[:, 3:7] = Rotation.random(frames, random_state=seed).as_quat()
    return q


def test_limit_joint_steps_bounds_steps_and_positions():
    rng = np.random.default_rng(1)
    lower, upper, max_step = np.array([-1.0, 0.0]), np.array([1.0, 3.0]), np.array([0.01, 0.2])
    limited = limit_joint_steps(rng.normal(0.0, 5.0, (300, 2)), max_step, lower, upper)
    assert np.all(np.abs(np.diff(limited, axis=0)) <= max_step)
    assert np.all((limited >= lower) & (limited <= upper))


def test_limit_joint_steps_keeps_admissible_motion_unchanged():
    positions = np.linspace(0.0, 0.5, 50)[:, None]
    assert np.array_equal(limit_joint_steps(positions, np.array([0.1]), np.array([-1.0]), np.array([1.0])), positions)


def test_limit_base_motion_bounds_speed_and_turn_rate():
    rng = np.random.default_rng(2)
    positions = np.cumsum(rng.normal(0.0, 1.0, (100, 3)), axis=0)
    quaternions = Rotation.random(100, random_state=3).as_quat()
    limited, turned = limit_base_motion(positions, quaternions, 0.05, 0.1)
    assert np.all(np.linalg.norm(np.diff(limited, axis=0), axis=-1) <= 0.05)
    rotations = Rotation.from_quat(turned)
    assert np.all((rotations[1:] * rotations[:-1].inv()).magnitude() <= 0.1 + 1e-9)


@pytest.mark.parametrize("rate", [50.0, 100.0, 200.0, 7.0])
def test_resampled_wild_motion_respects_every_limit(g1, rate):
    trajectory = resample_configurations(_wild_configurations(g1, 30), 20.0, rate, g1)
    order = g1.urdf_order
    lower, upper, speed = g1.lower[order], g1.upper[order], g1.velocity_limits[order]
    assert trajectory.sample_count == int(np.floor(29 / 20.0 * rate + 1e-9)) + 1
    assert trajectory.times == pytest.approx(np.arange(trajectory.sample_count) / rate)
    positions = trajectory.joint_positions
    assert np.all((positions >= lower) & (positions <= upper))
    assert np.all(np.abs(np.diff(positions, axis=0)) * rate <= speed)
    assert np.all(np.abs(trajectory.joint_velocities) <= speed)
    limits = g1.config.limits
    assert np.all(np.linalg.norm(trajectory.base_linear_velocities, axis=-1) <= limits.base_linear_speed)
    assert np.all(np.linalg.norm(trajectory.base_angular_velocities, axis=-1) <= limits.base_angular_speed + 1e-9)
    for array in (positions, trajectory.joint_velocities, trajectory.joint_accelerations, trajectory.base_positions):
        assert np.all(np.isfinite(array))


def test_derivatives_of_a_smooth_motion(g1):
    frames = np.arange(41) / 20.0
    q = np.tile(g1.reference_q, (len(frames), 1))
    knee = 7 + g1.joint_names.index("left_knee_joint")
    q[:, knee] = 1.0 + 0.5 * np.sin(2.0 * frames)
    trajectory = resample_configurations(q, 20.0, 100.0, g1)
    column = g1.urdf_joint_names.index("left_knee_joint")
    inner = slice(5, -5)
    t = trajectory.times[inner]
    assert trajectory.joint_velocities[inner, column] == pytest.approx(np.cos(2.0 * t), abs=0.01)
    assert trajectory.joint_accelerations[inner, column] == pytest.approx(-2.0 * np.sin(2.0 * t), abs=0.1)


def test_npz_round_trip_and_configurations(g1, tmp_path):
    source = _wild_configurations(g1, 10)
    trajectory = resample_configurations(source, 20.0, 50.0, g1)
    loaded = RobotTrajectory.load_npz(trajectory.save_npz(tmp_path / "out" / "traj.npz"))
    assert loaded.joint_names == trajectory.joint_names == g1.urdf_joint_names
    assert loaded.robot == "g1" and loaded.rate == 50.0
    assert np.array_equal(loaded.joint_positions, trajectory.joint_positions)
    assert np.array_equal(loaded.base_orientations, trajectory.base_orientations)
    q = loaded.configurations(g1)
    assert q.shape == (trajectory.sample_count, g1.nq)
    assert q[:, 7:][:, g1.urdf_order] == pytest.approx(trajectory.joint_positions)


def test_bad_rate_and_bad_file(g1, tmp_path):
    with pytest.raises(RetargetingError, match="output rate"):
        resample_configurations(np.tile(g1.reference_q, (3, 1)), 20.0, 0.0, g1)
    with pytest.raises(RetargetingError, match="cannot read trajectory"):
        RobotTrajectory.load_npz(tmp_path / "missing.npz")
