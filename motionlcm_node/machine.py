"""A description of the machine a measurement ran on (for benchmark and evaluation reports)."""

from __future__ import annotations

import os
import platform
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
