"""Human input: world-frame conversion, sanitising, body orientations derived from positions."""

from __future__ import annotations

import numpy as np
import pytest

from retargeting.errors import MotionInputError
from retargeting.human import (
    HUMAN_TO_ROBOT_WORLD,
    SMPL_INDEX,
    body_orientations,
    foot_pitch,
    frames_from_y_and_z,
    human_to_robot_world,
    sanitize_motion,
)
from retargeting.synthetic import standing_motion, walking_motion


def test_world_transform_maps_forward_left_up():
    forward, left, up = np.eye(3)[2], np.eye(3)[0], np.eye(3)[1]  # human: +Z forward, +X left, +Y up
    assert human_to_robot_world(forward) == pytest.approx([1.0, 0.0, 0.0])
    assert human_to_robot_world(left) == pytest.approx([0.0, 1.0, 0.0])
    assert human_to_robot_world(up) == pytest.approx([0.0, 0.0, 1.0])
    assert np.linalg.det(HUMAN_TO_ROBOT_WORLD) == pytest.approx(1.0)


def test_sanitize_interpolates_invalid_frames():
    motion = walking_motion(20).astype(np.float32)
    corrupted = motion.copy()
    corrupted[5, 3, 1] = np.nan
    corrupted[6] = np.inf
    corrupted[0, 0, 0] = 1e9
    clean, valid = sanitize_motion(corrupted, 20.0)
    assert valid.tolist() == [False] + [True] * 4 + [False, False] + [True] * 13
    assert np.all(np.isfinite(clean))
    assert clean[5] == pytest.approx(motion[4] + (motion[7] - motion[4]) / 3, abs=1e-5)
    assert clean[0] == pytest.approx(motion[1], abs=1e-6)  # held before the first valid frame


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((10, 24, 3)), "shape"),
        (np.zeros((10, 22)), "shape"),
        (np.zeros((1, 22, 3)), "at least 2 frames"),
        (np.full((4, 22, 3), np.nan), "no frame with finite"),
        (np.array([[["a"] * 3] * 22] * 3), "numeric"),
    ],
)
def test_sanitize_rejects_unusable_motion(array, message):
    with pytest.raises(MotionInputError, match=message):
        sanitize_motion(array, 20.0)


@pytest.mark.parametrize("fps", [0.0, -20.0, float("nan")])
def test_sanitize_rejects_bad_frame_rate(fps):
    with pytest.raises(MotionInputError, match="frame rate"):
        sanitize_motion(standing_motion(4), fps)


def test_standing_person_has_upright_frames_facing_forward():
    joints = human_to_robot_world(standing_motion(3))
    flat = (foot_pitch(joints, "l")[0], foot_pitch(joints, "r")[0])
    frames = body_orientations(joints, flat)
    for name in ("pelvis", "left_foot", "right_foot"):
        assert frames[name][0][:, 0] @ [1.0, 0.0, 0.0] > 0.95, name  # X axis forward
        assert frames[name][0][:, 2] @ [0.0, 0.0, 1.0] > 0.95, name  # Z axis up
    assert frames["torso"][0][:, 2] @ [0.0, 0.0, 1.0] > 0.95
    for rotations in frames.values():
        assert np.einsum("tij,tik->tjk", rotations, rotations) == pytest.approx(
            np.broadcast_to(np.eye(3), rotations.shape)
        )
        assert np.linalg.det(rotations) == pytest.approx(1.0)


def test_pelvis_frame_turns_with_the_hips():
    joints = human_to_robot_world(standing_motion(2))
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 degrees left about Z
    frames = body_orientations(joints @ turn.T)
    heading = frames["pelvis"][0][:2, 0]
    assert np.degrees(np.arctan2(heading[1], heading[0])) == pytest.approx(90.0, abs=1.0)


def test_degenerate_axes_give_rotations_not_nan():
    rotations = frames_from_y_and_z(np.zeros((2, 3)), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    assert np.all(np.isfinite(rotations))
    assert np.linalg.det(rotations) == pytest.approx(1.0)


def test_foot_pitch_is_positive_when_toes_are_below_the_ankle():
    joints = human_to_robot_world(standing_motion(1))
    assert joints[0, SMPL_INDEX["l_foot"], 2] < joints[0, SMPL_INDEX["l_ankle"], 2]
    assert foot_pitch(joints, "l")[0] > 0.2
