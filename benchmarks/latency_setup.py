"""The configurations ``benchmarks/latency.py`` times: trained or random networks on each backend.

Each ``Configuration`` is a label for the report plus a ``generate(prompts, lengths)`` callable;
``build_configurations`` makes them in report order from a ``models/`` folder (or from random
networks of the sizes in ``config/``), on the decoder and denoiser backends ``Settings`` asks for.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from diffusers import LCMScheduler

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.denoiser_onnx import export_denoiser
from motionlcm_node.export.vae_onnx import export_vae_decoder
from motionlcm_node.model_store import FeatureNormalizer, load_denoiser, load_teacher, save_normalizer, text_model_of
from motionlcm_node.networks.denoiser import DenoiserConfig, LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE, MotionVAEConfig
from motionlcm_node.onnx_denoiser import Denoiser, OnnxDenoiser, backend_of, load_denoiser_backend
from motionlcm_node.onnx_runtime import wants_onnx
from motionlcm_node.sampling.consistency import default_step_table, lcm_scheduler
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline, MotionOutput, SentenceEncoder
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.static_text_encoder import shipped_student_text_encoder
from motionlcm_node.training.checkpoint import save_weights
from motionlcm_node.vae_decoding import FeatureDecoder, OnnxFeatureDecoder, TorchFeatureDecoder

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
Generate = Callable[[list[str], list[int]], MotionOutput]


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
        student_minilm: run the trained student on the teacher's MiniLM encoder instead of its own
            static text encoder (``models/student_text``, used when shipped).
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
    student_minilm: bool = False
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


def shared_text_model(models: Path, settings: Settings) -> str | None:
    """The text model id of the trained student and teacher in ``models`` (None: the default MiniLM).

    Raises:
        MotionLCMError: the two were trained on different text models.
    """
    if settings.random_weights:
        return None
    trained = [models / part for part in ("student", "teacher") if (models / part / "model.safetensors").is_file()]
    ids = {text_model_of(folder) for folder in trained}
    if len(ids) > 1:
        raise MotionLCMError(f"{models}: the student and the teacher use different text models {sorted(ids)}")
    return ids.pop() if ids else None


def student_text_encoder(models: Path, encoder: SentenceEncoder, settings: Settings) -> SentenceEncoder:
    """The trained student's encoder: its shipped static one (``models/student_text``), else ``encoder``."""
    if settings.random_weights or settings.student_minilm:
        return encoder
    return shipped_student_text_encoder(models) or encoder


def build_configurations(
    models: Path, encoder: SentenceEncoder, device: str, settings: Settings,
    student_encoder: SentenceEncoder | None = None,
) -> list[Configuration]:  # fmt: skip
    """The timed configurations, in report order.

    ``encoder`` serves the teacher and the timing-only configurations; the trained student runs with
    ``student_encoder`` (default: ``student_text_encoder``).

    Student (1, 2, 4 steps), teacher, the 1-step student with the foot fix, optionally the reference
    sizes, then (denoisers on ONNX Runtime) the 1-step student and the teacher on PyTorch denoisers.
    """
    threads = torch.get_num_threads()
    denoiser_backend = settings.denoiser_backend
    if not settings.random_weights and (models / "student" / "model.safetensors").is_file():
        student_encoder = student_encoder or student_text_encoder(models, encoder, settings)
        student = MotionLCMPipeline.from_models(models, student_encoder, device, settings.decoder_backend, threads,
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
