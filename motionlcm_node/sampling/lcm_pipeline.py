"""Text-to-motion with the consistency-distilled student (MotionLCM): 1-4 steps, no guidance doubling.

The guidance scale is an input of the student network, so each step is one forward pass at batch
B (the teacher needs 2B per step for classifier-free guidance, times 50 steps). Network, scheduler
and pipeline stay separate, as in diffusers: the scheduler is diffusers' ``LCMScheduler`` and the
timesteps and guidance per step count come from the student's step table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from diffusers import LCMScheduler

from motionlcm_node.data.dataset import FPS
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.model_store import FeatureNormalizer
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.onnx_denoiser import Denoiser
from motionlcm_node.sampling.consistency import StepPlan, lcm_scheduler
from motionlcm_node.sampling.pipeline import (
    MotionOutput,
    SentenceEncoder,
    check_request,
    decode_motion,
    initial_noise,
)
from motionlcm_node.vae_decoding import (
    FeatureDecoder,
    TorchFeatureDecoder,
    load_onnx_decoder,
)


def consistency_sample(
    student: Denoiser,
    scheduler: LCMScheduler,
    latent: torch.Tensor,
    plan: StepPlan,
    text: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Multistep consistency sampling: one student forward per timestep of ``plan``.

    Args:
        student: the consistency student (guidance scale as an input).
        scheduler: an ``LCMScheduler`` with the student's grid (``consistency.lcm_scheduler``).
        latent: [B, L, D] scaled noise at the first timestep.
        plan: the timesteps and guidance scale ``w``.
        text: [B, dim] sentence vectors.
        generator: noise between steps (seeded = reproducible).

    Returns:
        [B, L, D] scaled clean latents.
    """
    scales = torch.full((len(latent),), plan.guidance, device=latent.device)
    scheduler.set_timesteps(timesteps=list(plan.timesteps), device=latent.device)
    for timestep in scheduler.timesteps:
        noise = student(latent, timestep.expand(len(latent)), text, scales)
        latent = scheduler.step(noise, timestep, latent, generator=generator).prev_sample
    return latent


def lengths_from_seconds(seconds: Sequence[float], max_frames: int = 196) -> list[int]:
    """Frame counts at 20 fps for durations in seconds, each within [4, max_frames].

    Raises:
        MotionLCMError: for a non-finite or non-positive duration, or one longer than ``max_frames``.
    """
    lengths = []
    for value in seconds:
        if not math.isfinite(value) or value <= 0:
            raise MotionLCMError(f"durations must be positive seconds, got {value}")
        frames = round(value * FPS)
        if frames > max_frames:
            raise MotionLCMError(
                f"{value:g} s is {frames} frames, more than the model's {max_frames} ({max_frames / FPS:g} s); "
                "ask for a shorter motion (chaining windows into longer ones is not built yet)"
            )
        lengths.append(max(frames, 4))
    return lengths


