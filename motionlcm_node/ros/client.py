"""A small client of a running node: send one command, say whether it was taken, watch the trajectories.

Used by ``motionlcm send`` (the way to talk to the node where the ``ros2`` CLI is not installed) and
usable from Python::

    with NodeClient("/motion_generator") as client:
        client.wait_for_node(10.0)
        outcome = client.send("a person waves with the right hand", duration=4.0)
        print(outcome.accepted, outcome.message, outcome.latency_ms)

The command goes to ``<node>/motion_command`` with a fresh id; the node's ``~/status`` says when that id
starts (accepted; with the command-to-first-trajectory latency it measured) or counts a rejection.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np


@dataclass
class SendOutcome:
    """What became of one command.

    Attributes:
        command_id: the id it was sent with.
        accepted: True when the node started it, False when refused, None when the status said neither in time.
        message: the node's status message (the reason, when refused).
        latency_ms: command-to-first-trajectory time the node measured, ms (accepted commands).
    """

    command_id: str
    accepted: bool | None
    message: str = ""
    latency_ms: float = 0.0


@dataclass
class TrajectorySummary:
    """The trajectories heard while watching.

    Attributes:
        messages: how many arrived.
        joint_names: the joints of the last one.
        points: points per message (first, last).
        horizon_s: ``time_from_start`` of the last point of the last message, s.
        finite: whether every position heard was finite.
        position_range: lowest and highest position heard, rad.
    """

    messages: int = 0
    joint_names: tuple[str, ...] = ()
    points: list[int] = field(default_factory=list)
    horizon_s: float = 0.0
    finite: bool = True
    position_range: tuple[float, float] = (np.inf, -np.inf)


class NodeClient:
    """A client node on its own rclpy context (so it coexists with other rclpy users in the process)."""

    def __init__(self, node_name: str = "/motion_generator", trajectory_topic: str = "/joint_trajectory") -> None:
        import rclpy
        from motionlcm_msgs.msg import GeneratorStatus, MotionCommand
        from rclpy.executors import SingleThreadedExecutor
        from trajectory_msgs.msg import JointTrajectory

        self.node_name = "/" + node_name.strip("/")
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(f"motionlcm_client_{uuid.uuid4().hex[:8]}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.statuses: list[object] = []
        self.trajectories: list[tuple[float, object]] = []
        self.node.create_subscription(GeneratorStatus, f"{self.node_name}/status", self.statuses.append, 50)
        self.node.create_subscription(
            JointTrajectory, trajectory_topic, lambda m: self.trajectories.append((time.monotonic(), m)), 50
        )
        self.publisher = self.node.create_publisher(MotionCommand, f"{self.node_name}/motion_command", 10)
        self.command_type = MotionCommand

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def spin_until(self, condition: object, timeout: float) -> bool:
        """Spin until ``condition()`` holds or ``timeout`` s pass; returns the condition."""
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)
        return bool(condition())

    def wait_for_node(self, timeout: float) -> bool:
        """Whether the node's status was heard and it listens to commands within ``timeout`` s."""
        return self.spin_until(lambda: bool(self.statuses) and self.publisher.get_subscription_count() > 0, timeout)

    def send(self, text: str, duration: float = 0.0, after_current: bool = False, timeout: float = 5.0) -> SendOutcome:
        """Send one command and wait for the status to accept or refuse it.

        Args:
            text: what the robot should do.
            duration: motion length, s (0: the node's default).
            after_current: queue it after the running motion instead of replacing it now.
            timeout: how long to wait for the verdict, s.
        """
        rejected_before = self.statuses[-1].commands_rejected if self.statuses else 0
        command_id = f"cli-{uuid.uuid4().hex[:12]}"
        message = self.command_type(command_id=command_id, text=text, duration=float(duration))
        message.blend_mode = message.BLEND_AFTER_CURRENT if after_current else message.BLEND_REPLACE_NOW
        message.header.stamp = self.node.get_clock().now().to_msg()
        self.publisher.publish(message)

        def verdict() -> SendOutcome | None:
            for status in self.statuses:
                if status.command_id == command_id:
                    return SendOutcome(command_id, True, status.message, float(status.last_latency_ms))
            refused = [s for s in self.statuses if s.commands_rejected > rejected_before and command_id in s.message]
            if refused:
                return SendOutcome(command_id, False, refused[0].message)
            return None

        self.spin_until(lambda: verdict() is not None, timeout)
        outcome = verdict()
        if outcome is None:
            last = self.statuses[-1].message if self.statuses else ""
            return SendOutcome(command_id, None, last)
        return outcome

    def watch(self, seconds: float) -> TrajectorySummary:
        """Listen to the trajectory topic for ``seconds`` s and summarise what arrived."""
        start = time.monotonic()
        self.spin_until(lambda: False, seconds)
        heard = [message for when, message in self.trajectories if when >= start]
        summary = TrajectorySummary(messages=len(heard))
        if heard:
            positions = np.array([point.positions for message in heard for point in message.points])
            last = heard[-1]
            summary.joint_names = tuple(last.joint_names)
            summary.points = [len(heard[0].points), len(last.points)]
            duration = last.points[-1].time_from_start
            summary.horizon_s = duration.sec + duration.nanosec * 1e-9
            summary.finite = bool(np.isfinite(positions).all())
            summary.position_range = (float(positions.min()), float(positions.max()))
        return summary

    def close(self) -> None:
        """Destroy the client node and its context."""
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
