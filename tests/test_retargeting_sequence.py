"""Clip-level IK: tracking, cold start, hard velocity limits between frames, NaN and teleporting targets."""

from __future__ import annotations

import numpy as np
import pytest

from retargeting.robot_model import RobotModel, load_robot
from retargeting.scaling import KeypointTargets
from retargeting.sequence import cold_start, initial_configuration, keypoint_depths, solve_sequence
from tests.retargeting_helpers import random_configuration


@pytest.fixture(scope="module", params=["g1", "talos"])
def robot(request) -> RobotModel:
    return load_robot(request.param)


def _targets_from(robot: RobotModel, configurations: np.ndarray, fps: float = 20.0) -> KeypointTargets:
    count = len(robot.config.keypoints)
    rotations = np.array([robot.keypoint_poses(q)[1] for q in configurations])
    return KeypointTargets(
        fps=fps,
        positions=robot.keypoint_positions(configurations),
        rotations=rotations,
        position_weights=np.array([task.position_weight for task in robot.config.keypoints]),
        orientation_weights=np.array([task.orientation_weight for task in robot.config.keypoints]),
        contacts=np.zeros((len(configurations), count), dtype=bool),
        ground_heights=np.full(count, -np.inf),
        root_scale=1.0,
        human_joints=np.zeros((len(configurations), 22, 3)),
    )


def test_tracks_a_smooth_reachable_trajectory_with_one_step_per_frame(robot):
    frames = np.arange(120) / 20.0
    rng = np.random.default_rng(3)
    goal = np.tile(robot.reference_q, (len(frames), 1))
    goal[:, 0] = 0.4 * frames
    half_range = 0.25 * (robot.upper - robot.lower)
    wave = np.sin(2 * np.pi * rng.uniform(0.2, 0.5, robot.nq - 7) * frames[:, None] + rng.uniform(0, 6, robot.nq - 7))
    goal[:, 7:] = np.clip(robot.reference_q[7:] + np.minimum(half_range, 0.5) * wave, robot.lower, robot.upper)
    solution = solve_sequence(robot, _targets_from(robot, goal))
    error = np.linalg.norm(robot.keypoint_positions(solution) - robot.keypoint_positions(goal), axis=-1)
    assert error.mean() < 0.01


def test_nan_targets_never_produce_nan(robot):
    goal = np.tile(robot.reference_q, (6, 1))
    targets = _targets_from(robot, goal)
    targets.positions[2:4] = np.nan
    targets.rotations[3] = np.nan
    solution = solve_sequence(robot, targets)
    assert np.all(np.isfinite(solution))
    assert np.all(solution[:, 7:] >= robot.lower) and np.all(solution[:, 7:] <= robot.upper)


def test_teleporting_targets_respect_velocity_limits_between_frames(robot):
    rng = np.random.default_rng(11)
    goal = np.array([random_configuration(robot, rng, spread=1.5) for _ in range(8)])
    goal[4:, :3] += 50.0  # the whole body jumps 50 m
    solution = solve_sequence(robot, _targets_from(robot, goal))
    steps = np.abs(np.diff(solution[:, 7:], axis=0))
    assert np.all(steps <= robot.velocity_limits / 20.0 + 1e-12)
    assert np.all(solution[:, 7:] >= robot.lower) and np.all(solution[:, 7:] <= robot.upper)


def test_cold_start_reaches_a_bent_pose_from_the_reference_posture(robot):
    rng = np.random.default_rng(21)
    goal = np.array([random_configuration(robot, rng, spread=0.8)])
    targets = _targets_from(robot, goal)
    q = cold_start(robot, targets, 0, robot.clamp(initial_configuration(robot, targets)), 120)
    error = np.linalg.norm(robot.keypoint_poses(q)[0] - targets.positions[0], axis=-1)
    assert error.mean() < 0.03
    assert keypoint_depths(robot)[[t.smpl_joint for t in robot.config.keypoints].index("pelvis")] == 0
