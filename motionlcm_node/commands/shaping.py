"""Shaping a retargeted motion into a plan: blending from the current state, placing it, coming to rest.

Pure numpy, used by :class:`motionlcm_node.commands.planner.CommandPlanner`. Frames: world, REP 103
(Z up); joints in URDF order, rad; rates in samples per second.
"""

from __future__ import annotations

import math

import numpy as np

from motionlcm_node.commands.plan import STOP_DECELERATION, STOP_TAIL_MAX_S, STOP_TAIL_MIN_S, StartPose
from motionlcm_node.data.layout import FPS


def blend_into(target: np.ndarray, start: np.ndarray, velocity: np.ndarray, seconds: float, rate: float) -> np.ndarray:
    """``target`` [N, n] with a quintic offset that starts it at ``(start, velocity)`` and fades within ``seconds``.

    The offset ``h(t) = d0 H0(t / T) + e0 T H1(t / T)`` with ``d0 = start - target[0]`` and
    ``e0 = velocity - target'(0)`` uses the quintic Hermite bases ``H0 = 1 - 10 s^3 + 15 s^4 - 6 s^5`` and
    ``H1 = s - 6 s^3 + 8 s^4 - 3 s^5``: value and slope match at ``t = 0``, and value, slope and curvature
    are zero from ``t = T`` on.
    """
    count = len(target)
    if count == 0:
        return target.copy()
    target_velocity = (target[1] - target[0]) * rate if count > 1 else np.zeros_like(start)
    duration = max(float(seconds), 1.0 / rate)
    s = np.clip(np.arange(count) / rate / duration, 0.0, 1.0)[:, None]
    h0 = 1 - 10 * s**3 + 15 * s**4 - 6 * s**5
    h1 = s - 6 * s**3 + 8 * s**4 - 3 * s**5
    return target + (start - target[0]) * h0 + (velocity - target_velocity) * duration * h1


def yaw_of(quaternion: np.ndarray) -> float:
    """Heading about +z of an (x, y, z, w) quaternion, rad."""
    x, y, z, w = quaternion
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def yaw_quaternion(yaw: float) -> np.ndarray:
    """The (x, y, z, w) quaternion of a rotation by ``yaw`` about +z."""
    return np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])


def place_motion(
    trajectory: object, joints: np.ndarray, pose: StartPose, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The retargeted base path and the human skeleton, turned and moved to start at ``pose``'s base.

    Returns:
        Base positions [N, 3] and orientations [N, 4] (world frame) and human joints [N, 22, 3]
        resampled to the trajectory's samples (world frame, metres).
    """
    from retargeting.human import human_to_robot_world
    from retargeting.interpolation import multiply

    base = trajectory.base_positions
    turn = pose.base_yaw - yaw_of(trajectory.base_orientations[0])
    rotation = np.array([[math.cos(turn), -math.sin(turn), 0.0], [math.sin(turn), math.cos(turn), 0.0], [0, 0, 1.0]])
    offset = np.array([pose.base_position[0], pose.base_position[1], 0.0]) - rotation @ np.array([*base[0, :2], 0.0])
    placed = base @ rotation.T + offset
    orientations = multiply(np.repeat(yaw_quaternion(turn)[None], len(base), axis=0), trajectory.base_orientations)
    frames = np.clip(np.arange(len(base)) / rate * FPS, 0, len(joints) - 1)
    low = np.floor(frames).astype(int)
    high = np.minimum(low + 1, len(joints) - 1)
    weight = (frames - low)[:, None, None]
    human = human_to_robot_world((1 - weight) * joints[low] + weight * joints[high])
    return placed, orientations, human @ rotation.T + offset


def come_to_rest(
    positions: np.ndarray,
    base: np.ndarray,
    orientations: np.ndarray,
    human: np.ndarray | None,
    rate: float,
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The arrays extended by a linear velocity ramp from the last velocity to rest, and one repeated sample."""
    velocity = (positions[-1] - positions[-2]) * rate if len(positions) > 1 else np.zeros(positions.shape[1])
    ramp = float(np.clip(np.abs(velocity).max(initial=0.0) / STOP_DECELERATION, STOP_TAIL_MIN_S, STOP_TAIL_MAX_S))
    times = np.arange(1, math.ceil(ramp * rate) + 1) / rate
    times = np.minimum(times, ramp)
    travel = times - times**2 / (2 * ramp)
    tail = np.clip(positions[-1] + travel[:, None] * velocity, lower, upper)
    tail = np.vstack([tail, tail[-1:]])
    extra = len(tail)
    human_out = None if human is None else np.concatenate([human, np.repeat(human[-1:], extra, axis=0)])
    return (
        np.vstack([positions, tail]),
        np.concatenate([base, np.repeat(base[-1:], extra, axis=0)]),
        np.concatenate([orientations, np.repeat(orientations[-1:], extra, axis=0)]),
        human_out,
    )
