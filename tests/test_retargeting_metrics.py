"""Metrics must detect what they measure: limit violations, NaN, sliding, penetration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from retargeting.metrics import evaluate, keypoint_errors
from retargeting.pipeline import retarget

CLIP = Path(__file__).parent / "fixtures" / "joints" / "dataset-1_walk_normal_002.npy"


@pytest.fixture(scope="module")
def walk(g1):
    return retarget(np.load(CLIP), 20.0, g1, rate=50.0)


def _with_trajectory(result, **changes):
    return dataclasses.replace(result, trajectory=dataclasses.replace(result.trajectory, **changes))


def test_clean_result_has_no_violations(g1, walk):
    metrics = evaluate(g1, walk)
    assert metrics.input_frames == len(walk.configurations)
    assert metrics.output_samples == walk.trajectory.sample_count
    assert metrics.joint_limit_violations == metrics.velocity_limit_violations == metrics.non_finite_values == 0
    assert 0.0 < metrics.keypoint_error_mean_m <= metrics.keypoint_error_p95_m
    assert metrics.as_dict()["foot_penetration_max_m"] == metrics.foot_penetration_max_m


def test_position_and_velocity_violations_are_counted(g1, walk):
    positions = walk.trajectory.joint_positions.copy()
    column = g1.urdf_joint_names.index("left_knee_joint")
    positions[40, column] = g1.upper[g1.joint_names.index("left_knee_joint")] + 0.1
    metrics = evaluate(g1, _with_trajectory(walk, joint_positions=positions))
    assert metrics.joint_limit_violations == 1
    assert metrics.velocity_limit_violations >= 1  # jumping there from a walking knee angle in 20 ms: > 20 rad/s


def test_velocity_violation_from_reported_velocities(g1, walk):
    velocities = walk.trajectory.joint_velocities.copy()
    velocities[10, 0] = 1.0e3
    assert evaluate(g1, _with_trajectory(walk, joint_velocities=velocities)).velocity_limit_violations == 1


def test_nan_is_counted(g1, walk):
    accelerations = walk.trajectory.joint_accelerations.copy()
    accelerations[3, 2] = np.nan
    assert evaluate(g1, _with_trajectory(walk, joint_accelerations=accelerations)).non_finite_values == 1


def test_penetration_and_sliding_are_measured(g1, walk):
    sunk = walk.trajectory.base_positions.copy()
    sunk[20:30, 2] -= 0.05
    slid = walk.trajectory.base_positions.copy()
    slid[:, 0] += np.arange(len(slid)) * 0.02  # base glides forward at 1 m/s
    assert evaluate(g1, _with_trajectory(walk, base_positions=sunk)).foot_penetration_max_m == pytest.approx(
        0.05, abs=0.01
    )
    baseline = evaluate(g1, walk).foot_sliding_m_s
    assert evaluate(g1, _with_trajectory(walk, base_positions=slid)).foot_sliding_m_s > baseline + 0.8


def test_keypoint_errors_shape(g1, walk):
    errors = keypoint_errors(g1, walk)
    assert errors.shape == (len(walk.configurations), int((walk.targets.position_weights > 0).sum()))
