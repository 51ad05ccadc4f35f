"""Start-up cost: ``motionlcm generate`` from the shell to its last output, and what each command imports.

    python -m benchmarks.startup                      # the shipped models, 5 runs per row
    python -m benchmarks.startup --repeats 10 --json docs/startup.json

Rows, timed round-robin in fresh processes (wall clock, the way a user or a launch file pays it):

* ``motionlcm --help`` (the CLI alone);
* ``motionlcm generate "..." --no-video``, the default backends (ONNX Runtime, no torch);
* the same with ``--denoiser-backend torch --decoder-backend torch`` (what every call paid when the
  inference path needed torch and diffusers).

Each generate row also reports the seconds the command itself measured (model loading, generation)
and whether torch and diffusers were imported (``python -X importtime``). Prints the JSON report,
then a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.report import emit, write_json
from motionlcm_node.machine import machine_description

PROMPT = "a person waves with the right hand"
TARGET_S = 2.0


def commands(models: Path | None, out: Path) -> dict[str, list[str]]:
    """Row label -> the command line it times."""
    cli = [sys.executable, "-m", "motionlcm_node.cli.main"]
    generate = [*cli, "generate", PROMPT, "--no-video", "--out", str(out)]
    if models is not None:
        generate += ["--models", str(models)]
    return {
        "motionlcm --help": [*cli, "--help"],
        "motionlcm generate --no-video (ONNX Runtime)": generate,
        "motionlcm generate --no-video (PyTorch backends)": [
            *generate, "--denoiser-backend", "torch", "--decoder-backend", "torch"
        ],
    }  # fmt: skip


def imported_modules(command: list[str]) -> set[str]:
    """Top-level packages a command imports (``python -X importtime``)."""
    result = subprocess.run([command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, check=True)
    return {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "import time:" in line}


def run(models: Path | None = None, repeats: int = 5) -> dict[str, object]:
    """Time every row ``repeats`` times, round-robin; returns the JSON-serialisable report (seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        rows = commands(models, Path(folder) / "out")
        walls: dict[str, list[float]] = {label: [] for label in rows}
        reported: dict[str, list[dict[str, float]]] = {label: [] for label in rows}
        for _ in range(repeats):
            for label, command in rows.items():
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, check=True)
                walls[label].append(time.perf_counter() - start)
                summary = Path(folder) / "out" / "generate.json"
                if "generate" in label:
                    timings = json.loads(summary.read_text())["timings_s"]
                    reported[label].append({"model_load": timings["model_load_cold_start"],
                                            "generation": timings["generation"]["total"]})  # fmt: skip
        results = []
        for label, command in rows.items():
            modules = imported_modules(command)
            row: dict[str, object] = {
                "label": label,
                "wall_s_median": statistics.median(walls[label]),
                "wall_s_min": min(walls[label]),
                "wall_s_max": max(walls[label]),
                "imports_torch": "torch" in modules,
                "imports_diffusers": "diffusers" in modules,
            }
            if reported[label]:
                row["model_load_s_median"] = statistics.median(r["model_load"] for r in reported[label])
                row["generation_s_median"] = statistics.median(r["generation"] for r in reported[label])
            results.append(row)
    default = results[1]
    return {
        "command": " ".join(["python -m benchmarks.startup", *sys.argv[1:]]),
        "machine": machine_description(),
        "repeats": repeats,
        "rows": results,
        "torch_backends_over_default": results[2]["wall_s_median"] / default["wall_s_median"],
        "targets": {
            "generate_no_video_s": {
                "target": f"<= {TARGET_S:g}",
                "value": default["wall_s_median"],
                "met": default["wall_s_median"] <= TARGET_S,
            }
        },
    }


def table(report: dict[str, object]) -> tuple[list[str], list[list[object]]]:
    """The report's markdown table: header and rows."""
    header = ["command", "wall s (median)", "min-max s", "model load s", "generation ms", "imports torch",
              "imports diffusers"]  # fmt: skip
    body = []
    for row in report["rows"]:
        load = f"{row['model_load_s_median']:.2f}" if "model_load_s_median" in row else ""
        generation = f"{1000 * row['generation_s_median']:.0f}" if "generation_s_median" in row else ""
        body.append([row["label"], f"{row['wall_s_median']:.2f}", f"{row['wall_s_min']:.2f}-{row['wall_s_max']:.2f}",
                     load, generation, "yes" if row["imports_torch"] else "no",
                     "yes" if row["imports_diffusers"] else "no"])  # fmt: skip
    return header, body


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped models)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per row (fresh processes)")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    report = run(args.models, args.repeats)
    emit(report, *table(report))
    target = report["targets"]["generate_no_video_s"]
    verdict = "met" if target["met"] else "missed"
    ratio = report["torch_backends_over_default"]
    print(f"generate --no-video: {target['value']:.2f} s (target {target['target']} s: {verdict}); "
          f"PyTorch backends take {ratio:.1f}x")  # fmt: skip
    write_json(report, args.json)


if __name__ == "__main__":
    main()
