"""End to end on real clips, and the limits under adversarial input (NaN, teleports, unreachable)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from retargeting import pipeline as retarget_module
from retargeting.errors import MotionInputError, RobotConfigError
from retargeting.metrics import evaluate
from retargeting.pipeline import retarget, retarget_motion, solve_in_chunks
from retargeting.robot_model import RobotModel
from retargeting.synthetic import standing_motion, walking_motion

JOINTS = Path(__file__).parent / "fixtures" / "joints"
CLIPS = sorted(JOINTS.glob("*.npy"))


def _assert_within_limits(robot: RobotModel, result) -> None:
    metrics = evaluate(robot, result)
    assert metrics.non_finite_values == 0
    assert metrics.joint_limit_violations == 0
    assert metrics.velocity_limit_violations == 0
    assert metrics.foot_penetration_max_m == 0.0
    # Base speed limit: exact horizontally; vertically the floor lift has priority (it only moves z).
    trajectory = result.trajectory
    horizontal = np.linalg.norm(np.diff(trajectory.base_positions[:, :2], axis=0), axis=-1) * trajectory.rate
    assert np.all(horizontal <= robot.config.limits.base_linear_speed)


def test_fixture_clips_exist():
    assert len(CLIPS) >= 4


@pytest.mark.parametrize("clip", CLIPS, ids=[clip.stem for clip in CLIPS])
def test_real_clips_on_g1(g1, clip):
    result = retarget(np.load(clip), 20.0, g1, rate=50.0)
    metrics = evaluate(g1, result)
    assert metrics.keypoint_error_mean_m < 0.03
    assert metrics.foot_sliding_m_s < 0.15
    _assert_within_limits(g1, result)
    trajectory = result.trajectory
    assert trajectory.joint_names == g1.urdf_joint_names
    assert trajectory.times[-1] == pytest.approx((len(result.configurations) - 1) / 20.0, abs=1 / 50.0)


def test_real_clip_on_talos(talos):
    result = retarget(np.load(JOINTS / "dataset-1_walk_normal_002.npy"), 20.0, talos, rate=100.0)
    assert evaluate(talos, result).keypoint_error_mean_m < 0.04
    _assert_within_limits(talos, result)


def test_retarget_motion_by_name_returns_a_trajectory():
    trajectory = retarget_motion(standing_motion(10), 20.0, "g1", rate=200.0)
    assert trajectory.rate == 200.0 and trajectory.sample_count == 91
    assert trajectory.base_positions[0, 2] == pytest.approx(0.79, abs=0.05)


def test_nan_frames_are_repaired(g1):
    motion = np.load(JOINTS / "dataset-2_wave-left-hand_normal_024.npy").copy()
    motion[10:14] = np.nan
    motion[30, 5] = np.inf
    result = retarget(motion, 20.0, g1)
    assert (~result.valid_frames).sum() == 5
    _assert_within_limits(g1, result)


def test_all_nan_motion_is_an_input_error(g1):
    with pytest.raises(MotionInputError):
        retarget(np.full((10, 22, 3), np.nan), 20.0, g1)


def test_teleporting_root_keeps_all_limits(g1):
    motion = walking_motion(60).copy()
    motion[30:, :, 2] += 8.0  # the whole body jumps 8 m forward
    motion[45:, :, 0] -= 3.0  # and 3 m sideways
    result = retarget(motion, 20.0, g1, rate=100.0)
    _assert_within_limits(g1, result)


def test_unreachable_and_noisy_targets_keep_all_limits(g1):
    rng = np.random.default_rng(4)
    motion = standing_motion(40).copy()
    motion[:, 20] += np.array([3.0, 2.0, 0.0])  # left wrist 3.6 m away from the body
    motion[20:] += rng.normal(0.0, 0.3, motion[20:].shape)  # then violent 30 cm joint noise
    result = retarget(motion, 20.0, g1, rate=50.0)
    _assert_within_limits(g1, result)


def test_smoothness_regularisation_reduces_jitter(g1):
    rng = np.random.default_rng(8)
    motion = np.load(JOINTS / "dataset-1_bow_masculinity_001.npy")
    noisy = motion + rng.normal(0.0, 0.01, motion.shape)
    smooth = retarget(noisy, 20.0, g1).trajectory
    solver = dataclasses.replace(g1.config.solver, velocity_weight=0.0, acceleration_weight=0.0)
    rough = retarget(noisy, 20.0, RobotModel(dataclasses.replace(g1.config, solver=solver))).trajectory
    rms = [np.sqrt(np.mean(t.joint_accelerations**2)) for t in (smooth, rough)]
    assert rms[0] < 0.8 * rms[1]


def test_chunked_solve_matches_sequential(g1, monkeypatch):
    monkeypatch.setattr(retarget_module, "MIN_CHUNK_FRAMES", 40)
    result = retarget(np.load(JOINTS / "dataset-1_walk_normal_002.npy"), 20.0, g1)
    chunked = solve_in_chunks(g1, result.targets, workers=2)
    assert chunked.shape == result.configurations.shape
    gap = np.linalg.norm(g1.keypoint_positions(chunked) - g1.keypoint_positions(result.configurations), axis=-1)
    assert gap.mean() < 0.01


def test_unknown_robot_is_a_config_error():
    with pytest.raises(RobotConfigError):
        retarget_motion(standing_motion(4), 20.0, "no_such_robot")
