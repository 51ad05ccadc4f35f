"""The ROS 2 node end to end: command-to-first-trajectory latency, and a long stream checked for gaps.

    python -m benchmarks.ros_latency                              # 60 commands, then a 10-minute stream
    python -m benchmarks.ros_latency --commands 20 --stream-seconds 60 --json docs/ros_latency.json

The node runs in its own process (``python -m motionlcm_node.node``, shipped models, autostart) and
this script is its client on loopback (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``, a private domain):

1. **Latency**: ``--commands`` text commands on ``~/command``, one every ``--spacing`` seconds. For
   each, the node's status names the stamp of the first ``joint_trajectory`` message that carries it;
   the latency is from publishing the command here to receiving that message here (generation,
   retargeting and transport both ways). Reported: p50, p95, p99 and max, ms.
2. **Stream**: a command every ``--command-period`` seconds for ``--stream-seconds``. Every received
   trajectory covers its stamp up to its last point before the stop tail; a *gap* is any time between
   the first message and the end of the last motion that no message received before it covers (the
   controller would be running its stop tail). Reported: total and longest gap, the longest interval
   between messages, and the node's CPU use (its process's user + system time over the stream's wall
   time; 100% = one core).

Prints the JSON report, then a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.report import emit, print_targets, write_json
from motionlcm_node.machine import machine_description

NODE = "/motion_generator"
TARGET_P95_MS = 50.0
TEXTS = ("a person walks forward", "a person waves with the right hand", "a person raises both hands",
         "someone turns left while walking", "a person bows", "a person runs forward")  # fmt: skip


def _seconds(stamp: object) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def start_node(domain: int, log: Path, **parameters: object) -> subprocess.Popen:
    """The node in its own process on ``domain`` (loopback only)."""
    arguments = [item for name, value in parameters.items() for item in ("-p", f"{name}:={value}")]
    environment = {**os.environ, "ROS_DOMAIN_ID": str(domain), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    return subprocess.Popen([sys.executable, "-m", "motionlcm_node.node", "--ros-args", *arguments],
                            env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT)  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Probe:
    """The client node: publishes commands, records trajectories and statuses with receive times."""

    def __init__(self, domain: int) -> None:
        import rclpy
        from motionlcm_msgs.msg import GeneratorStatus
        from rclpy.executors import SingleThreadedExecutor
        from std_msgs.msg import String
        from trajectory_msgs.msg import JointTrajectory

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node("ros_latency_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.trajectories: list[tuple[float, float, float]] = []  # (received, stamp, covered until)
        self.statuses: list[tuple[float, object]] = []
        self.string = String
        self.node.create_subscription(JointTrajectory, "/joint_trajectory", self._on_trajectory, 100)
        self.node.create_subscription(GeneratorStatus, f"{NODE}/status", self._on_status, 100)
        self.publisher = self.node.create_publisher(String, f"{NODE}/command", 10)

    def _on_trajectory(self, message: object) -> None:
        stamp = _seconds(message.header.stamp)
        times = [_seconds(point.time_from_start) for point in message.points]
        covered = stamp + (times[-2] if len(times) > 1 else times[-1])  # the last point before the stop tail
        self.trajectories.append((time.monotonic(), stamp, covered))

    def _on_status(self, message: object) -> None:
        self.statuses.append((time.monotonic(), message))

    def spin_for(self, seconds: float) -> None:
        """Spin for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.005)

    def wait_until_active(self, timeout: float) -> bool:
        """Whether the node reported "active" and subscribed to the commands within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = any(message.state == "active" for _, message in self.statuses)
            if active and self.publisher.get_subscription_count() > 0:
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return False

    def command(self, text: str) -> float:
        """Publish a text command; returns when (monotonic seconds)."""
        sent = time.monotonic()
        self.publisher.publish(self.string(data=text))
        return sent

    def latency_ms(self, text: str, sent: float) -> float | None:
        """Time from ``sent`` to receiving the first trajectory of the command ``text``, ms (None if unseen)."""
        for _, status in self.statuses:
            if status.command_text == text and _seconds(status.trajectory_stamp) > 0:
                stamp = _seconds(status.trajectory_stamp)
                received = [when for when, message_stamp, _ in self.trajectories if abs(message_stamp - stamp) < 1e-6]
                return 1000 * (min(received) - sent) if received else None
        return None

    def close(self) -> None:
        """Destroy the client."""
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def gaps(trajectories: list[tuple[float, float, float]], end: float) -> tuple[float, float]:
    """(total, longest) seconds, on the stamps' clock, that no message received before covers, up to ``end``."""
    if not trajectories:
        return 0.0, 0.0
    offset = statistics.median(stamp - received for received, stamp, _ in trajectories[:10])  # clock to stamps
    events = sorted((received + offset, covered) for received, _, covered in trajectories)
    total = longest = 0.0
    covered_until = events[0][1]
    for arrival, covered in [*events[1:], (end, end)]:
        if arrival > covered_until:
            total += arrival - covered_until
            longest = max(longest, arrival - covered_until)
        covered_until = max(covered_until, covered)
    return total, longest


