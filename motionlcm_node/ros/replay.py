"""What a recorded session commanded: the joint trajectory a controller executed, rebuilt from a bag.

A joint_trajectory_controller replaces its trajectory with each message it receives; so at any time the
commanded joints are those of the last message received before it, interpolated at that time (held at
the message's last point once it has run out). The human skeleton the node published beside it gives
the floating base for pictures (over the pelvis, at the robot's standing height, facing where the hips
face), since ``JointTrajectory`` carries joints only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.ros.recording import read_bag


@dataclass(frozen=True)
class Replay:
    """A recorded session resampled on one clock.

    Attributes:
        times: [N] seconds from the first trajectory's stamp.
        joint_names: URDF joint names (column order).
        positions: [N, n] commanded joint positions, rad.
        human_times: [M] seconds (same clock) of the skeleton poses.
        human_joints: [M, 22, 3] the published human skeleton, m, world frame.
        commands: (seconds, text) of every text command, on the same clock.
    """

    times: np.ndarray
    joint_names: tuple[str, ...]
    positions: np.ndarray
    human_times: np.ndarray
    human_joints: np.ndarray
    commands: list[tuple[float, str]]


def _seconds(stamp: object) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def load_replay(bag: str | Path, rate: float = 50.0) -> Replay:
    """The commanded joints of a bag at ``rate`` Hz (see the module docstring).

    Raises:
        MotionLCMError: no bag, or no ``joint_trajectory`` message in it.
    """
    trajectories, skeletons, commands = [], [], []
    for topic, log_ns, message in read_bag(bag):
        if topic.endswith("joint_trajectory") and message.points:
            times = np.array([_seconds(point.time_from_start) for point in message.points])
            positions = np.array([point.positions for point in message.points])
            trajectories.append((log_ns * 1e-9, _seconds(message.header.stamp), tuple(message.joint_names), times,
                                 positions))  # fmt: skip
        elif topic.endswith("human_skeleton") and len(message.markers) > 1:
            points = message.markers[1].points
            skeletons.append((log_ns * 1e-9, np.array([[p.x, p.y, p.z] for p in points])))
        elif topic.endswith("/command"):
            commands.append((log_ns * 1e-9, str(message.data)))
    if not trajectories:
        raise MotionLCMError(f"{bag}: no joint_trajectory messages")
    origin_log = trajectories[0][0]
    start = trajectories[0][1]
    end = max(stamp + times[-1] for _, stamp, _, times, _ in trajectories)
    clock = np.arange(0.0, end - start, 1.0 / rate)
    received = np.array([log - origin_log + start for log, *_ in trajectories])  # on the stamps' clock
    positions = np.empty((len(clock), trajectories[0][4].shape[1]))
    for index, offset in enumerate(clock):
        now = start + offset
        which = max(int(np.searchsorted(received, now, side="right")) - 1, 0)
        _, stamp, _, times, values = trajectories[which]
        local = np.clip(now - stamp, times[0], times[-1])
        positions[index] = [np.interp(local, times, values[:, joint]) for joint in range(values.shape[1])]
    human_times = np.array([log - origin_log for log, _ in skeletons])
    human = np.array([joints for _, joints in skeletons]) if skeletons else np.zeros((0, 22, 3))
    return Replay(clock, trajectories[0][2], positions, human_times, human,
                  [(log - origin_log, text) for log, text in commands])  # fmt: skip


def render_replay(replay: Replay, robot_name: str, out: Path, fps: float = 20.0) -> Path:
    """A video of the replayed robot (MuJoCo offscreen, matplotlib fallback) beside the skeleton."""
    from retargeting import load_robot, render_video
    from retargeting.trajectory import RobotTrajectory

    robot = load_robot(robot_name)
    if tuple(robot.urdf_joint_names) != replay.joint_names:
        raise MotionLCMError(f"the bag's joints are not {robot_name}'s")
    frames = np.arange(0.0, replay.times[-1], 1.0 / fps)
    joints = np.array([[np.interp(t, replay.times, replay.positions[:, j]) for j in range(replay.positions.shape[1])]
                       for t in frames])  # fmt: skip
    if len(replay.human_joints):
        index = np.clip(np.searchsorted(replay.human_times, frames), 0, len(replay.human_joints) - 1)
        human = replay.human_joints[index]
    else:
        human = np.zeros((len(frames), 22, 3))
    height = float(robot.reference_q[2])
    base = np.stack([human[:, 0, 0], human[:, 0, 1], np.full(len(frames), height)], axis=1)
    hips = human[:, 1] - human[:, 2]  # left hip minus right hip: the left of the body
    yaw = np.arctan2(hips[:, 1], hips[:, 0]) - math.pi / 2
    orientations = np.stack([np.zeros_like(yaw), np.zeros_like(yaw), np.sin(yaw / 2), np.cos(yaw / 2)], axis=1)
    zeros = np.zeros_like(joints)
    trajectory = RobotTrajectory(robot.name, replay.joint_names, fps, frames, joints, zeros, zeros, base,
                                 orientations, np.zeros_like(base), np.zeros_like(base))  # fmt: skip
    return render_video(robot, trajectory, human, fps, out)
