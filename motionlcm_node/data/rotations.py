"""Small vectorised rotation helpers for the HumanML3D representation (numpy, scalar-last quaternions).

Angles are radians. A yaw is a rotation about +Y; ``rotate_about_y(v, a)`` maps +Z towards +X for
positive ``a`` (right-handed, Y up).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def rotate_about_y(vectors: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate vectors about +Y.

    Args:
        vectors: [..., 3] vectors.
        angles: yaw angles in radians, broadcastable to ``vectors.shape[:-1]``.

    Returns:
        [..., 3] rotated vectors: x' = x cos a + z sin a, z' = -x sin a + z cos a.
    """
    cos, sin = np.cos(angles), np.sin(angles)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.stack([x * cos + z * sin, y, -x * sin + z * cos], axis=-1)


def heading_angle(forward: np.ndarray) -> np.ndarray:
    """Yaw of horizontal direction vectors, measured from +Z towards +X, in radians ([..., 3] -> [...])."""
    return np.arctan2(forward[..., 0], forward[..., 2])


def wrap_angle(angles: np.ndarray) -> np.ndarray:
    """Wrap angles to [-pi, pi)."""
    return (angles + np.pi) % (2.0 * np.pi) - np.pi


def quaternion_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shortest-arc rotations taking directions ``u`` onto ``v``.

    Args:
        u: [..., 3] source directions (any non-zero length).
        v: [..., 3] target directions.

    Returns:
        [..., 4] unit quaternions (x, y, z, w). For opposite directions a half turn about an axis
        perpendicular to ``u`` is returned.
    """
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    axis = np.cross(u, v)
    w = 1.0 + np.sum(u * v, axis=-1, keepdims=True)
    opposite = w[..., 0] < 1e-8
    if np.any(opposite):
        helper = np.where(np.abs(u[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        perpendicular = np.cross(u, helper)
        axis = np.where(opposite[..., None], perpendicular, axis)
        w = np.where(opposite[..., None], 0.0, w)
    quaternion = np.concatenate([axis, w], axis=-1)
    return quaternion / np.linalg.norm(quaternion, axis=-1, keepdims=True)


def yaw_quaternion(angles: np.ndarray) -> np.ndarray:
    """Quaternions (x, y, z, w) of rotations about +Y by ``angles`` radians ([...] -> [..., 4])."""
    half = 0.5 * np.asarray(angles)
    zeros = np.zeros_like(half)
    return np.stack([zeros, np.sin(half), zeros, np.cos(half)], axis=-1)


def quaternion_to_6d(q: np.ndarray) -> np.ndarray:
    """Continuous 6D rotation representation: the first two columns of the rotation matrix.

    Args:
        q: [..., 4] unit quaternions (x, y, z, w).

    Returns:
        [..., 6] ``(R[:, 0], R[:, 1])`` concatenated, as in HumanML3D.
    """
    matrices = Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(*q.shape[:-1], 3, 3)
    return np.concatenate([matrices[..., 0], matrices[..., 1]], axis=-1)
