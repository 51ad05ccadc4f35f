"""`benchmarks/ros_latency.py`: the gap measure on made-up streams, and a short run against a real node.

The short run checks the report's structure and that every command was seen, not the speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("rclpy", reason="ROS 2 (scripts/setup_ros.sh) is not installed")
pytest.importorskip("motionlcm_msgs", reason="motionlcm_msgs is not built (scripts/setup_ros.sh)")

from benchmarks.ros_latency import gaps, main


def test_a_stream_whose_messages_overlap_has_no_gap() -> None:
    # (received, stamp, covered until): a message every 0.1 s covering the next second.
    stream = [(0.1 * index, 100.0 + 0.1 * index, 101.0 + 0.1 * index) for index in range(20)]
    assert gaps(stream, end=stream[-1][1]) == (0.0, 0.0)


def test_a_late_message_is_a_gap_of_the_time_nothing_covered() -> None:
    stream = [(0.1 * index, 100.0 + 0.1 * index, 100.5 + 0.1 * index) for index in range(10)]
    stream.append((2.0, 102.0, 103.0))  # the previous message covered up to 101.4 s
    total, longest = gaps(stream, end=102.0)
    assert total == pytest.approx(0.6) and longest == pytest.approx(0.6)


def test_the_end_of_the_stream_counts_when_the_last_message_stops_short() -> None:
    stream = [(0.0, 100.0, 100.5)]
    assert gaps(stream, end=101.0) == pytest.approx((0.5, 0.5))
    assert gaps([], end=1.0) == (0.0, 0.0)


def test_a_short_run_times_every_command_and_reports_the_stream(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ros_latency.json"
    main(["--commands", "3", "--spacing", "0.5", "--stream-seconds", "4", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["latency_ms"]["measured"] == 3
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p95"] <= report["latency_ms"]["max"]
    stream = report["stream"]
    assert stream["commands"] >= 2 and stream["messages"] > stream["commands"]
    assert stream["node_cpu_percent"] > 0
    assert set(report["targets"]) == {"p95_ms", "stream_gaps"}
    assert "| node CPU use (100% = one core) |" in capsys.readouterr().out
