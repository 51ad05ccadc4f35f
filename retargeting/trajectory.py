"""Robot trajectory output: resampling to a controller rate, limit enforcement, derivatives, npz files.

The IK runs at the human frame rate; :func:`resample_configurations` turns its configurations into a
:class:`RobotTrajectory` at the controller rate (50, 100, 200 Hz...):

1. joints and base position are interpolated with Catmull-Rom cubic splines (C1, through the samples),
   the base orientation with spherical linear interpolation (:mod:`retargeting.interpolation`);
2. the joints pass through a velocity-limited integrator at the output rate: each joint moves at most
   ``v_max / rate`` per sample and stays inside its position limits (this also removes any spline
   overshoot past a limit);
3. the base is limited to ``base_linear_speed / rate`` metres and ``base_angular_speed / rate`` radians
   per sample, then lifted where a sole point would be below the floor
   (:func:`retargeting.floor.floor_lift`; the floor has priority over the base speed limit, which is
   not a URDF limit, so a lift can add up to its own smooth vertical speed to the base);
4. velocities are central differences (the mean of two admissible steps, hence admissible) and
   accelerations the central differences of the velocities.

Joint limits and velocity limits therefore hold by construction at the output rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from retargeting.errors import RetargetingError
from retargeting.floor import floor_lift, lowest_sole_heights
from retargeting.interpolation import (
    catmull_rom,
    conjugate,
    from_rotation_vectors,
    multiply,
    relative_rotation_vectors,
    slerp,
    to_rotation_vectors,
)
from retargeting.robot_model import BASE_Q, RobotModel

LIMIT_MARGIN = 1.0 - 1.0e-9
"""Steps are limited to this fraction of the velocity limit, so rounding never produces a violation."""


@dataclass(frozen=True)
class RobotTrajectory:
    """Joint and floating-base trajectory of a robot at a fixed controller rate.

    Attributes:
        robot: Robot name.
        joint_names: Actuated joint names in URDF file order (the column order of the joint arrays).
        rate: Sample rate, Hz.
        times: ``[N]`` timestamps from 0, seconds.
        joint_positions: ``[N, n]`` joint positions, rad (m for prismatic joints).
        joint_velocities: ``[N, n]`` joint velocities, rad/s.
        joint_accelerations: ``[N, n]`` joint accelerations, rad/s^2.
        base_positions: ``[N, 3]`` floating-base (root link) position in the robot world frame, m.
        base_orientations: ``[N, 4]`` base orientation quaternions ``(x, y, z, w)``, world from base.
        base_linear_velocities: ``[N, 3]`` base linear velocity in the world frame, m/s.
        base_angular_velocities: ``[N, 3]`` base angular velocity in the world frame, rad/s.
    """

    robot: str
    joint_names: tuple[str, ...]
    rate: float
    times: np.ndarray
    joint_positions: np.ndarray
    joint_velocities: np.ndarray
    joint_accelerations: np.ndarray
    base_positions: np.ndarray
    base_orientations: np.ndarray
    base_linear_velocities: np.ndarray
    base_angular_velocities: np.ndarray

    @property
    def sample_count(self) -> int:
        """Number of samples ``N``."""
        return int(self.times.shape[0])

    def save_npz(self, path: str | Path) -> Path:
        """Write the trajectory to an ``.npz`` file (one array per attribute; names as unicode arrays).

        Raises:
            RetargetingError: The file cannot be written.
        """
        path = Path(path)
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        arrays["robot"] = np.array(self.robot)
        arrays["joint_names"] = np.array(self.joint_names)
        arrays["rate"] = np.array(self.rate)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as stream:
                np.savez(stream, **arrays)
        except OSError as error:
            raise RetargetingError(f"cannot write trajectory {path}: {error}") from error
        return path

    @classmethod
    def load_npz(cls, path: str | Path) -> RobotTrajectory:
        """Read a trajectory written by :meth:`save_npz`.

        Raises:
            RetargetingError: The file is missing, unreadable or lacks an array.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                values = {f.name: data[f.name] for f in fields(cls)}
        except (OSError, KeyError, ValueError) as error:
            raise RetargetingError(f"cannot read trajectory {path}: {error}") from error
        values["robot"] = str(values["robot"])
        values["joint_names"] = tuple(str(name) for name in values["joint_names"])
        values["rate"] = float(values["rate"])
        return cls(**values)

    def configurations(self, robot: RobotModel) -> np.ndarray:
        """``[N, nq]`` Pinocchio configurations of ``robot`` (base pose, then joints in Pinocchio order)."""
        if self.joint_names != robot.urdf_joint_names:
            raise RetargetingError(f"trajectory joints do not match robot '{robot.name}'")
        q = np.empty((self.sample_count, robot.nq))
        q[:, :3] = self.base_positions
        q[:, 3:BASE_Q] = self.base_orientations
        q[:, BASE_Q + robot.urdf_order] = self.joint_positions
        return q


