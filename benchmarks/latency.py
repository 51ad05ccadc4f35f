"""Latency and throughput of text-to-motion: MotionLCM student (1, 2, 4 steps) against the DDIM teacher.

    python -m benchmarks.latency --models models
    python -m benchmarks.latency --models models --threads 1 --repeats 20 --batch-sizes 32 256

One run, one machine, one text encoder (the offline MiniLM) for every configuration:

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
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from diffusers import LCMScheduler

from benchmarks.report import emit
from motionlcm_node.export.denoiser_onnx import export_denoiser
from motionlcm_node.export.vae_onnx import export_vae_decoder
from motionlcm_node.machine import machine_description
from motionlcm_node.model_store import FeatureNormalizer, load_denoiser, load_teacher, save_normalizer
from motionlcm_node.networks.denoiser import DenoiserConfig, LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE, MotionVAEConfig
from motionlcm_node.onnx_denoiser import Denoiser, OnnxDenoiser, backend_of, load_denoiser_backend
from motionlcm_node.onnx_runtime import wants_onnx
from motionlcm_node.sampling.consistency import default_step_table, lcm_scheduler
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline, MotionOutput, SentenceEncoder
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.training.checkpoint import save_weights
from motionlcm_node.vae_decoding import (
    FeatureDecoder,
    OnnxFeatureDecoder,
    TorchFeatureDecoder,
    load_feature_decoder,
    load_onnx_decoder,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
STAGES = ("text", "denoise", "decode", "joints")
TARGET_MS, TARGET_SPEEDUP = 30.0, 15.0
Generate = Callable[[list[str], list[int]], MotionOutput]


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


@dataclass(frozen=True)
class Settings:
    """What to time and how often.

    Attributes:
        repeats: timed batch-1 requests per configuration (and cached-text requests).
        warmup: untimed batch-1 calls first.
        batch_sizes: throughput batch sizes (sequences per call).
        throughput_repeats: timed calls per batch size, after one untimed call.
        frames: frames per sequence (20 fps; 196 = 9.8 s).
        teacher_steps: DDIM steps of the teacher.
        teacher_guidance: classifier-free guidance scale of the teacher.
        reference: also time the MotionLCM-V2-size configuration.
        random_weights: random networks of the CPU configs' sizes even when a student is shipped.
        decoder_backend: VAE decoder for every configuration: "onnx", "torch" or "auto" (ONNX when the
            student's VAE has a current export; random-weight VAEs are then exported to a temporary folder).
        denoiser_backend: the same choice for the denoisers (trained ones: their exports in the build
            folder; random-weight ones are exported to a temporary folder).
        compare_torch_denoisers: when the denoisers run on ONNX Runtime, also time the 1-step student
            and the teacher on their PyTorch denoisers.
    """

    repeats: int = 20
    warmup: int = 3
    batch_sizes: tuple[int, ...] = (32, 256)
    throughput_repeats: int = 3
    frames: int = 196
    teacher_steps: int = 50
    teacher_guidance: float = 7.5
    reference: bool = True
    random_weights: bool = False
    decoder_backend: str = "auto"
    denoiser_backend: str = "auto"
    compare_torch_denoisers: bool = True


@dataclass
class Configuration:
    """One timed configuration: how it is labelled in the report and how it generates."""

    label: str
    weights: str
    steps: int
    guidance: float
    timesteps: list[int] | None
    decoder_backend: str
    denoiser_backend: str
    generate: Generate = field(repr=False)

    def info(self) -> dict[str, object]:
        """The report fields (everything but ``generate``)."""
        return {key: value for key, value in asdict(self).items() if key != "generate"}


def _random_parts(vae_file: str, denoiser_file: str) -> tuple[MotionVAE, LatentDenoiser, LatentDenoiser]:
    """Randomly initialised VAE, teacher and student (guidance embedding) of the sizes in two configs."""
    torch.manual_seed(0)
    sections = [json.loads((CONFIG_DIR / name).read_text())["model"] for name in (vae_file, denoiser_file)]
    config = DenoiserConfig.from_dict(sections[1])
    teacher, student = LatentDenoiser(config), LatentDenoiser(replace(config, guidance_embedding=True))
    return MotionVAE(MotionVAEConfig.from_dict(sections[0])), teacher, student


def _decoder_for(vae: MotionVAE, normalizer: FeatureNormalizer, backend: str, device: str) -> FeatureDecoder:
    """The decoder of an in-memory VAE on ``backend`` (ONNX: exported to a temporary folder first)."""
    if backend == "torch":
        return TorchFeatureDecoder(vae.to(device).eval(), normalizer.to(device))
    with tempfile.TemporaryDirectory(prefix="motionlcm_latency_vae_") as folder:
        save_weights(vae, Path(folder) / "model.safetensors")  # a temporary copy: no 16 MiB shipping limit
        (Path(folder) / "config.json").write_text(json.dumps({"vae": vae.config.to_dict()}))
        save_normalizer(normalizer, Path(folder) / "normalizer.safetensors")
        export_vae_decoder(Path(folder))
        return OnnxFeatureDecoder(Path(folder), device, torch.get_num_threads())  # the session holds the graph


def _denoiser_on(net: LatentDenoiser, backend: str, device: str) -> Denoiser:
    """An in-memory denoiser on ``backend`` (ONNX: exported to a temporary folder first)."""
    if backend == "torch":
        return net.to(device).eval()
    with tempfile.TemporaryDirectory(prefix="motionlcm_latency_denoiser_") as folder:
        save_weights(net, Path(folder) / "model.safetensors")
        (Path(folder) / "config.json").write_text(json.dumps({"denoiser": net.config.to_dict()}))
        report = export_denoiser(Path(folder), onnx_dir=Path(folder))
        return OnnxDenoiser(report.onnx_path, net.config, device, torch.get_num_threads())  # the session holds it


def _resolved(backend: str, device: str) -> str:
    """What "auto" means for in-memory networks: ONNX when ONNX Runtime runs on ``device``, else torch."""
    return "onnx" if wants_onnx(backend, device, torch.get_num_threads(), "in-memory network") else "torch"


def _random_student(
    vae: MotionVAE,
    net: LatentDenoiser,
    encoder: SentenceEncoder,
    device: str,
    decoder_backend: str,
    denoiser_backend: str,
) -> MotionLCMPipeline:
    identity = FeatureNormalizer(torch.zeros(263), torch.ones(263))
    decoder = _decoder_for(vae, identity, decoder_backend, device)
    return MotionLCMPipeline(
        vae.to(device), _denoiser_on(net, denoiser_backend, device), encoder, identity, 1.0, lcm_scheduler(50),
        default_step_table(50), decoder=decoder,
    )  # fmt: skip


def _with_denoiser(pipeline: MotionLCMPipeline, student: Denoiser) -> MotionLCMPipeline:
    """The same pipeline (text encoder, VAE decoder, step table) around another student network."""
    return MotionLCMPipeline(
        pipeline.vae, student, pipeline.text_encoder, pipeline.normalizer, pipeline.latent_scale,
        LCMScheduler.from_config(pipeline.scheduler.config), pipeline.step_table, pipeline.max_frames,
        decoder=pipeline.decoder,
    )  # fmt: skip


def _student_rows(
    pipeline: MotionLCMPipeline, label: str, weights: str, steps: Sequence[int], stabilize_feet: bool = False
) -> list[Configuration]:
    rows = []
    for count in (s for s in steps if s in pipeline.step_table):
        plan = pipeline.plan(count)

        def generate(prompts: list[str], lengths: list[int], count: int = count) -> MotionOutput:
            noise = torch.Generator().manual_seed(0)
            return pipeline(prompts, lengths, num_steps=count, generator=noise, stabilize_feet=stabilize_feet)

        name = f"{label}, {count} step{'s' * (count > 1)}" + (" + planted-foot fix" if stabilize_feet else "")
        decoder, denoiser = pipeline.decoder.backend, backend_of(pipeline.student)
        rows.append(Configuration(name, weights, count, plan.guidance, list(plan.timesteps), decoder, denoiser,
                                  generate))  # fmt: skip
    return rows


def _teacher_row(teacher: LatentDiffusionPipeline, label: str, weights: str, settings: Settings) -> Configuration:
    steps, guidance = settings.teacher_steps, settings.teacher_guidance

    def generate(prompts: list[str], lengths: list[int]) -> MotionOutput:
        return teacher(prompts, lengths, steps, guidance, torch.Generator().manual_seed(0))

    name = f"{label}, DDIM {steps} (w {guidance:g})"
    return Configuration(name, weights, steps, guidance, None, teacher.decoder.backend, backend_of(teacher.denoiser),
                         generate)  # fmt: skip


def build_configurations(
    models: Path, encoder: SentenceEncoder, device: str, settings: Settings
) -> list[Configuration]:
    """The timed configurations, in report order.

    Student (1, 2, 4 steps), teacher, the 1-step student with the foot fix, optionally the reference
    sizes, then (denoisers on ONNX Runtime) the 1-step student and the teacher on PyTorch denoisers.
    """
    threads = torch.get_num_threads()
    denoiser_backend = settings.denoiser_backend
    if not settings.random_weights and (models / "student" / "model.safetensors").is_file():
        student = MotionLCMPipeline.from_models(models, encoder, device, settings.decoder_backend, threads,
                                                denoiser_backend)  # fmt: skip
        student_torch = student.student
        if backend_of(student_torch) != "torch":  # the ONNX export is loaded: the torch rows need the module too
            student_torch = load_denoiser(models / "student").to(device)
        student_weights = f"trained ({models / 'student'})"
        if (models / "teacher" / "model.safetensors").is_file():
            teacher_torch = load_teacher(models / "teacher").denoiser
            teacher_weights = f"trained ({models / 'teacher'})"
            teacher_net = load_denoiser_backend(models / "teacher", teacher_torch.to(device), denoiser_backend,
                                                device, threads)  # fmt: skip
        else:
            teacher_torch = LatentDenoiser(replace(student.student.config, guidance_embedding=False))
            teacher_weights = "random weights of the student's sizes (no teacher shipped), timing only"
            teacher_net = _denoiser_on(teacher_torch, _resolved(denoiser_backend, device), device)
    else:
        vae, teacher_torch, student_torch = _random_parts("vae_cpu.json", "teacher_cpu.json")
        backend, net_backend = _resolved(settings.decoder_backend, device), _resolved(denoiser_backend, device)
        student = _random_student(vae, student_torch, encoder, device, backend, net_backend)
        teacher_net = _denoiser_on(teacher_torch, net_backend, device)
        student_weights = teacher_weights = "random weights, CPU config sizes, timing only"

    def teacher_on(net: Denoiser) -> LatentDiffusionPipeline:
        return LatentDiffusionPipeline(student.vae, net, encoder, student.normalizer, student.latent_scale,
                                       ddim_scheduler(), decoder=student.decoder)  # fmt: skip

    rows = _student_rows(student, "student", student_weights, (1, 2, 4))
    rows.append(_teacher_row(teacher_on(teacher_net), "teacher", teacher_weights, settings))
    # `motionlcm generate`'s default adds the planted-foot root correction (timed in the joints stage).
    rows += _student_rows(student, "student", student_weights, (1,), stabilize_feet=True)
    if settings.reference:
        vae, _, reference_net = _random_parts("vae_reference.json", "teacher_reference.json")
        reference = _random_student(vae, reference_net, encoder, device, student.decoder.backend,
                                    backend_of(student.student))  # fmt: skip
        note = "random weights, timing only (V2's text model is sentence-t5-large; MiniLM here)"
        rows += _student_rows(reference, "reference (MotionLCM-V2 sizes)", note, (1,))
    if settings.compare_torch_denoisers and backend_of(student.student) != "torch":
        torch_student = _with_denoiser(student, student_torch.to(device).eval())
        rows += _student_rows(torch_student, "student (torch denoiser)", student_weights, (1,))
        rows.append(_teacher_row(teacher_on(teacher_torch.to(device).eval()), "teacher (torch denoiser)",
                                 teacher_weights, settings))  # fmt: skip
    return rows


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
    times: dict[str, list[float]] = {name: [] for name in decoders}
    for index in range(repeats + 3):
        for name, decoder in decoders.items():
            start = time.perf_counter()
            decoder.decode_features(latent, [frames])
            if index >= 3:  # the first calls warm up
                times[name].append(time.perf_counter() - start)
    result = {f"{name}_ms": 1000 * statistics.median(values) for name, values in times.items()}
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
        encoder: an already loaded sentence encoder (default: the offline MiniLM, ``text_backend``).
        text_backend: "auto" (ONNX Runtime export when built, else torch), "onnx" or "torch"; the
            same encoder serves every configuration.
    """
    settings = settings or Settings()
    if threads is not None:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if encoder is None:
        from motionlcm_node.onnx_text_encoder import load_text_encoder

        encoder = load_text_encoder(text_backend, device=device, threads=torch.get_num_threads())
    load_start = os.getloadavg()[0]
    configurations = build_configurations(models, encoder, device, settings)
    with torch.no_grad():
        rows = measure(configurations, FreshSentences(), settings, device)
        decoder_comparison = compare_decoders(models, settings.frames, settings.repeats, device)
    base = rows[0]
    students = _first_per_backend(rows, _is_plain_student_1_step)  # every row is compared on its own backend
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
        "vae_decoder": sorted({row["decoder_backend"] for row in rows}),
        "denoisers": sorted({row["denoiser_backend"] for row in rows}),
        "mode": "random weights" if "random" in base["weights"] else "trained weights",
        "settings": asdict(settings),
        "rows": rows,
        "teacher_over_student_1_step_end_to_end": speedups[main_pair],
        "teacher_over_student_1_step_by_denoiser_backend": speedups,
        # What distillation itself removes: the denoising stage alone (text, decoding and joints excluded).
        "teacher_over_student_1_step_denoise_stage": teacher_over_student(rows, "denoise_ms"),
        "vae_decoder_batch1": decoder_comparison,
        "targets": targets,
    }


