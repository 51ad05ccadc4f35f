"""HumanML3D foot contacts and the locking of foot targets while in contact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retargeting.contacts import CONTACT_SPEED_M_S, contact_segments, detect_foot_contacts, lock_contacts
from retargeting.human import SMPL_INDEX, human_to_robot_world
from retargeting.synthetic import standing_motion


def test_threshold_matches_humanml3d_at_20_fps():
    assert (CONTACT_SPEED_M_S / 20.0) ** 2 == pytest.approx(0.002)


def test_standing_feet_are_in_contact_and_other_joints_never():
    contacts = detect_foot_contacts(human_to_robot_world(standing_motion(10)), 20.0)
    feet = [SMPL_INDEX[name] for name in ("l_ankle", "l_foot", "r_ankle", "r_foot")]
    assert contacts[:, feet].all()
    assert not np.delete(contacts, feet, axis=1).any()


def test_fast_or_high_feet_are_not_in_contact():
    joints = human_to_robot_world(standing_motion(10))
    moving = joints.copy()
    moving[:, SMPL_INDEX["l_ankle"], 0] += np.arange(10) * 0.05  # 1 m/s at 20 fps: above the threshold
    lifted = joints.copy()
    lifted[:, SMPL_INDEX["r_foot"], 2] += np.where(np.arange(10) >= 5, 0.2, 0.0)
    assert not detect_foot_contacts(moving, 20.0)[:, SMPL_INDEX["l_ankle"]].any()
    assert detect_foot_contacts(lifted, 20.0)[:, SMPL_INDEX["r_foot"]].tolist() == [True] * 4 + [False] * 6


def test_real_walk_alternates_contacts():
    joints = np.load(Path(__file__).parent / "fixtures" / "joints" / "dataset-1_walk_normal_002.npy")
    contacts = detect_foot_contacts(human_to_robot_world(joints), 20.0)
    left, right = contacts[:, SMPL_INDEX["l_ankle"]], contacts[:, SMPL_INDEX["r_ankle"]]
    assert 0.2 < left.mean() < 0.8 and 0.2 < right.mean() < 0.8
    assert (left | right).mean() > 0.8  # walking: at least one heel down most of the time
    assert len(contact_segments(left)) >= 2


def test_contact_segments():
    assert contact_segments(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    assert contact_segments(np.zeros(3, dtype=bool)) == []


def test_lock_freezes_position_on_the_floor_and_blends_back():
    frames = 10
    positions = np.zeros((frames, 2, 3))
    positions[:, 0, 0] = np.arange(frames) * 0.01  # keypoint 0 drifts forward
    positions[:, 0, 2] = 0.02
    positions[:, 1, 2] = -0.5  # keypoint 1 (not on a foot) below the floor stays unclamped
    contacts = np.zeros((frames, 2), dtype=bool)
    contacts[2:5, 0] = True
    ground = np.array([0.035, -np.inf])
    locked = lock_contacts(positions, contacts, ground, release_frames=3)
    assert locked[2:5, 0] == pytest.approx(np.tile([0.02, 0.0, 0.035], (3, 1)))
    assert 0.02 < locked[5, 0, 0] < locked[6, 0, 0] < locked[7, 0, 0] < positions[7, 0, 0]
    assert locked[8:, 0] == pytest.approx(np.column_stack([positions[8:, 0, :2], np.full(2, 0.035)]))
    assert np.all(locked[:, 0, 2] >= 0.035)
    assert locked[:, 1] == pytest.approx(positions[:, 1])
