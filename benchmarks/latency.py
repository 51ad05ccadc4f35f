"""Latency and throughput of text-to-motion: MotionLCM student (1, 2, 4 steps) against the DDIM teacher.

    python -m benchmarks.latency --models models
    python -m benchmarks.latency --models models --threads 1 --repeats 20 --batch-sizes 32 256

One run, one machine. The teacher and the timing-only configurations encode text with the offline
MiniLM; the trained student with its own static text encoder when ``models/student_text`` is shipped
(the student's whole request, as ``motionlcm generate`` runs it; ``--student-minilm`` puts it on
MiniLM too):

* the student in ``models/student`` at 1, 2 and 4 steps (its step table's guidance);
* the teacher in ``models/teacher``, DDIM 50 with classifier-free guidance 7.5 (random weights of the
  student's sizes when no teacher is shipped: timing does not depend on the weights);
* ``reference``: MotionLCM-V2 sizes (``config/vae_reference.json`` + ``config/teacher_reference.json``,
  the student with a guidance embedding), random weights, 1 step: timing only, not a model.

Without ``models/student`` (or with ``--random-weights``) the student, teacher and VAE are random
networks of the CPU configs' sizes (``config/vae_cpu.json``, ``config/teacher_cpu.json``), labelled so.

Every configuration uses the same VAE decoder backend (``--decoder-backend``; by default ONNX Runtime
when ``models/vae`` holds a current ``decoder.onnx``, the same as ``motionlcm generate``), so only the
text-to-latent part differs between rows. The denoisers (student, teacher, reference) run on
``--denoiser-backend`` (by default ONNX Runtime when exported, as ``motionlcm generate`` runs them);
when that is ONNX Runtime, the 1-step student and the teacher are also timed with their PyTorch
denoisers, and the teacher/student ratio is reported for each backend pair (same backend on both sides).

Batch 1 latency is for one 196-frame sequence with text encoding included: every timed request
uses a sentence the encoder has never seen, so its embedding cache cannot help; the cached-text
column repeats one sentence. Figures are medians over ``--repeats`` after ``--warmup`` calls; the
batch-1 requests go round-robin over the configurations so machine drifts affect all alike.
Throughput (sequences/s) is ``batch / median call time`` at each ``--batch-sizes`` (new sentences).

This module measures; ``latency_setup.py`` builds the configurations and ``latency_report.py`` computes
the ratios and prints the table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from benchmarks.latency_report import (
    STAGES,
    first_per_backend,
    is_plain_student_1_step,
    print_report,
    shared_stage_budget,
    teacher_over_student,
)
from benchmarks.latency_setup import (
    Configuration,
    Generate,
    Settings,
    build_configurations,
    shared_text_model,
    student_text_encoder,
)
from benchmarks.report import interleaved_medians
from motionlcm_node.machine import machine_description
from motionlcm_node.onnx_runtime import spinning_policy
from motionlcm_node.sampling.pipeline import MotionOutput, SentenceEncoder
from motionlcm_node.vae_decoding import OnnxFeatureDecoder, load_feature_decoder, load_onnx_decoder

TARGET_MS, TARGET_SPEEDUP = 30.0, 15.0
__all__ = ["Configuration", "FreshSentences", "Settings", "build_configurations", "measure", "print_report", "run"]


class FreshSentences:
    """Sentences no encoder has seen (a counter makes each unique), of a realistic length (~12 words)."""

    def __init__(self) -> None:
        self._count = itertools.count()
        self._verbs = ("walks forward", "waves with the right hand", "jumps in place", "turns left", "sits down")

    def take(self, n: int) -> list[str]:
        """``n`` new sentences."""
        out = []
        for _ in range(n):
            k = next(self._count)
            out.append(f"a person {self._verbs[k % 5]} slowly and then stops, variation number {k}")
        return out


def _timed(generate: Generate, prompts: list[str], frames: int, device: str) -> tuple[float, MotionOutput]:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    output = generate(prompts, [frames] * len(prompts))
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, output


def measure(configurations: Sequence[Configuration], sentences: FreshSentences, settings: Settings, device: str
            ) -> list[dict[str, object]]:  # fmt: skip
    """Batch-1 stage and end-to-end times (ms, medians; new and cached text) and throughput (sequences/s).

    Batch-1 requests go round-robin over the configurations (after every configuration's warm-up),
    so slow drifts of the machine (frequency, other load, first-call effects) hit all of them alike.
    """
    frames, repeats = settings.frames, settings.repeats
    for configuration in configurations:
        for _ in range(settings.warmup):
            _timed(configuration.generate, sentences.take(1), frames, device)
    totals = [[] for _ in configurations]
    stages = [{stage: [] for stage in STAGES} for _ in configurations]
    for _ in range(repeats):
        for index, configuration in enumerate(configurations):
            seconds, output = _timed(configuration.generate, sentences.take(1), frames, device)
            totals[index].append(seconds)
            for stage in STAGES:
                stages[index][stage].append(output.timings[stage])
    results = []
    for index, configuration in enumerate(configurations):
        generate = configuration.generate
        cached_prompt = sentences.take(1)
        _timed(generate, cached_prompt, frames, device)  # puts it in the cache
        cached = [_timed(generate, cached_prompt, frames, device)[0] for _ in range(repeats)]
        result: dict[str, object] = {f"{stage}_ms": 1000 * statistics.median(stages[index][stage]) for stage in STAGES}
        result["end_to_end_ms"] = 1000 * statistics.median(totals[index])
        result["end_to_end_max_ms"] = 1000 * max(totals[index])
        result["end_to_end_cached_text_ms"] = 1000 * statistics.median(cached)
        throughput = {}
        for batch in settings.batch_sizes:
            _timed(generate, sentences.take(batch), frames, device)  # warm-up at this size
            calls = [_timed(generate, sentences.take(batch), frames, device)[0]
                     for _ in range(settings.throughput_repeats)]  # fmt: skip
            throughput[str(batch)] = batch / statistics.median(calls)
        result["sequences_per_second"] = throughput
        results.append({**configuration.info(), **result})
    return results


def compare_decoders(models: Path, frames: int, repeats: int, device: str) -> dict[str, float] | None:
    """Batch-1 decode time (ms, medians) of the VAE decoders, interleaved.

    ``torch``; ``onnx`` as the pipelines run it (a fixed-shape session after the first request of a
    shape); ``onnx_dynamic_shapes``, the same export never specialised. None when ``models/vae`` has
    no current ONNX export (or ONNX Runtime cannot run on ``device``).
    """
    vae_dir = models / "vae"
    onnx_decoder = load_onnx_decoder(vae_dir, "auto", device, torch.get_num_threads())
    if onnx_decoder is None:
        return None
    decoders = {
        "torch": load_feature_decoder(vae_dir, "torch", device),
        "onnx": onnx_decoder,
        "onnx_dynamic_shapes": OnnxFeatureDecoder(vae_dir, device, torch.get_num_threads(), specialise_after=0),
    }
    config = decoders["torch"].vae.config
    latent = torch.randn(1, config.latent_tokens, config.latent_dim, generator=torch.Generator().manual_seed(0))
    latent = latent.to(device)
    calls = {
        name: (lambda decoder=decoder: decoder.decode_features(latent, [frames])) for name, decoder in decoders.items()
    }
    result = {f"{name}_ms": ms for name, ms in interleaved_medians(calls, repeats, warmup=3).items()}
    result["torch_over_onnx"] = result["torch_ms"] / result["onnx_ms"]
    result["dynamic_over_fixed_shapes"] = result["onnx_dynamic_shapes_ms"] / result["onnx_ms"]
    return result


def run(
    models: Path,
    settings: Settings | None = None,
    threads: int | None = None,
    device: str = "auto",
    encoder: SentenceEncoder | None = None,
    text_backend: str = "auto",
) -> dict[str, object]:
    """Time every configuration; returns the JSON-serialisable report (times in ms, throughput in seq/s).

    Args:
        models: folder in the ``models/`` layout (``student/``, ``vae/``, optional ``teacher/``).
        settings: what to time (default: ``Settings()``).
        threads: torch CPU threads (default: torch's).
        device: ``cpu``, ``cuda`` or ``auto``.
        encoder: an already loaded sentence encoder (default: the text model the shipped student and
            teacher were trained with, else the offline MiniLM, on ``text_backend``).
        text_backend: "auto" (ONNX Runtime export when built, else torch), "onnx" or "torch"; this
            encoder serves the teacher and every timing-only configuration; the trained student runs
            with its own static text encoder when one is shipped (``Settings.student_minilm``).

    Raises:
        MotionLCMError: a teacher and a student trained on different text models (one encoder
            could not serve both, and two would not be a like-for-like comparison).
    """
    settings = settings or Settings()
    if threads is not None:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if encoder is None:
        from motionlcm_node.onnx_text_encoder import load_text_encoder

        encoder = load_text_encoder(text_backend, device=device, threads=torch.get_num_threads(),
                                    model_id=shared_text_model(models, settings))  # fmt: skip
    load_start = os.getloadavg()[0]
    student_encoder = student_text_encoder(models, encoder, settings)
    configurations = build_configurations(models, encoder, device, settings, student_encoder)
    with torch.no_grad():
        rows = measure(configurations, FreshSentences(), settings, device)
        decoder_comparison = compare_decoders(models, settings.frames, settings.repeats, device)
    base = rows[0]
    students = first_per_backend(rows, is_plain_student_1_step)  # every row is compared on its own backend
    for row in rows:
        row["end_to_end_vs_student_1_step"] = row["end_to_end_ms"] / students[row["denoiser_backend"]]
    speedups = teacher_over_student(rows)
    main_pair = f"{base['denoiser_backend']} denoisers"
    targets = {
        "student_1_step_end_to_end_ms": {
            "target": f"<= {TARGET_MS:g}", "value": base["end_to_end_ms"], "met": base["end_to_end_ms"] <= TARGET_MS,
            "denoiser_backend": base["denoiser_backend"],
        },
    }  # fmt: skip
    for pair, speedup in speedups.items():
        key = "teacher_over_student_1_step" + ("" if pair == main_pair else f"_{pair.replace(' ', '_')}")
        targets[key] = {"target": f">= {TARGET_SPEEDUP:g}x", "value": speedup, "met": speedup >= TARGET_SPEEDUP,
                        "denoiser_backend": pair.split()[0]}  # fmt: skip
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_description(),
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "text_encoder": type(encoder).__name__,
        "student_text_encoder": type(student_encoder).__name__,
        "vae_decoder": sorted({row["decoder_backend"] for row in rows}),
        "denoisers": sorted({row["denoiser_backend"] for row in rows}),
        "onnx_runtime_spinning": spinning_policy(),
        "mode": "random weights" if "random" in base["weights"] else "trained weights",
        "settings": asdict(settings),
        "rows": rows,
        "teacher_over_student_1_step_end_to_end": speedups[main_pair],
        "teacher_over_student_1_step_by_denoiser_backend": speedups,
        # What distillation itself removes: the denoising stage alone (text, decoding and joints excluded).
        "teacher_over_student_1_step_denoise_stage": teacher_over_student(rows, "denoise_ms"),
        # The (text + decode + joints) time per request that the speed-up target leaves room for.
        "shared_stage_budget": {
            "target": TARGET_SPEEDUP,
            "by_denoiser_backend": shared_stage_budget(rows, TARGET_SPEEDUP),
        },
        "vae_decoder_batch1": decoder_comparison,
        "targets": targets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with student/, vae/, teacher/")
    parser.add_argument("--repeats", type=int, default=20, help="timed batch-1 requests per configuration")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[32, 256], help="throughput batch sizes")
    parser.add_argument("--throughput-repeats", type=int, default=3, help="timed calls per batch size")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    parser.add_argument("--text-backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="MiniLM for the teacher and the timing-only configurations (auto: the ONNX export "
                        "when built)")  # fmt: skip
    parser.add_argument("--student-minilm", action="store_true",
                        help="time the trained student on MiniLM too, not on its static text encoder")  # fmt: skip
    parser.add_argument("--decoder-backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="VAE decoder for every configuration (auto: ONNX Runtime when the VAE has a current "
                        "export)")  # fmt: skip
    parser.add_argument("--denoiser-backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="student, teacher and reference denoisers (auto: ONNX Runtime when exported)")  # fmt: skip
    parser.add_argument("--no-torch-comparison", action="store_true",
                        help="with ONNX Runtime denoisers, do not also time the PyTorch ones")  # fmt: skip
    parser.add_argument("--random-weights", action="store_true", help="random networks of the CPU configs' sizes")
    parser.add_argument("--no-reference", action="store_true", help="skip the MotionLCM-V2-size configuration")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args()
    if min(args.repeats, args.throughput_repeats, *args.batch_sizes) < 1 or args.warmup < 0:
        parser.error("--repeats, --throughput-repeats and batch sizes must be >= 1, --warmup >= 0")
    if not args.random_weights and not (args.models / "student" / "model.safetensors").is_file():
        print(f"no student in {args.models / 'student'}: timing random networks of the CPU configs' sizes",
              file=sys.stderr)  # fmt: skip
    settings = Settings(args.repeats, args.warmup, tuple(args.batch_sizes), args.throughput_repeats,
                        reference=not args.no_reference, random_weights=args.random_weights,
                        decoder_backend=args.decoder_backend, denoiser_backend=args.denoiser_backend,
                        compare_torch_denoisers=not args.no_torch_comparison,
                        student_minilm=args.student_minilm)  # fmt: skip
    report = run(args.models, settings, threads=args.threads, device=args.device, text_backend=args.text_backend)
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
