"""Shared output for benchmarks: a description of the machine, JSON, and a markdown table."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path


def machine_description() -> dict[str, object]:
    """CPU model, logical cores, OS and Python version of the machine running the benchmark."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


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