def limit_joint_steps(positions: np.ndarray, max_step: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Velocity-limited tracking of a joint trajectory inside position limits.

    ``out[0] = clip(positions[0])`` and ``out[k] = clip(out[k-1] + clip(positions[k] - out[k-1], -m, m))``
    with ``m = max_step``: every step is at most ``m`` and every sample inside ``[lower, upper]``.

    Args:
        positions: ``[N, n]`` desired joint positions.
        max_step: ``[n]`` largest allowed change per sample (velocity limit / rate).
        lower: ``[n]`` lower position limits.
        upper: ``[n]`` upper position limits.

    Returns:
        ``[N, n]`` limited positions (a new array; finite wherever the input is).
    """
    step_limit = max_step * LIMIT_MARGIN
    out = np.clip(positions, lower, upper)
    if out.shape[0] < 2 or np.all(np.abs(np.diff(out, axis=0)) <= step_limit):
        return out
    for k in range(1, out.shape[0]):
        step = np.clip(out[k] - out[k - 1], -step_limit, step_limit)
        out[k] = np.clip(out[k - 1] + step, lower, upper)
    return out


def limit_base_motion(
    positions: np.ndarray, quaternions: np.ndarray, max_distance: float, max_angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Limit the base to ``max_distance`` metres and ``max_angle`` radians of motion per sample.

    Args:
        positions: ``[N, 3]`` base positions, m.
        quaternions: ``[N, 4]`` base orientations ``(x, y, z, w)``.
        max_distance: Largest translation per sample, m.
        max_angle: Largest rotation per sample, rad.

    Returns:
        Limited positions and quaternions (the inputs themselves when no step exceeds a limit).
    """
    distance_limit, angle_limit = max_distance * LIMIT_MARGIN, max_angle * LIMIT_MARGIN
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=-1)
    turns = np.linalg.norm(relative_rotation_vectors(quaternions), axis=-1)
    if np.all(steps <= distance_limit) and np.all(turns <= angle_limit):
        return positions, quaternions
    out_positions, out_quaternions = positions.copy(), quaternions.copy()
    for k in range(1, positions.shape[0]):
        step = positions[k] - out_positions[k - 1]
        length = float(np.linalg.norm(step))
        out_positions[k] = out_positions[k - 1] + (
            step * (distance_limit / length) if length > distance_limit else step
        )
        turn = to_rotation_vectors(multiply(quaternions[k], conjugate(out_quaternions[k - 1])))
        angle = float(np.linalg.norm(turn))
        if angle > angle_limit:
            turn *= angle_limit / angle
        out_quaternions[k] = multiply(from_rotation_vectors(turn), out_quaternions[k - 1])
    return out_positions, out_quaternions


def _central_differences(forward: np.ndarray, count: int) -> np.ndarray:
    """``[count, D]`` central differences from the ``[count - 1, D]`` forward differences (one-sided ends)."""
    if count < 2:
        return np.zeros((count, forward.shape[-1]))
    out = np.empty((count, forward.shape[-1]))
    out[0], out[-1] = forward[0], forward[-1]
    out[1:-1] = 0.5 * (forward[1:] + forward[:-1])
    return out


def resample_configurations(configurations: np.ndarray, fps: float, rate: float, robot: RobotModel) -> RobotTrajectory:
    """Resample IK configurations to a controller rate and enforce every limit (see module docstring).

    Args:
        configurations: ``[T, nq]`` Pinocchio configurations at ``fps`` (joints within their limits).
        fps: Rate of ``configurations``, Hz.
        rate: Output rate, Hz (positive).
        robot: The robot (limits, joint order).

    Returns:
        The trajectory at ``rate``, covering the same duration ``(T - 1) / fps``.
    """
    if not (np.isfinite(rate) and rate > 0):
        raise RetargetingError(f"output rate must be a positive number of Hz, got {rate}")
    frame_count = configurations.shape[0]
    duration = (frame_count - 1) / fps
    times = np.arange(int(np.floor(duration * rate + 1e-9)) + 1) / rate
    positions = catmull_rom(np.delete(configurations, np.s_[3:BASE_Q], axis=1), fps, times)
    base, joints = positions[:, :3], positions[:, 3:]
    quaternions = slerp(configurations[:, 3:BASE_Q], fps, times)
    dt = 1.0 / rate
    joints = limit_joint_steps(joints, robot.velocity_limits * dt, robot.lower, robot.upper)
    limits = robot.config.limits
    base, quaternions = limit_base_motion(
        base, quaternions, limits.base_linear_speed * dt, limits.base_angular_speed * dt
    )
    base = base.copy()
    base[:, 2] += floor_lift(lowest_sole_heights(robot, np.concatenate([base, quaternions, joints], axis=1)), rate)
    count = len(times)
    velocities = _central_differences(np.diff(joints, axis=0) / dt, count)
    accelerations = _central_differences(np.diff(velocities, axis=0) / dt, count)
    order = robot.urdf_order
    return RobotTrajectory(
        robot=robot.name,
        joint_names=robot.urdf_joint_names,
        rate=float(rate),
        times=times,
        joint_positions=joints[:, order],
        joint_velocities=velocities[:, order],
        joint_accelerations=accelerations[:, order],
        base_positions=base,
        base_orientations=quaternions,
        base_linear_velocities=_central_differences(np.diff(base, axis=0) / dt, count),
        base_angular_velocities=_central_differences(relative_rotation_vectors(quaternions) / dt, count),
    )
