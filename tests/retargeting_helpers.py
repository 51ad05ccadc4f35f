"""Helpers shared by the retargeting tests."""

from __future__ import annotations

import numpy as np
import pinocchio as pin

from retargeting.robot_model import RobotModel


def random_configuration(robot: RobotModel, rng: np.random.Generator, spread: float) -> np.ndarray:
    """A reachable configuration: base moved and turned, joints spread around the reference within limits."""
    q = robot.reference_q.copy()
    q[:3] += rng.uniform(-0.5, 0.5, 3)
    q[3:7] = pin.Quaternion(pin.rpy.rpyToMatrix(*rng.uniform(-0.3, 0.3, 2), rng.uniform(-np.pi, np.pi))).coeffs()
    q[7:] = np.clip(q[7:] + rng.uniform(-spread, spread, robot.nq - 7), robot.lower, robot.upper)
    return q
