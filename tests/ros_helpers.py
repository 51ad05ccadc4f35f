"""Real rclpy on loopback for the node tests: a node in its own process and a client in the test's.

Every test module gets its own ROS domain (``ROS_DOMAIN_ID``, from the process id) and discovery stays
on this host (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``), so parallel runs do not hear each other.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy", reason="ROS 2 (scripts/setup_ros.sh) is not installed")
pytest.importorskip("motionlcm_msgs", reason="motionlcm_msgs is not built (scripts/setup_ros.sh)")

from rclpy.executors import SingleThreadedExecutor  # noqa: E402

_DOMAINS = itertools.count()


def fresh_domain_id() -> int:
    """A ROS domain id no other test of this run uses (1-100)."""
    return (os.getpid() * 7 + next(_DOMAINS)) % 100 + 1


def ros_environment(domain_id: int) -> dict[str, str]:
    """The environment of a node process on ``domain_id``, loopback only."""
    return {**os.environ, "ROS_DOMAIN_ID": str(domain_id), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
            "PYTHONUNBUFFERED": "1"}  # fmt: skip


class NodeProcess:
    """``python -m motionlcm_node.node`` with parameters, stopped with SIGINT (then killed if it hangs)."""

    def __init__(self, domain_id: int, log: Path, ros_arguments: tuple[str, ...] = (), **parameters: object) -> None:
        arguments = list(ros_arguments)
        for name, value in parameters.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            arguments += ["-p", f"{name}:={text}"]
        self.log = log
        self.handle = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "motionlcm_node.node", "--ros-args", *arguments],
            env=ros_environment(domain_id), stdout=self.handle, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        """The process id (of the re-executed interpreter, if the ROS wheels re-execute)."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the node is still running."""
        return self.process.poll() is None

    def rss_mib(self) -> float:
        """Resident memory of the node process, MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGINT, wait; SIGKILL after ``timeout`` seconds. Returns the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.handle.close()
        return self.process.returncode


class Client:
    """A test-side node on its own context: records what it hears, publishes, calls services and actions."""

    def __init__(self, domain_id: int, name: str = "test_client") -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.heard: dict[str, list[tuple[float, object]]] = {}

    def listen(self, message_type: type, topic: str) -> list[tuple[float, object]]:
        """Record (monotonic time, message) of every message on ``topic``; returns the live list."""
        received: list[tuple[float, object]] = []
        self.node.create_subscription(message_type, topic, lambda m: received.append((time.monotonic(), m)), 50)
        self.heard[topic] = received
        return received

    def spin_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Spin until ``condition()`` holds or ``timeout`` seconds pass; returns the condition."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.02)
        return condition()

    def spin_for(self, seconds: float) -> None:
        """Spin for ``seconds``."""
        self.spin_until(lambda: False, seconds)

    def wait_for_future(self, future: object, timeout: float = 10.0) -> object:
        """The result of an rclpy future (spinning meanwhile)."""
        assert self.spin_until(future.done, timeout), "the call timed out"
        return future.result()

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
