"""Floor contact geometry: sole heights over a trajectory and the base lift that removes penetration.

The sole points of :class:`~retargeting.config.FootConfig` are expressed once relative to their parent
joint, so the height of every sole point over ``N`` configurations costs one Pinocchio forward
kinematics call per configuration plus vectorised numpy.
"""

from __future__ import annotations

import numpy as np
import pinocchio as pin
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from retargeting.robot_model import RobotModel

LIFT_SMOOTHING_S = 0.1
"""Half-width (s) of the window used to smooth the base lift while keeping it above the penetration."""


def sole_points_world(robot: RobotModel, configurations: np.ndarray) -> np.ndarray:
    """Positions of every sole point of both feet.

    Args:
        robot: The robot.
        configurations: ``[N, nq]`` Pinocchio configurations.

    Returns:
        ``[N, P, 3]`` sole point positions in the robot world frame, metres.
    """
    model, data = robot.model, robot.data
    frame_ids = [int(i) for ids in robot.sole_frame_ids.values() for i in ids]
    joints = sorted({model.frames[i].parentJoint for i in frame_ids})
    slot = {joint: index for index, joint in enumerate(joints)}
    local = np.array([model.frames[i].placement.translation for i in frame_ids])
    owner = np.array([slot[model.frames[i].parentJoint] for i in frame_ids])
    placements = np.empty((len(configurations), len(joints), 4, 4))
    joint_placements = data.oMi
    for index, q in enumerate(configurations):
        pin.forwardKinematics(model, data, q)
        placements[index] = [joint_placements[joint].homogeneous for joint in joints]
    selected = placements[:, owner]
    rotations, translations = selected[:, :, :3, :3], selected[:, :, :3, 3]
    return np.einsum("npij,pj->npi", rotations, local) + translations


def lowest_sole_heights(robot: RobotModel, configurations: np.ndarray) -> np.ndarray:
    """``[N]`` height (m) of the lowest sole point in each configuration (negative below the floor)."""
    return sole_points_world(robot, configurations)[:, :, 2].min(axis=1)


def floor_lift(lowest: np.ndarray, rate: float) -> np.ndarray:
    """Smooth upward base offsets (m) that keep every sole point at or above the floor.

    The raw lift ``max(0, -lowest)`` is dilated (running maximum) and then averaged over the same
    window, so the result is smooth and never smaller than the raw lift at any sample.

    Args:
        lowest: ``[N]`` lowest sole height per sample, metres.
        rate: Sample rate, Hz.

    Returns:
        ``[N]`` non-negative lifts, metres.
    """
    raw = np.maximum(-lowest, 0.0)
    if not raw.any():
        return raw
    width = 2 * max(1, round(LIFT_SMOOTHING_S * rate)) + 1
    envelope = uniform_filter1d(maximum_filter1d(raw, size=width, mode="nearest"), size=width, mode="nearest")
    return np.maximum(envelope, raw)
