"""Synthetic SMPL-22 human motions for tests, examples and benchmarks without a dataset.

A fixed adult skeleton (bone offsets close to the SMPL neutral body, 1.7 m tall, T-pose rest) is posed
by forward kinematics from per-joint rotations. Output follows the input contract of
:func:`retargeting.pipeline.retarget`: ``[T, 22, 3]`` positions in metres, human world frame (Y up,
floor at y = 0, facing +Z, left at +X).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from retargeting.human import SMPL_INDEX, SMPL_PARENTS

REST_OFFSETS = np.array(
    [
        [0.0, 0.95, 0.0],
        [0.07, -0.09, 0.0],
        [-0.07, -0.09, 0.0],
        [0.0, 0.11, -0.02],
        [0.04, -0.38, 0.0],
        [-0.04, -0.38, 0.0],
        [0.0, 0.135, 0.0],
        [-0.01, -0.40, -0.04],
        [0.01, -0.40, -0.04],
        [0.0, 0.055, 0.02],
        [0.03, -0.06, 0.12],
        [-0.03, -0.06, 0.12],
        [0.0, 0.215, -0.03],
        [0.075, 0.12, -0.01],
        [-0.075, 0.12, -0.01],
        [0.0, 0.065, 0.05],
        [0.10, 0.03, -0.01],
        [-0.10, 0.03, -0.01],
        [0.26, 0.0, -0.02],
        [-0.26, 0.0, -0.02],
        [0.25, 0.0, 0.0],
        [-0.25, 0.0, 0.0],
    ]
)
"""Offset of each joint from its parent in the rest T-pose (the root row is the pelvis position), m."""

ARMS_DOWN_DEG = 80.0
"""Shoulder rotation about the forward axis that lowers the T-pose arms along the body, degrees."""


def pose_skeleton(root_positions: np.ndarray, local_rotvecs: np.ndarray) -> np.ndarray:
    """Forward kinematics of the synthetic skeleton.

    Args:
        root_positions: ``[T, 3]`` pelvis positions, human world frame, m.
        local_rotvecs: ``[T, 22, 3]`` joint rotations relative to the parent (axis-angle, rad, in the
            parent's rest axes: X left, Y up, Z forward). Row 0 is the global pelvis rotation.

    Returns:
        ``[T, 22, 3]`` joint positions, human world frame, m.
    """
    frames = root_positions.shape[0]
    global_rotations: list[Rotation] = []
    positions = np.empty((frames, len(SMPL_PARENTS), 3))
    for joint, parent in enumerate(SMPL_PARENTS):
        local = Rotation.from_rotvec(local_rotvecs[:, joint])
        if parent < 0:
            positions[:, joint] = root_positions
            global_rotations.append(local)
        else:
            positions[:, joint] = positions[:, parent] + global_rotations[parent].apply(REST_OFFSETS[joint])
            global_rotations.append(global_rotations[parent] * local)
    return positions


def _arms_down(rotvecs: np.ndarray) -> None:
    """Lower both T-pose arms along the body (in place)."""
    rotvecs[:, SMPL_INDEX["l_shoulder"], 2] += np.deg2rad(-ARMS_DOWN_DEG)
    rotvecs[:, SMPL_INDEX["r_shoulder"], 2] += np.deg2rad(ARMS_DOWN_DEG)


def standing_motion(frames: int = 40) -> np.ndarray:
    """A person standing still with the arms down: ``[frames, 22, 3]``, human world frame, m."""
    rotvecs = np.zeros((frames, len(SMPL_PARENTS), 3))
    _arms_down(rotvecs)
    return pose_skeleton(np.tile(REST_OFFSETS[0], (frames, 1)), rotvecs)


def walking_motion(frames: int = 120, fps: float = 20.0, speed: float = 1.0, step_hz: float = 0.9) -> np.ndarray:
    """A person walking forward (+Z) with swinging legs and arms.

    Args:
        frames: Number of frames.
        fps: Frame rate, frames per second.
        speed: Forward speed of the pelvis, m/s.
        step_hz: Gait cycles per second.

    Returns:
        ``[frames, 22, 3]`` joint positions, human world frame, m.
    """
    time = np.arange(frames) / fps
    phase = 2.0 * np.pi * step_hz * time
    rotvecs = np.zeros((frames, len(SMPL_PARENTS), 3))
    _arms_down(rotvecs)
    swing = 0.45 * np.sin(phase)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        rotvecs[:, SMPL_INDEX[f"{side}_hip"], 0] = -sign * swing
        rotvecs[:, SMPL_INDEX[f"{side}_knee"], 0] = 0.6 * np.clip(np.sin(phase + sign * np.pi / 2), 0.0, None) + 0.05
        rotvecs[:, SMPL_INDEX[f"{side}_ankle"], 0] = -0.2 * np.sin(phase + sign * np.pi / 2)
        rotvecs[:, SMPL_INDEX[f"{side}_elbow"], 1] = sign * (0.4 + 0.2 * np.sin(phase))
    rotvecs[:, SMPL_INDEX["l_shoulder"], 1] = -0.3 * swing
    rotvecs[:, SMPL_INDEX["r_shoulder"], 1] = -0.3 * swing
    root = np.tile(REST_OFFSETS[0], (frames, 1))
    root[:, 1] -= 0.03 + 0.015 * np.cos(2.0 * phase)
    root[:, 2] = speed * time
    return pose_skeleton(root, rotvecs)


def waving_motion(frames: int = 80, fps: float = 20.0, wave_hz: float = 1.5) -> np.ndarray:
    """A person standing and waving the right hand above the shoulder: ``[frames, 22, 3]``, m."""
    time = np.arange(frames) / fps
    rotvecs = np.zeros((frames, len(SMPL_PARENTS), 3))
    _arms_down(rotvecs)
    ramp = np.clip(time / 1.0, 0.0, 1.0)
    right_shoulder = SMPL_INDEX["r_shoulder"]
    rotvecs[:, right_shoulder, 2] = np.deg2rad(ARMS_DOWN_DEG) * (1.0 - ramp) - 0.6 * ramp
    rotvecs[:, SMPL_INDEX["r_elbow"], 2] = -ramp * (1.2 + 0.5 * np.sin(2.0 * np.pi * wave_hz * time))
    rotvecs[:, SMPL_INDEX["spine2"], 2] = 0.05 * ramp
    return pose_skeleton(np.tile(REST_OFFSETS[0], (frames, 1)), rotvecs)
