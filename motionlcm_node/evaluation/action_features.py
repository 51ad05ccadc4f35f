"""Per-frame features of a motion for the action classifier, from joint positions alone (numpy).

Input: SMPL-22 joints [T, 22, 3], metres, Y up, 20 fps, in any world placement. Everything is made
invariant to where the motion starts and which way it faces, but keeps left and right, forward and
backward, and turning direction:

* the pelvis path from frame 0 in frame 0's heading frame (lateral x, forward z), m;
* the pelvis velocity in each frame's heading frame, m/s, and the pelvis height, m;
* the heading change since frame 0 (sin, cos) and the turning rate, rad/s;
* the other 21 joints relative to the pelvis in each frame's heading frame, m, and their velocities, m/s.

The heading is the horizontal direction perpendicular to the hips' and shoulders' left-right axis
(the body faces +Z with its left at +X in the SMPL convention).
"""

from __future__ import annotations

import numpy as np

from motionlcm_node.data.smpl import JOINT_NAMES

FEATURES_PER_FRAME = 2 + 2 + 1 + 3 + 21 * 3 * 2
_LEFT = [JOINT_NAMES.index(name) for name in ("l_hip", "l_shoulder")]
_RIGHT = [JOINT_NAMES.index(name) for name in ("r_hip", "r_shoulder")]


def headings(joints: np.ndarray) -> np.ndarray:
    """Facing angle of every frame about +Y, rad (0: facing +Z; positive: turned toward +X)."""
    across = (joints[:, _LEFT] - joints[:, _RIGHT]).sum(axis=1)  # body left, [T, 3]
    forward_x, forward_z = -across[:, 2], across[:, 0]  # across x up: left (+X) -> forward (+Z)
    return np.unwrap(np.arctan2(forward_x, forward_z))


def _to_heading_frame(vectors: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Horizontal components of ``vectors`` [..., 3] seen from a body facing ``angle``: (lateral, up, forward)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    forward = sin[..., 0] * x + cos[..., 0] * z
    lateral = cos[..., 0] * x - sin[..., 0] * z
    return np.stack([lateral, y, forward], axis=-1)


def action_features(joints: np.ndarray, fps: float = 20.0) -> np.ndarray:
    """[T, FEATURES_PER_FRAME] float32 features of joints [T, 22, 3] (T >= 2)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or len(joints) < 2:
        raise ValueError(f"joints must be [T >= 2, 22, 3], got {joints.shape}")
    angle = headings(joints)
    pelvis = joints[:, 0]
    path = _to_heading_frame(pelvis - pelvis[0], np.full(len(joints), angle[0]))[:, [0, 2]]
    velocity = np.gradient(pelvis, axis=0) * fps
    local_velocity = _to_heading_frame(velocity, angle)[:, [0, 2]]
    turn = angle - angle[0]
    turning = np.stack([np.sin(turn), np.cos(turn), np.gradient(angle) * fps], axis=1)
    relative = _to_heading_frame(joints[:, 1:] - pelvis[:, None], angle[:, None])
    relative_velocity = np.gradient(relative, axis=0) * fps
    parts = [path, local_velocity, pelvis[:, 1:2], turning, relative.reshape(len(joints), -1),
             relative_velocity.reshape(len(joints), -1)]  # fmt: skip
    return np.concatenate(parts, axis=1).astype(np.float32)