def teacher_over_student(rows: Sequence[dict[str, object]], key: str = "end_to_end_ms") -> dict[str, float]:
    """Teacher / 1-step student time (``key``: a row's time field) for each denoiser backend both ran on.

    Only the plain rows count (not the foot-fix or reference rows); keys are "<backend> denoisers".
    """
    student = _first_per_backend(rows, _is_plain_student_1_step, key)
    teacher = _first_per_backend(rows, lambda label: label.startswith("teacher"), key)
    return {f"{backend} denoisers": teacher[backend] / student[backend] for backend in teacher if backend in student}


def _is_plain_student_1_step(label: str) -> bool:
    """A 1-step student row without the foot fix (on either denoiser backend)."""
    return label.startswith("student") and label.endswith(", 1 step")


def _first_per_backend(
    rows: Sequence[dict[str, object]], selected: Callable[[str], bool], key: str = "end_to_end_ms"
) -> dict[str, float]:
    """``key`` of the first row per denoiser backend whose label ``selected`` accepts."""
    found: dict[str, float] = {}
    for row in rows:
        if selected(str(row["label"])):
            found.setdefault(str(row["denoiser_backend"]), float(row[key]))
    return found


def print_report(report: dict[str, object]) -> None:
    """JSON, the markdown table, then the machine, threads and the targets."""
    batches = list(report["rows"][0]["sequences_per_second"])
    header = [
        "configuration",
        "weights",
        "denoiser",
        *(f"{stage} ms" for stage in STAGES),
        "end-to-end ms (new text)",
        "end-to-end ms (cached text)",
        *(f"seq/s @ batch {b}" for b in batches),
        "x 1-step student (same denoiser backend)",
    ]
    table = [[row["label"], row["weights"], row["denoiser_backend"], *(f"{row[f'{stage}_ms']:.1f}" for stage in STAGES),
              f"{row['end_to_end_ms']:.1f}", f"{row['end_to_end_cached_text_ms']:.1f}",
              *(f"{row['sequences_per_second'][b]:.1f}" for b in batches),
              f"{row['end_to_end_vs_student_1_step']:.1f}"] for row in report["rows"]]  # fmt: skip
    emit(report, header, table)
    load, settings = report["load_average_1min"], report["settings"]
    print(f"Device {report['device']}, torch threads {report['torch_threads']}, text encoder "
          f"{report['text_encoder']}, VAE decoder {'/'.join(report['vae_decoder'])}, denoisers "
          f"{'/'.join(report['denoisers'])}, {settings['frames']} frames per "
          f"sequence at batch 1, medians of {settings['repeats']} after {settings['warmup']} warm-up calls, "
          f"load average {load['start']:.2f} -> {load['end']:.2f}; {report['mode']}.")  # fmt: skip
    ratios = report["teacher_over_student_1_step_denoise_stage"].items()
    stage = ", ".join(f"{value:.0f}x ({pair})" for pair, value in ratios)
    print(f"Denoising stage alone, teacher over 1-step student: {stage}.")
    comparison = report["vae_decoder_batch1"]
    if comparison is not None:
        print(f"VAE decoder alone, batch 1, {settings['frames']} frames, interleaved: torch "
              f"{comparison['torch_ms']:.1f} ms, ONNX Runtime {comparison['onnx_ms']:.1f} ms "
              f"({comparison['torch_over_onnx']:.2f}x); the same export with dynamic shapes "
              f"{comparison['onnx_dynamic_shapes_ms']:.1f} ms ({comparison['dynamic_over_fixed_shapes']:.2f}x "
              "the fixed-shape session).")  # fmt: skip
    for name, target in report["targets"].items():
        verdict = "met" if target["met"] else "NOT met"
        print(f"Target {name}: {target['target']}; measured {target['value']:.1f} ({target['denoiser_backend']} "
              f"denoisers) -> {verdict}")  # fmt: skip


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
                        help="sentence encoder for every configuration (auto: the ONNX export when built)")  # fmt: skip
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
                        compare_torch_denoisers=not args.no_torch_comparison)  # fmt: skip
    report = run(args.models, settings, threads=args.threads, device=args.device, text_backend=args.text_backend)
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
