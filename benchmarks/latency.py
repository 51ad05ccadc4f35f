"""Latency and throughput of the shipped text-to-motion models: the MotionLCM student against the DDIM teacher.

    python -m benchmarks.latency                          # the shipped models on this machine
    python -m benchmarks.latency --repeats 20 --batch-sizes 32 256 --json docs/latency.json

Each request is one 196-frame sequence at batch 1, text included: every timed request uses a sentence
no encoder has seen, so no vector cache helps. Rows, all from one run on one machine:

* the student at 1, 2 and 4 steps, as ``motionlcm generate`` runs it: the command read by the language
  interpreter (MiniLM on ONNX Runtime, grounded to a known action), the caption encoded by the
  student's static text encoder, denoiser and VAE decoder on ONNX Runtime, joints smoothed; and at
  1 step with the planted-foot root fix;
* the teacher, DDIM 50 with classifier-free guidance 7.5, reading MiniLM (ONNX Runtime when
  ``motionlcm export text-encoder`` has built it), denoiser and decoder on ONNX Runtime;
* the 1-step student and the teacher with their denoiser and decoder on PyTorch.

Stage and end-to-end times are medians over ``--repeats`` batch-1 requests taken round-robin over the
rows (after ``--warmup`` calls each), so drifts of the machine hit every row alike; the last column
compares each row with the 1-step student on the same backend (for information: only the end-to-end
time of the default 1-step pipeline has a target). Throughput (sequences/s) is
``batch / median call time`` of the 1-step student at each ``--batch-sizes``. Prints the JSON report,
then a markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.report import emit, print_targets, write_json
from motionlcm_node.machine import machine_description
from motionlcm_node.sampling.output import MotionOutput

STAGES = ("text", "denoise", "decode", "joints", "total")
TARGET_MS = 25.0


@dataclass(frozen=True)
class Settings:
    """What to time and how often.

    Attributes:
        repeats: timed batch-1 requests per row.
        warmup: untimed batch-1 calls per row first.
        batch_sizes: throughput batch sizes of the 1-step student.
        throughput_repeats: timed calls per batch size, after one untimed call.
        frames: frames per sequence (20 fps; 196 = 9.8 s).
        teacher_steps: DDIM steps of the teacher.
        teacher_guidance: its classifier-free guidance scale.
        torch_rows: also time the 1-step student and the teacher on PyTorch backends.
    """

    repeats: int = 20
    warmup: int = 3
    batch_sizes: tuple[int, ...] = (32, 256)
    throughput_repeats: int = 3
    frames: int = 196
    teacher_steps: int = 50
    teacher_guidance: float = 7.5
    torch_rows: bool = True


@dataclass
class Row:
    """One timed configuration: its label, backend and a ``generate(prompts, lengths)`` call."""

    label: str
    backend: str
    generate: Callable[[list[str], list[int]], MotionOutput]
    plain_student: bool = False


class FreshSentences:
    """Sentences no encoder has seen (a counter makes each unique), of a realistic length (~12 words)."""

    def __init__(self) -> None:
        self._count = itertools.count()
        self._verbs = ("walks forward", "waves with the right hand", "bows", "turns left", "runs")

    def take(self, n: int) -> list[str]:
        """``n`` new sentences."""
        out = []
        for _ in range(n):
            k = next(self._count)
            out.append(f"a person {self._verbs[k % 5]} slowly and then stops, variation number {k}")
        return out


def build_rows(models: Path, settings: Settings, threads: int) -> list[Row]:
    """The timed configurations, in report order (see the module docstring)."""
    from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
    from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline

    student = MotionLCMPipeline.from_models(models, threads=threads)
    teacher = LatentDiffusionPipeline.from_models(models, threads=threads)
    backend = student.student.backend
    steps, guidance = settings.teacher_steps, settings.teacher_guidance
    rows = [Row("student, 1 step", backend, lambda p, n: student(p, n, num_steps=1), plain_student=True)]
    rows += [Row(f"student, {k} steps", backend, lambda p, n, k=k: student(p, n, num_steps=k)) for k in (2, 4)]
    rows.append(Row("student, 1 step + planted-foot fix", backend,
                    lambda p, n: student(p, n, num_steps=1, stabilize_feet=True)))  # fmt: skip
    rows.append(Row(f"teacher, DDIM {steps} (w {guidance:g})", teacher.denoiser.backend,
                    lambda p, n: teacher(p, n, num_steps=steps, guidance=guidance)))  # fmt: skip
    if settings.torch_rows:
        on_torch = {"denoiser_backend": "torch", "decoder_backend": "torch", "threads": threads}
        student_torch = MotionLCMPipeline.from_models(models, student.text_encoder, **on_torch)
        teacher_torch = LatentDiffusionPipeline.from_models(models, teacher.text_encoder, **on_torch)
        rows.append(Row("student, 1 step (PyTorch)", "torch", lambda p, n: student_torch(p, n, num_steps=1),
                        plain_student=True))  # fmt: skip
        rows.append(Row(f"teacher, DDIM {steps} (w {guidance:g}) (PyTorch)", "torch",
                        lambda p, n: teacher_torch(p, n, num_steps=steps, guidance=guidance)))  # fmt: skip
    return rows


def measure(rows: Sequence[Row], settings: Settings) -> list[dict[str, object]]:
    """Batch-1 stage and end-to-end medians (ms) per row, round-robin; throughput of the plain students."""
    sentences, frames = FreshSentences(), settings.frames
    for row in rows:
        for _ in range(settings.warmup):
            row.generate(sentences.take(1), [frames])
    timings: list[dict[str, list[float]]] = [{stage: [] for stage in STAGES} for _ in rows]
    for _ in range(settings.repeats):
        for index, row in enumerate(rows):
            output = row.generate(sentences.take(1), [frames])
            for stage in STAGES:
                timings[index][stage].append(output.timings[stage])
    results = []
    for row, stages in zip(rows, timings, strict=True):
        result: dict[str, object] = {"label": row.label, "backend": row.backend}
        result.update({f"{stage}_ms": 1000 * statistics.median(values) for stage, values in stages.items()})
        result["end_to_end_max_ms"] = 1000 * max(stages["total"])
        if row.plain_student:
            result["sequences_per_second"] = {
                str(batch): throughput(row, sentences, batch, settings) for batch in settings.batch_sizes
            }
        results.append(result)
    students = {r["backend"]: r["total_ms"] for r, row in zip(results, rows, strict=True) if row.plain_student}
    for result in results:
        result["vs_student_1_step"] = result["total_ms"] / students[result["backend"]]
    return results


def throughput(row: Row, sentences: FreshSentences, batch: int, settings: Settings) -> float:
    """Sequences per second of ``row`` at ``batch`` new sentences per call (median of the timed calls)."""
    row.generate(sentences.take(batch), [settings.frames] * batch)
    seconds = [row.generate(sentences.take(batch), [settings.frames] * batch).timings["total"]
               for _ in range(settings.throughput_repeats)]  # fmt: skip
    return batch / statistics.median(seconds)


def run(models: Path | None = None, settings: Settings | None = None, threads: int | None = None) -> dict[str, object]:
    """Time every row; returns the JSON-serialisable report (times in ms, throughput in sequences/s)."""
    from motionlcm_node.cli.generate_command import default_threads
    from motionlcm_node.resources import models_dir

    settings, threads = settings or Settings(), threads or default_threads()
    models = models if models is not None else models_dir()
    load_start = os.getloadavg()[0]
    rows = measure(build_rows(models, settings, threads), settings)
    speedups = {row["backend"]: row["vs_student_1_step"] for row in rows if row["label"].startswith("teacher")}
    student = rows[0]
    targets = {
        "student_1_step_ms": {"target": f"<= {TARGET_MS:g}", "value": student["total_ms"],
                              "met": student["total_ms"] <= TARGET_MS},
    }  # fmt: skip
    return {
        "command": " ".join(["python -m benchmarks.latency", *sys.argv[1:]]),
        "machine": machine_description(),
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "threads": threads,
        "settings": asdict(settings),
        "rows": rows,
        "teacher_over_student_1_step": speedups,
        "targets": targets,
    }


def table(report: dict[str, object]) -> tuple[list[str], list[list[object]]]:
    """The report's markdown table: header and rows."""
    batches = report["settings"]["batch_sizes"]
    header = ["configuration", "backend", "text ms", "denoise ms", "decode ms", "joints ms", "end-to-end ms",
              *(f"seq/s @ batch {batch}" for batch in batches), "x 1-step student"]  # fmt: skip
    body = []
    for row in report["rows"]:
        rates = row.get("sequences_per_second", {})
        body.append([row["label"], row["backend"], *(f"{row[f'{stage}_ms']:.1f}" for stage in STAGES),
                     *(f"{rates[str(batch)]:.0f}" if str(batch) in rates else "" for batch in batches),
                     f"{row['vs_student_1_step']:.1f}"])  # fmt: skip
    return header, body


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped models)")
    parser.add_argument("--repeats", type=int, default=20, help="timed batch-1 requests per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per row first")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[32, 256], help="throughput batch sizes")
    parser.add_argument("--throughput-repeats", type=int, default=3, help="timed calls per batch size")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per stage (default: cores, up to 8)")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch rows")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if min(args.repeats, args.throughput_repeats, *args.batch_sizes) < 1 or args.warmup < 0:
        parser.error("--repeats, --throughput-repeats and batch sizes must be >= 1, --warmup >= 0")
    settings = Settings(args.repeats, args.warmup, tuple(args.batch_sizes), args.throughput_repeats,
                        torch_rows=not args.no_torch)  # fmt: skip
    report = run(args.models, settings, args.threads)
    emit(report, *table(report))
    print_targets(report, digits=1)
    write_json(report, args.json)


if __name__ == "__main__":
    main()
