"""ONNX Runtime's spinning policies side by side in the text-to-motion pipelines.

    python -m benchmarks.ort_spinning --models models

How ONNX Runtime's idle workers wait matters on a small CPU, where every request runs three
sessions one after another (text encoder, denoiser, VAE decoder) with PyTorch and numpy in between.
Each arm builds its own sessions under one policy (``motionlcm_node.onnx_runtime.set_spinning``) and
runs the denoisers' batches up to a size on ``OnnxDenoiser``'s single-threaded session:

* ``off, 1 thread up to batch 2`` (the default): workers sleep as soon as they have no task; the
  student's batch of 1 and the teacher's guided batch of 2 run on one thread;
* ``off, 1 thread for batch 1``: the teacher's batch of 2 on the threads;
* ``during-runs, 1 thread up to batch 2``: workers spin between the operators of a run and stop
  when it returns;
* ``during-runs, 1 thread for batch 1``;
* ``during-runs, threads at every batch``: no single-threaded session.

Every arm times the 1-step student and the teacher's DDIM 50 (``benchmarks.latency``'s rows, the
same text model, new sentences for every request) on ONNX Runtime denoisers and, unless
``--no-torch-denoisers``, on PyTorch ones, whose pipelines still encode text and decode on ONNX
Runtime. All rows of all arms go round-robin, so drifts of the machine hit them alike. Printed per
row: stage and end-to-end medians, the end-to-end time over the same row in the first arm, and per
arm and denoiser backend the teacher/student ratio of ``benchmarks.latency``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from benchmarks.latency import FreshSentences, measure
from benchmarks.latency_report import STAGES, is_plain_student_1_step, teacher_over_student
from benchmarks.latency_setup import Configuration, Settings, build_configurations, shared_text_model
from benchmarks.report import emit
from motionlcm_node.machine import machine_description
from motionlcm_node.onnx_denoiser import OnnxDenoiser
from motionlcm_node.onnx_runtime import set_spinning, spinning_policy
from motionlcm_node.onnx_text_encoder import load_text_encoder
from motionlcm_node.sampling.pipeline import MotionOutput, SentenceEncoder

ARMS = {  # arm -> (spinning policy, largest denoiser batch on the single-threaded session)
    "off, 1 thread up to batch 2": ("off", 2),
    "off, 1 thread for batch 1": ("off", 1),
    "during-runs, 1 thread up to batch 2": ("during-runs", 2),
    "during-runs, 1 thread for batch 1": ("during-runs", 1),
    "during-runs, threads at every batch": ("during-runs", 0),
}
BASELINE = next(iter(ARMS))


def _is_timed(configuration: Configuration) -> bool:
    """The plain 1-step student and the teacher rows (either denoiser backend)."""
    return configuration.label.startswith("teacher") or is_plain_student_1_step(configuration.label)


def _with_single_thread_batch(configuration: Configuration, largest: int) -> Configuration:
    """``configuration`` whose calls run with ``OnnxDenoiser.SINGLE_THREAD_BATCH = largest``.

    The attribute is read at each denoiser call, so it is set for the duration of this arm's calls
    only (the benchmark calls one configuration at a time).
    """
    inner = configuration.generate

    def generate(prompts: list[str], lengths: list[int]) -> MotionOutput:
        saved = OnnxDenoiser.SINGLE_THREAD_BATCH
        OnnxDenoiser.SINGLE_THREAD_BATCH = largest
        try:
            return inner(prompts, lengths)
        finally:
            OnnxDenoiser.SINGLE_THREAD_BATCH = saved

    configuration.generate = generate
    return configuration


def build_arms(
    models: Path, settings: Settings, device: str, encoder: SentenceEncoder | None = None
) -> list[tuple[str, Configuration]]:
    """(arm, configuration) pairs: every arm's sessions made under its own spinning policy.

    ``encoder``: one sentence encoder for every arm (default: each arm loads its own, so an ONNX
    Runtime text encoder gets that arm's policy too).
    """
    default = spinning_policy()
    threads = torch.get_num_threads()
    arms: list[tuple[str, Configuration]] = []
    try:
        for arm, (policy, largest) in ARMS.items():
            set_spinning(policy)
            text = encoder or load_text_encoder("auto", device=device, threads=threads,
                                                model_id=shared_text_model(models, settings))  # fmt: skip
            for configuration in filter(_is_timed, build_configurations(models, text, device, settings)):
                arms.append((arm, _with_single_thread_batch(configuration, largest)))
    finally:
        set_spinning(default)
    return arms


def run(
    models: Path, settings: Settings, device: str = "cpu", encoder: SentenceEncoder | None = None
) -> dict[str, object]:
    """Time every arm (``settings``: repeats, warm-up, frames, teacher steps; no throughput batches).

    Returns:
        The JSON-serialisable report (ms).
    """
    load_start = os.getloadavg()[0]
    arms = build_arms(models, settings, device, encoder)
    with torch.no_grad():
        measured = measure([configuration for _, configuration in arms], FreshSentences(), settings, device)
    rows = [{"arm": arm, **row} for (arm, _), row in zip(arms, measured, strict=True)]
    baseline = {str(row["label"]): float(row["end_to_end_ms"]) for row in rows if row["arm"] == BASELINE}
    for row in rows:
        row["end_to_end_vs_baseline"] = float(row["end_to_end_ms"]) / baseline[str(row["label"])]
    ratios = {arm: teacher_over_student([row for row in rows if row["arm"] == arm]) for arm in ARMS}
    return {
        "machine": machine_description(),
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "repeats": settings.repeats,
        "rows": rows,
        "teacher_over_student_1_step": ratios,
    }


def print_report(report: dict[str, object]) -> None:
    """JSON, the markdown table, then the ratios per arm."""
    header = ["arm", "configuration", "denoiser", *(f"{stage} ms" for stage in STAGES), "end-to-end ms",
              f"x the same row in {BASELINE!r}"]  # fmt: skip
    table = [
        [row["arm"], row["label"], row["denoiser_backend"], *(f"{row[f'{stage}_ms']:.1f}" for stage in STAGES),
         f"{row['end_to_end_ms']:.1f}", f"{row['end_to_end_vs_baseline']:.2f}"]
        for row in report["rows"]
    ]  # fmt: skip
    emit(report, header, table)
    for arm, ratios in report["teacher_over_student_1_step"].items():
        pairs = ", ".join(f"{ratio:.1f}x ({pair})" for pair, ratio in ratios.items())
        print(f"teacher / 1-step student, {arm}: {pairs}")
    load = report["load_average_1min"]
    print(f"torch threads {report['torch_threads']}, medians of {report['repeats']} interleaved batch-1 requests, "
          f"load average {load['start']:.2f} -> {load['end']:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with student/, teacher/, vae/")
    parser.add_argument("--repeats", type=int, default=30, help="timed batch-1 requests per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per row first")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--no-torch-denoisers", action="store_true", help="only the ONNX Runtime denoisers")
    args = parser.parse_args()
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1, --warmup >= 0")
    if not (args.models / "student" / "model.safetensors").is_file():
        parser.error(f"no student in {args.models / 'student'}")
    settings = Settings(repeats=args.repeats, warmup=args.warmup, batch_sizes=(), reference=False,
                        compare_torch_denoisers=not args.no_torch_denoisers)  # fmt: skip
    print_report(run(args.models, settings, args.device))


if __name__ == "__main__":
    main()
