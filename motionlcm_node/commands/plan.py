"""The robot's planned motion on the generator's clock, and the pieces of it sent to a controller.

A :class:`RobotPlan` is what the controller is told to do from its ``start`` on: joint positions at
a fixed rate in URDF order, the floating base and the human skeleton it came from (for pictures and
simulation). A new command *splices* its plan into the running one at a switch time on the same
sample grid, so a controller that already holds the old plan sees the same curve up to the switch.

:meth:`RobotPlan.window` cuts the message for one publication: the samples from a start time over a
look-ahead horizon, and, when the plan continues past the horizon, a *stop tail*: one more point at
rest, reached with a gentle deceleration. A joint_trajectory_controller replaces its trajectory with
each message it receives (ROS 2 Jazzy: no splicing); because consecutive windows hold the same curve
where they overlap, the replacement is seamless, and if the stream stops the robot comes to rest
instead of holding a velocity (Jazzy also rejects trajectories that end moving).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Deceleration of the stop tail, rad/s^2 (reached within ``STOP_TAIL_MAX_S``).
STOP_DECELERATION = 4.0
STOP_TAIL_MIN_S, STOP_TAIL_MAX_S = 0.1, 1.0


@dataclass(frozen=True)
class Window:
    """Samples of a plan for one message.

    Attributes:
        stamp: absolute time of the first sample, seconds (the message's ``header.stamp``).
        times: [K] seconds from ``stamp``, strictly increasing (``time_from_start``).
        positions: [K, n] rad, URDF order.
        velocities: [K, n] rad/s; the last row is zero.
    """

    stamp: float
    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray


@dataclass(frozen=True)
class StartPose:
    """Where the robot is when a command starts.

    Attributes:
        positions: [n] joint positions, rad (URDF order).
        velocities: [n] joint velocities, rad/s.
        base_position: [3] m, world frame.
        base_yaw: heading of the base about +z, rad.
        human_joints: [22, 3] the last human pose shown (world frame), or None.
    """

    positions: np.ndarray
    velocities: np.ndarray
    base_position: np.ndarray
    base_yaw: float
    human_joints: np.ndarray | None = None


@dataclass
class RobotPlan:
    """A robot motion sampled at ``rate`` from ``start`` (seconds on the generator's clock).

    Attributes:
        command_id: the command this plan executes (after a splice: the newest one).
        joint_names: URDF joint names, the column order.
        start: absolute time of sample 0, seconds.
        rate: samples per second.
        positions: [N, n] joint positions, rad.
        lower, upper: [n] joint position limits, rad.
        base_positions: [N, 3] floating-base position, m, world frame (REP 103).
        base_orientations: [N, 4] floating-base quaternions (x, y, z, w), world from base.
        human_joints: [N, 22, 3] the human motion the plan came from, m, world frame, or None.
    """

    command_id: str
    joint_names: tuple[str, ...]
    start: float
    rate: float
    positions: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    base_positions: np.ndarray
    base_orientations: np.ndarray
    human_joints: np.ndarray | None = None
    velocities: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        count = len(self.positions)
        if count < 1 or self.positions.shape[1] != len(self.joint_names):
            raise ValueError(f"positions must be [N >= 1, {len(self.joint_names)}], got {self.positions.shape}")
        if not np.isfinite(self.positions).all():
            raise ValueError("plan positions must be finite")
        velocities = np.zeros_like(self.positions)
        if count > 1:
            forward = np.diff(self.positions, axis=0) * self.rate
            velocities[0], velocities[-1] = forward[0], forward[-1]
            velocities[1:-1] = 0.5 * (forward[1:] + forward[:-1])
            velocities[-1] = 0.0 if self.at_rest_at_end else velocities[-1]
        self.velocities = velocities

    @property
    def at_rest_at_end(self) -> bool:
        """Whether the last two samples coincide (the plan ends at rest)."""
        return len(self.positions) < 2 or bool(np.allclose(self.positions[-1], self.positions[-2], atol=1e-9))

    @property
    def end(self) -> float:
        """Absolute time of the last sample, seconds."""
        return self.start + (len(self.positions) - 1) / self.rate

    def index_at(self, time: float) -> float:
        """Fractional sample index of ``time``, clamped to the plan."""
        return float(np.clip((time - self.start) * self.rate, 0.0, len(self.positions) - 1))

    def state_at(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions and velocities at ``time`` (linear between samples; the ends are held)."""
        index = self.index_at(time)
        low = math.floor(index)
        high = min(low + 1, len(self.positions) - 1)
        weight = index - low
        position = (1 - weight) * self.positions[low] + weight * self.positions[high]
        velocity = (1 - weight) * self.velocities[low] + weight * self.velocities[high]
        if time >= self.end and self.at_rest_at_end:
            velocity = np.zeros_like(velocity)
        return position, velocity

    def grid_time_at_or_after(self, time: float) -> float:
        """The first sample time at or after ``time`` (on this plan's grid; may lie past its end)."""
        steps = math.ceil((time - self.start) * self.rate - 1e-3)
        return self.start + max(steps, 0) / self.rate

    def sample_index_at(self, time: float) -> int:
        """Index of the sample at or after ``time`` (``len`` when the plan has ended)."""
        return min(max(math.ceil((time - self.start) * self.rate - 1e-3), 0), len(self.positions))

    def spliced(self, new: RobotPlan) -> RobotPlan:
        """This plan up to ``new.start`` followed by ``new`` (which must start on this plan's grid).

        Raises:
            ValueError: another rate, other joints, or a start that is not on this plan's grid.
        """
        if new.rate != self.rate or new.joint_names != self.joint_names:
            raise ValueError("a spliced plan needs the same rate and joints")
        offset = (new.start - self.start) * self.rate
        if offset < -1e-3 or abs(offset - round(offset)) > 1e-3:
            raise ValueError("the new plan must start on this plan's sample grid, not before it")
        keep = min(round(offset), len(self.positions))
        if keep < round(offset):  # a gap after the old plan ended: hold its last sample there
            fill = round(offset) - keep
            head_positions = np.concatenate([self.positions, np.repeat(self.positions[-1:], fill, axis=0)])
            head_base = np.concatenate([self.base_positions, np.repeat(self.base_positions[-1:], fill, axis=0)])
            head_orientation = np.concatenate(
                [self.base_orientations, np.repeat(self.base_orientations[-1:], fill, axis=0)]
            )
            head_human = (
                None
                if self.human_joints is None
                else np.concatenate([self.human_joints, np.repeat(self.human_joints[-1:], fill, axis=0)])
            )
            keep = round(offset)
        else:
            head_positions, head_base = self.positions[:keep], self.base_positions[:keep]
            head_orientation = self.base_orientations[:keep]
            head_human = None if self.human_joints is None else self.human_joints[:keep]
        human = None
        if head_human is not None and new.human_joints is not None:
            human = np.concatenate([head_human, new.human_joints])
        return RobotPlan(
            new.command_id,
            self.joint_names,
            self.start,
            self.rate,
            np.concatenate([head_positions, new.positions]),
            self.lower,
            self.upper,
            np.concatenate([head_base, new.base_positions]),
            np.concatenate([head_orientation, new.base_orientations]),
            human,
        )

    def trimmed_before(self, time: float) -> RobotPlan:
        """The same plan without the samples more than one sample before ``time`` (bounded memory)."""
        drop = max(self.sample_index_at(time) - 1, 0)
        drop = min(drop, len(self.positions) - 1)
        if drop == 0:
            return self
        human = None if self.human_joints is None else self.human_joints[drop:]
        return RobotPlan(
            self.command_id,
            self.joint_names,
            self.start + drop / self.rate,
            self.rate,
            self.positions[drop:],
            self.lower,
            self.upper,
            self.base_positions[drop:],
            self.base_orientations[drop:],
            human,
        )

    def window(self, time: float, horizon: float) -> Window | None:
        """The message for a controller from the first sample at or after ``time`` over ``horizon`` seconds.

        Returns:
            The window (ending at rest: at the plan's end, or with a stop tail), or None when the plan
            has no sample at or after ``time``.
        """
        first = self.sample_index_at(time)
        if first >= len(self.positions) - (1 if self.at_rest_at_end else 0):
            return None  # nothing left but the final pose, which the last window already ended on
        last = min(first + max(round(horizon * self.rate), 1), len(self.positions) - 1)
        positions = self.positions[first : last + 1]
        velocities = self.velocities[first : last + 1].copy()
        times = np.arange(len(positions)) / self.rate
        if last < len(self.positions) - 1 or not self.at_rest_at_end:
            tail_time, tail_position = stop_tail(positions[-1], velocities[-1], self.lower, self.upper)
            times = np.append(times, times[-1] + tail_time)
            positions = np.vstack([positions, tail_position])
            velocities = np.vstack([velocities, np.zeros_like(tail_position)])
        velocities[-1] = 0.0
        return Window(self.start + first / self.rate, times, positions, velocities)


def stop_tail(
    position: np.ndarray, velocity: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[float, np.ndarray]:
    """Duration (s) and end position of coming to rest from ``(position, velocity)`` at constant deceleration.

    The duration is ``max|v| / STOP_DECELERATION`` within ``STOP_TAIL_MIN_S``-``STOP_TAIL_MAX_S``; each
    joint travels ``v * duration / 2`` (a linear velocity ramp to zero), clipped into its limits.
    """
    duration = float(np.clip(np.abs(velocity).max(initial=0.0) / STOP_DECELERATION, STOP_TAIL_MIN_S, STOP_TAIL_MAX_S))
    return duration, np.clip(position + 0.5 * velocity * duration, lower, upper)
