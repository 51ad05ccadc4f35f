"""Vectorised resampling of uniformly sampled signals: Catmull-Rom splines and quaternion slerp.

Quaternions are ``(x, y, z, w)`` (Pinocchio's and scipy's order). These numpy versions avoid the
per-call overhead of ``scipy.interpolate`` and ``scipy.spatial.transform`` on short clips.
"""

from __future__ import annotations

import numpy as np


def _segments(count: int, rate_in: float, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the input interval holding each output time, and the fraction (0..1) inside it."""
    position = np.clip(times * rate_in, 0.0, count - 1)
    index = np.minimum(np.floor(position).astype(int), count - 2)
    return index, (position - index)[:, None]


def catmull_rom(values: np.ndarray, rate_in: float, times: np.ndarray) -> np.ndarray:
    """Cubic Hermite interpolation with Catmull-Rom tangents (C1, exact on the samples).

    Args:
        values: ``[T, D]`` samples at ``rate_in`` Hz (``T >= 2``), starting at time 0.
        rate_in: Sample rate of ``values``, Hz.
        times: ``[N]`` query times, seconds (clamped to the sampled span).

    Returns:
        ``[N, D]`` interpolated values.
    """
    count = values.shape[0]
    tangents = np.empty_like(values)
    tangents[1:-1] = 0.5 * (values[2:] - values[:-2])
    if count >= 3:  # second-order one-sided differences at the ends
        tangents[0] = 0.5 * (-3.0 * values[0] + 4.0 * values[1] - values[2])
        tangents[-1] = 0.5 * (3.0 * values[-1] - 4.0 * values[-2] + values[-3])
    else:
        tangents[0] = tangents[-1] = values[1] - values[0]
    index, s = _segments(count, rate_in, times)
    s2, s3 = s * s, s * s * s
    start, end = values[index], values[index + 1]
    return (
        (2 * s3 - 3 * s2 + 1) * start
        + (s3 - 2 * s2 + s) * tangents[index]
        + (-2 * s3 + 3 * s2) * end
        + (s3 - s2) * tangents[index + 1]
    )


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products ``a * b`` of ``[..., 4]`` quaternions."""
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def conjugate(quaternions: np.ndarray) -> np.ndarray:
    """Inverse rotations of unit ``[..., 4]`` quaternions."""
    return quaternions * np.array([-1.0, -1.0, -1.0, 1.0])


def to_rotation_vectors(quaternions: np.ndarray) -> np.ndarray:
    """Axis-angle vectors ``[..., 3]`` (rad, angle in [0, pi]) of unit quaternions."""
    shortest = np.where(quaternions[..., 3:] < 0.0, -quaternions, quaternions)
    sine = np.linalg.norm(shortest[..., :3], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sine, shortest[..., 3:])
    factor = np.where(sine > 1e-12, angle / np.maximum(sine, 1e-12), 2.0)
    return factor * shortest[..., :3]


def from_rotation_vectors(vectors: np.ndarray) -> np.ndarray:
    """Unit quaternions ``[..., 4]`` of axis-angle vectors ``[..., 3]`` (rad)."""
    angle = np.linalg.norm(vectors, axis=-1, keepdims=True)
    half = 0.5 * angle
    factor = np.where(angle > 1e-12, np.sin(half) / np.maximum(angle, 1e-12), 0.5)
    return np.concatenate([factor * vectors, np.cos(half)], axis=-1)


def relative_rotation_vectors(quaternions: np.ndarray) -> np.ndarray:
    """``[T - 1, 3]`` rotation vectors (world frame) taking each orientation to the next."""
    return to_rotation_vectors(multiply(quaternions[1:], conjugate(quaternions[:-1])))


def slerp(quaternions: np.ndarray, rate_in: float, times: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation of ``[T, 4]`` unit quaternions sampled at ``rate_in`` Hz.

    Returns:
        ``[N, 4]`` unit quaternions at ``times`` (seconds, clamped to the sampled span).
    """
    unit = quaternions / np.linalg.norm(quaternions, axis=-1, keepdims=True)
    index, s = _segments(unit.shape[0], rate_in, times)
    start = unit[index]
    step = to_rotation_vectors(multiply(unit[index + 1], conjugate(start)))
    return multiply(from_rotation_vectors(s * step), start)