class MotionLCMPipeline:
    """Consistency sampling: text -> latent (1-4 student steps) -> VAE decode -> joints.

    Args:
        vae: the motion VAE.
        student: a guidance-embedding denoiser distilled from the teacher.
        text_encoder: sentence encoder (the one the student was trained with).
        normalizer: feature statistics of the VAE.
        latent_scale: VAE latents times this are the diffusion latents.
        scheduler: ``consistency.lcm_scheduler(original_steps)`` of the student's distillation grid.
        step_table: timesteps and guidance per number of steps.
        max_frames: longest motion the VAE was trained on (frames at 20 fps).
        decoder: the latent -> features decoder (default: ``vae`` and ``normalizer`` on PyTorch).
    """

    def __init__(
        self,
        vae: MotionVAE,
        student: Denoiser,
        text_encoder: SentenceEncoder,
        normalizer: FeatureNormalizer,
        latent_scale: float,
        scheduler: LCMScheduler,
        step_table: dict[int, StepPlan],
        max_frames: int = 196,
        decoder: FeatureDecoder | None = None,
    ) -> None:
        if not student.config.guidance_embedding:
            raise MotionLCMError("MotionLCMPipeline needs a student with a guidance embedding")
        self.vae, self.student, self.text_encoder = vae.eval(), student.eval(), text_encoder
        self.normalizer, self.latent_scale, self.scheduler = normalizer, latent_scale, scheduler
        self.step_table, self.max_frames = dict(step_table), max_frames
        self.decoder = decoder if decoder is not None else TorchFeatureDecoder(self.vae, normalizer)

    @classmethod
    def from_models(
        cls,
        models_dir: Path,
        text_encoder: SentenceEncoder | None = None,
        device: str | torch.device = "cpu",
        decoder_backend: str = "auto",
        threads: int = 2,
        denoiser_backend: str = "auto",
    ) -> MotionLCMPipeline:
        """The shipped student: ``models_dir/student`` with ``models_dir/vae``, on ``device``.

        Args:
            models_dir: folder in the ``models/`` layout.
            text_encoder: an already loaded encoder (default: ``load_student_text_encoder``, the static
                encoder in ``models_dir/student_text`` when shipped, else the text model the student
                was trained with, through its ONNX Runtime export when built, else torch); it must
                produce that model's vectors.
            device: torch device for the networks.
            decoder_backend: VAE decoder on "onnx" (the export beside the VAE; an error when it is
                missing or stale), "torch", or "auto" (ONNX when a current export exists).
            threads: ONNX Runtime intra-op threads of the decoder, the denoiser (large batches) and the
                default text encoder.
            denoiser_backend: the student on "onnx" (its export in the build folder, ``motionlcm export
                denoiser``; an error when missing), "torch", or "auto" (ONNX when exported).
        """
        from motionlcm_node.model_store import load_student, load_vae
        from motionlcm_node.onnx_denoiser import load_denoiser_backend
        from motionlcm_node.static_text_encoder import load_student_text_encoder

        for part in ("student", "vae"):
            if not (models_dir / part / "model.safetensors").is_file():
                raise MotionLCMError(f"no {part} model in {models_dir / part}")
        bundle = load_student(models_dir / "student")
        vae, normalizer = load_vae(models_dir / "vae")
        encoder = text_encoder
        if encoder is None:
            encoder = load_student_text_encoder(models_dir, "auto", device=str(device), threads=threads)
        model_id = getattr(encoder, "vector_space", None) or getattr(encoder, "model_id", bundle.text_model)
        if model_id != bundle.text_model:
            raise MotionLCMError(f"the student was trained with text model {bundle.text_model}, not {model_id}")
        vae, normalizer = vae.to(device), normalizer.to(device)
        onnx_decoder = load_onnx_decoder(models_dir / "vae", decoder_backend, str(device), threads)
        decoder: FeatureDecoder = (
            onnx_decoder if onnx_decoder is not None else TorchFeatureDecoder(vae.eval(), normalizer)
        )
        student = load_denoiser_backend(
            models_dir / "student", bundle.denoiser.to(device), denoiser_backend, str(device), threads
        )
        return cls(
            vae, student, encoder, normalizer, bundle.latent_scale,
            lcm_scheduler(bundle.original_steps), bundle.step_table, decoder=decoder,
        )  # fmt: skip

    def plan(self, num_steps: int, guidance: float | None = None) -> StepPlan:
        """The timesteps and guidance for ``num_steps`` steps (``guidance`` overrides the table's)."""
        if num_steps not in self.step_table:
            raise MotionLCMError(f"no plan for {num_steps} steps; this student has {sorted(self.step_table)}")
        plan = self.step_table[num_steps]
        return plan if guidance is None else StepPlan(plan.timesteps, float(guidance))

    @torch.no_grad()
    def __call__(
        self,
        prompts: Sequence[str],
        lengths: Sequence[int] | None = None,
        *,
        seconds: Sequence[float] | None = None,
        num_steps: int = 1,
        guidance: float | None = None,
        generator: torch.Generator | None = None,
        stabilize_feet: bool = False,
    ) -> MotionOutput:
        """Generate one motion per prompt.

        Args:
            prompts: B sentences.
            lengths: B lengths in frames at 20 fps (or give ``seconds``).
            seconds: B durations in seconds (rounded to frames at 20 fps).
            num_steps: consistency steps (a key of the step table: 1, 2 or 4 by default).
            guidance: guidance scale given to the student (default: the table's for ``num_steps``).
            generator: torch generator for the noise (seeded = reproducible).
            stabilize_feet: correct the root trajectory so that the feet the model labels planted
                do not slide (``foot_contacts.py``); the pose is unchanged.

        Returns:
            The motions (joints in metres, Y up) and per-stage timings in seconds.
        """
        if (lengths is None) == (seconds is None):
            raise MotionLCMError("give exactly one of lengths (frames) or seconds")
        lengths = list(lengths) if lengths is not None else lengths_from_seconds(seconds, self.max_frames)
        check_request(prompts, lengths)
        if max(lengths) > self.max_frames:
            raise MotionLCMError(f"lengths must be at most {self.max_frames} frames, got {max(lengths)}")
        plan = self.plan(num_steps, guidance)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        device = self.student.device
        text = self.text_encoder.encode(list(prompts)).to(device)
        timings["text"] = time.perf_counter() - start

        mark = time.perf_counter()
        latent = initial_noise(self.student, len(prompts), generator)
        latent = consistency_sample(self.student, self.scheduler, latent, plan, text, generator)
        timings["denoise"] = time.perf_counter() - mark
        return decode_motion(self.decoder, latent / self.latent_scale, lengths, timings, start, stabilize_feet)
