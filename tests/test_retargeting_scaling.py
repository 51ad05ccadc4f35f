"""Human-to-robot scaling: robot bone lengths, rigid attachments, root scale, floor calibration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from retargeting.robot_model import RobotModel
from retargeting.scaling import build_targets, scaling_reference
from retargeting.synthetic import standing_motion

FIXTURE = Path(__file__).parent / "fixtures" / "joints" / "dataset-1_walk_normal_002.npy"


@pytest.fixture(scope="module")
def walk_targets(g1):
    return build_targets(np.load(FIXTURE).astype(np.float64), 20.0, g1)


def test_limb_targets_have_robot_bone_lengths(g1, walk_targets):
    reference = scaling_reference(g1)
    tasks = g1.config.keypoints
    # Contact locking (and the 3 release frames after it) and the floor clamp may move foot targets.
    locked = walk_targets.contacts.copy()
    for shift in (1, 2, 3):
        locked[shift:] |= walk_targets.contacts[:-shift]
    free = ~locked & (walk_targets.positions[:, :, 2] > walk_targets.ground_heights + 1e-9)
    for k, task in enumerate(tasks):
        parent = reference.parents[k]
        if parent < 0 or task.attach != "limb":
            continue
        lengths = np.linalg.norm(walk_targets.positions[:, k] - walk_targets.positions[:, parent], axis=-1)
        usable = free[:, k] & free[:, parent]
        assert lengths[usable] == pytest.approx(reference.bone_lengths[k], abs=1e-9), task.name


def test_rigid_targets_keep_the_robot_offset(g1, walk_targets):
    reference = scaling_reference(g1)
    names = [task.name for task in g1.config.keypoints]
    hip, pelvis = names.index("left_hip"), names.index("pelvis")
    local = np.einsum(
        "tji,tj->ti",
        walk_targets.rotations[:, pelvis],
        walk_targets.positions[:, hip] - walk_targets.positions[:, pelvis],
    )
    assert local == pytest.approx(np.tile(reference.positions[hip] - reference.positions[pelvis], (len(local), 1)))


def test_root_scale_is_the_leg_length_ratio(g1):
    motion = standing_motion(10)
    small = build_targets(motion, 20.0, g1)
    large = build_targets(motion * 2.0, 20.0, g1)
    assert 0.6 < small.root_scale < 0.9  # G1 legs are about 0.76 times an adult's
    assert large.root_scale == pytest.approx(small.root_scale / 2.0, rel=1e-6)


def test_standing_human_gives_targets_near_the_robot_reference_pose(g1):
    targets = build_targets(standing_motion(5), 20.0, g1)
    reference_positions, _ = g1.keypoint_poses(g1.reference_q)
    names = [task.name for task in g1.config.keypoints]
    for k in (names.index(n) for n in ("pelvis", "left_knee", "right_ankle", "left_toe", "chest")):
        assert targets.positions[0, k] == pytest.approx(reference_positions[k], abs=0.06), names[k]
    assert targets.contacts[:, targets.ground_heights > -np.inf].all()


def test_foot_targets_never_go_below_standing_height(walk_targets):
    feet = np.isfinite(walk_targets.ground_heights)
    assert np.all(walk_targets.positions[:, feet, 2] >= walk_targets.ground_heights[feet] - 1e-12)


def test_uniform_scaling_multiplies_positions(g1):
    config = dataclasses.replace(
        g1.config, scaling=dataclasses.replace(g1.config.scaling, method="uniform", root_scale=0.5)
    )
    robot = RobotModel(config)
    targets = build_targets(standing_motion(3), 20.0, robot)
    human = targets.human_joints[:, [0, 4]]  # pelvis, left knee
    names = [task.name for task in config.keypoints]
    scaled = targets.positions[:, [names.index("pelvis"), names.index("left_knee")]]
    assert scaled[..., :2] == pytest.approx(0.5 * human[..., :2])
    offset = scaled[..., 2] - 0.5 * human[..., 2]
    assert offset == pytest.approx(offset[0, 0])  # one vertical floor calibration for all
