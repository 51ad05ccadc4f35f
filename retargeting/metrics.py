"""Quality metrics of a retargeted motion: tracking error, limit violations, foot sliding and penetration.

All quantities are in SI units in the robot world frame (Z up, floor at z = 0). Limit and foot metrics
are measured on the output trajectory at its controller rate; the keypoint error is measured on the IK
configurations at the input rate, against the scaled targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pinocchio as pin

from retargeting.floor import lowest_sole_heights
from retargeting.pipeline import RetargetResult
from retargeting.robot_model import RobotModel

LIMIT_TOLERANCE = 1.0e-9
"""Absolute tolerance (rad, rad/s) below which a limit excess counts as rounding, not a violation."""
PENETRATION_TOLERANCE_M = 1.0e-9
"""Depth (m) below which a sole point under the floor counts as rounding, not penetration."""


@dataclass(frozen=True)
class RetargetMetrics:
    """Metrics of one retargeted clip.

    Attributes:
        input_frames: Number of input frames.
        output_samples: Number of output samples.
        keypoint_error_mean_m: Mean distance between tracked keypoints and their scaled targets, m.
        keypoint_error_p95_m: 95th percentile of that distance, m.
        joint_limit_violations: Output (sample, joint) pairs outside the URDF position limits.
        velocity_limit_violations: Output (sample, joint) pairs whose velocity (reported, or finite
            difference of positions) exceeds the URDF velocity limit.
        non_finite_values: Number of NaN or infinite values in the output arrays.
        foot_sliding_m_s: Mean horizontal speed of foot keypoints while the human foot is in contact, m/s.
        foot_penetration_max_m: Deepest sole point below the floor over the output, m (0 if none).
        foot_penetration_mean_m: Mean over output samples of the deepest sole penetration, m.
        joint_acceleration_rms: Root-mean-square joint acceleration of the output, rad/s^2.
    """

    input_frames: int
    output_samples: int
    keypoint_error_mean_m: float
    keypoint_error_p95_m: float
    joint_limit_violations: int
    velocity_limit_violations: int
    non_finite_values: int
    foot_sliding_m_s: float
    foot_penetration_max_m: float
    foot_penetration_mean_m: float
    joint_acceleration_rms: float

    def as_dict(self) -> dict[str, float | int]:
        """The metrics as a plain dictionary (for JSON)."""
        return asdict(self)


def keypoint_errors(robot: RobotModel, result: RetargetResult) -> np.ndarray:
    """``[T, K']`` distances (m) between the IK keypoints and their targets, for position-tracked keypoints."""
    tracked = result.targets.position_weights > 0
    positions = robot.keypoint_positions(result.configurations)
    return np.linalg.norm(positions[:, tracked] - result.targets.positions[:, tracked], axis=-1)


def _limit_violations(robot: RobotModel, result: RetargetResult) -> tuple[int, int]:
    """Counts of position-limit and velocity-limit violations on the output trajectory."""
    trajectory = result.trajectory
    order = robot.urdf_order
    lower, upper, speed = robot.lower[order], robot.upper[order], robot.velocity_limits[order]
    positions = trajectory.joint_positions
    position_violations = int(np.sum((positions < lower - LIMIT_TOLERANCE) | (positions > upper + LIMIT_TOLERANCE)))
    reported = np.abs(trajectory.joint_velocities) > speed + LIMIT_TOLERANCE
    differences = np.abs(np.diff(positions, axis=0)) * trajectory.rate > speed + LIMIT_TOLERANCE
    reported[1:] |= differences
    return position_violations, int(np.sum(reported))


def _foot_metrics(robot: RobotModel, result: RetargetResult) -> tuple[float, float, float]:
    """Foot sliding speed during contact (m/s) and max / mean sole penetration (m) at the output rate.

    An output interval counts as contact for a foot keypoint when the human joint is in contact in both
    input frames that enclose it.
    """
    trajectory, targets = result.trajectory, result.targets
    configurations = trajectory.configurations(robot)
    foot_keypoints = np.flatnonzero(np.isfinite(targets.ground_heights))
    position = trajectory.times * targets.fps
    last = targets.frame_count - 1
    before = np.minimum(np.floor(position + 1e-9).astype(int), last)
    after = np.minimum(np.ceil(position - 1e-9).astype(int), last)
    contact = targets.contacts[before][:, foot_keypoints] & targets.contacts[after][:, foot_keypoints]
    model, data = robot.model, robot.data
    frame_ids = [int(i) for i in robot.keypoint_frame_ids[foot_keypoints]]
    feet = np.empty((len(configurations), len(frame_ids), 2))
    for index, q in enumerate(configurations):
        pin.framesForwardKinematics(model, data, q)
        feet[index] = [data.oMf[i].translation[:2] for i in frame_ids]
    both = contact[1:] & contact[:-1]
    speeds = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * trajectory.rate
    sliding = float(speeds[both].mean()) if both.any() else 0.0
    depth = -lowest_sole_heights(robot, configurations)
    penetration = np.where(depth > PENETRATION_TOLERANCE_M, depth, 0.0)
    return sliding, float(penetration.max(initial=0.0)), float(penetration.mean()) if len(penetration) else 0.0


def evaluate(robot: RobotModel, result: RetargetResult) -> RetargetMetrics:
    """Compute every metric of :class:`RetargetMetrics` for one retargeting result."""
    errors = keypoint_errors(robot, result)
    position_violations, velocity_violations = _limit_violations(robot, result)
    trajectory = result.trajectory
    arrays = (
        trajectory.joint_positions,
        trajectory.joint_velocities,
        trajectory.joint_accelerations,
        trajectory.base_positions,
        trajectory.base_orientations,
    )
    sliding, penetration_max, penetration_mean = _foot_metrics(robot, result)
    return RetargetMetrics(
        input_frames=int(result.configurations.shape[0]),
        output_samples=trajectory.sample_count,
        keypoint_error_mean_m=float(errors.mean()),
        keypoint_error_p95_m=float(np.quantile(errors, 0.95)),
        joint_limit_violations=position_violations,
        velocity_limit_violations=velocity_violations,
        non_finite_values=int(sum(np.size(a) - np.count_nonzero(np.isfinite(a)) for a in arrays)),
        foot_sliding_m_s=sliding,
        foot_penetration_max_m=penetration_max,
        foot_penetration_mean_m=penetration_mean,
        joint_acceleration_rms=float(np.sqrt(np.mean(trajectory.joint_accelerations**2))),
    )