def measure_latencies(probe: Probe, commands: int, spacing: float) -> list[float]:
    """Command-to-first-trajectory times of ``commands`` text commands ``spacing`` s apart, ms."""
    latencies = []
    for index in range(commands):
        text = f"{TEXTS[index % len(TEXTS)]}, request {index}"
        sent = probe.command(text)
        probe.spin_for(spacing)
        value = probe.latency_ms(text, sent)
        if value is not None:
            latencies.append(value)
    return latencies


def measure_stream(probe: Probe, node_pid: int, seconds: float, period: float) -> dict[str, float]:
    """A command every ``period`` s for ``seconds`` s: gaps, message intervals and the node's CPU use."""
    probe.trajectories.clear()
    cpu_start, wall_start = cpu_seconds(node_pid), time.monotonic()
    sent = 0
    while time.monotonic() < wall_start + seconds:
        probe.command(f"{TEXTS[sent % len(TEXTS)]}, stream {sent}")
        sent += 1
        probe.spin_for(period)
    wall = time.monotonic() - wall_start
    cpu = cpu_seconds(node_pid) - cpu_start
    stream = list(probe.trajectories)
    total_gap, longest_gap = gaps(stream, end=stream[-1][1] if stream else 0.0)
    intervals = np.diff([received for received, _, _ in stream]) if len(stream) > 1 else np.zeros(1)
    return {"seconds": wall, "commands": sent, "messages": len(stream), "gap_total_s": total_gap,
            "gap_longest_s": longest_gap, "message_interval_max_s": float(intervals.max()),
            "node_cpu_percent": 100 * cpu / wall}  # fmt: skip


def run(commands: int = 60, spacing: float = 1.0, stream_seconds: float = 600.0, command_period: float = 2.0,
        duration: float = 5.0) -> dict[str, object]:  # fmt: skip
    """Both measurements against one node process; returns the JSON-serialisable report."""
    domain = os.getpid() % 100 + 101
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "node.log"
        node = start_node(domain, log, default_duration=duration)
        probe = Probe(domain)
        try:
            if not probe.wait_until_active(120):
                raise RuntimeError("the node did not become active:\n" + log.read_text()[-2000:])
            probe.spin_for(1.0)
            latencies = np.array(measure_latencies(probe, commands, spacing))
            probe.spin_for(duration + 1.0)
            stream = measure_stream(probe, node.pid, stream_seconds, command_period)
        finally:
            probe.close()
            node.send_signal(2)
            node.wait(30)
    latency = {name: float(np.percentile(latencies, q)) if len(latencies) else float("nan")
               for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))}  # fmt: skip
    p95, gap = latency["p95"], stream["gap_total_s"]
    return {
        "command": " ".join(["python -m benchmarks.ros_latency", *sys.argv[1:]]),
        "machine": machine_description(),
        "latency_ms": {**latency, "commands": commands, "measured": len(latencies)},
        "stream": stream,
        "targets": {
            "p95_ms": {"target": f"<= {TARGET_P95_MS:g}", "value": p95, "met": p95 <= TARGET_P95_MS},
            "stream_gaps": {"target": "0 s", "value": gap, "met": gap == 0.0},
        },
    }


def table(report: dict[str, object]) -> tuple[list[str], list[list[object]]]:
    """The markdown table of the report."""
    latency, stream = report["latency_ms"], report["stream"]
    rows = [
        ["command to first trajectory, p50 / p95 / p99 / max",
         f"{latency['p50']:.1f} / {latency['p95']:.1f} / {latency['p99']:.1f} / {latency['max']:.1f} ms "
         f"({latency['measured']} commands)"],
        ["stream", f"{stream['seconds']:.0f} s, {stream['commands']} commands, {stream['messages']} trajectories"],
        ["gaps in the published trajectory (total / longest)",
         f"{stream['gap_total_s']:.3f} / {stream['gap_longest_s']:.3f} s"],
        ["longest interval between trajectory messages", f"{stream['message_interval_max_s']:.3f} s"],
        ["node CPU use (100% = one core)", f"{stream['node_cpu_percent']:.0f}%"],
    ]  # fmt: skip
    return ["measure", "value"], rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=60, help="commands timed for the latency")
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between timed commands")
    parser.add_argument("--stream-seconds", type=float, default=600.0, help="length of the stream, s")
    parser.add_argument("--command-period", type=float, default=2.0, help="seconds between stream commands")
    parser.add_argument("--duration", type=float, default=5.0, help="length of every motion, s")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.commands < 1 or min(args.spacing, args.stream_seconds, args.command_period) <= 0:
        parser.error("--commands must be >= 1 and the durations positive")
    report = run(args.commands, args.spacing, args.stream_seconds, args.command_period, args.duration)
    emit(report, *table(report))
    print_targets(report, digits=3)
    write_json(report, args.json)


if __name__ == "__main__":
    main()
