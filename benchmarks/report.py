"""Shared parts of the benchmarks: interleaved timing, a description of the machine, JSON, a markdown table."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from motionlcm_node.machine import machine_description


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def emit(result: dict[str, object], header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print the JSON result, then the markdown table and the machine line."""
    print(json.dumps(result, indent=2))
    print()
    print(markdown_table(header, rows))
    machine = result.get("machine", machine_description())
    print(f"\nMachine: {machine['cpu']}, {machine['logical_cores']} logical cores, {machine['os']}")


def print_targets(result: dict[str, object], digits: int = 1) -> None:
    """One line per entry of ``result["targets"]`` (value, target, met or missed)."""
    for name, target in result["targets"].items():
        verdict = "met" if target["met"] else "missed"
        print(f"{name}: {target['value']:.{digits}f} (target {target['target']}: {verdict})")


def write_json(result: dict[str, object], path: Path | None) -> None:
    """Write the JSON result to ``path`` (nothing when None)."""
    if path is not None:
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def interleaved_medians(calls: dict[str, Callable[[], object]], repeats: int, warmup: int) -> dict[str, float]:
    """Median ms per call of each of ``calls``, taken round-robin so machine drifts hit them all alike.

    Args:
        calls: name -> a call to time (no arguments).
        repeats: timed rounds.
        warmup: untimed rounds first.
    """
    times: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(warmup + repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if index >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(values) for name, values in times.items()}
