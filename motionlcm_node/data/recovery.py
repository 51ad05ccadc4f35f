"""HumanML3D features back to joint positions, in numpy (the inference path; torch twin: ``recovery_torch.py``).

Joints are recovered from positions only (the 6D rotations are ignored, as in HumanML3D): integrate
the half-angle yaw velocity, rotate the root velocity back to the world, integrate it, then un-rotate
the root-relative joints. Works on real HumanML3D data and on ours alike. Computations keep the
input's float dtype.
"""

from __future__ import annotations

import numpy as np

from motionlcm_node.data.layout import FEATURE_DIM, LOCAL_POSITIONS, ROOT_HEIGHT, ROOT_LINEAR_VELOCITY


def rotate_xz_about_y(xz: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate [..., 2] (x, z) vectors about +Y by ``angles`` (radians), the features' yaw convention."""
    cos, sin = np.cos(angles), np.sin(angles)
    x, z = xz[..., 0], xz[..., 1]
    return np.stack([x * cos + z * sin, -x * sin + z * cos], axis=-1)


def _rotate_about_y(vectors: np.ndarray, angles: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angles), np.sin(angles)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.stack([x * cos + z * sin, y, -x * sin + z * cos], axis=-1)


def recover_root(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root yaw and position per frame.

    Args:
        features: [..., T, 263] un-normalised features.

    Returns:
        (angles [..., T] in radians, the yaw that faces the body to +Z; root positions [..., T, 3] in
        metres, world frame with the first frame's root at the XZ origin).
    """
    yaw_velocity = features[..., 0]
    angles = np.zeros_like(yaw_velocity)
    angles[..., 1:] = 2.0 * np.cumsum(yaw_velocity[..., :-1], axis=-1)
    step = np.zeros((*features.shape[:-1], 3), dtype=features.dtype)
    step[..., 1:, 0] = features[..., :-1, ROOT_LINEAR_VELOCITY.start]
    step[..., 1:, 2] = features[..., :-1, ROOT_LINEAR_VELOCITY.start + 1]
    position = np.cumsum(_rotate_about_y(step, -angles), axis=-2)
    position[..., 1] = features[..., ROOT_HEIGHT.start]
    return angles, position


def place_joints(features: np.ndarray, angles: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Joint positions from features and their already recovered root (``recover_root``).

    Args:
        features: [..., T, 263] un-normalised features.
        angles: [..., T] root yaw, radians.
        root: [..., T, 3] root positions, metres.

    Returns:
        [..., T, 22, 3] joint positions in metres, Y up.
    """
    local = features[..., LOCAL_POSITIONS].reshape(*features.shape[:-1], 21, 3)
    world = _rotate_about_y(local, -angles[..., None])
    world = world + (root * np.array([1.0, 0.0, 1.0], dtype=root.dtype))[..., None, :]
    return np.concatenate([root[..., None, :], world], axis=-2)


def recover_joints(features: np.ndarray) -> np.ndarray:
    """Joint positions from features.

    Args:
        features: [..., T, 263] un-normalised features.

    Returns:
        [..., T, 22, 3] joint positions in metres, Y up (float64 for integer input, else the input's dtype).

    Raises:
        ValueError: the last axis is not 263 features.
    """
    features = np.asarray(features)
    if not np.issubdtype(features.dtype, np.floating):
        features = features.astype(np.float64)
    if features.shape[-1] != FEATURE_DIM:
        raise ValueError(f"expected {FEATURE_DIM} features per frame, got {features.shape[-1]}")
    return place_joints(features, *recover_root(features))
