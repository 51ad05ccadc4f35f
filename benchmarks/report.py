"""Shared output for benchmarks: a description of the machine, JSON, and a markdown table."""

from __future__ import annotations

import json
from collections.abc import Sequence

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
