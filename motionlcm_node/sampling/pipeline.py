"""Text-to-motion with the latent diffusion teacher: DDIM sampling with classifier-free guidance.

The pipeline owns the denoising loop; the networks and the scheduler know nothing of each other.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from diffusers import DDIMScheduler

from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.model_store import FeatureNormalizer
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.onnx_denoiser import Denoiser
from motionlcm_node.sampling.foot_contacts import stabilize_foot_contacts
from motionlcm_node.text_encoder import UNCONDITIONAL_TEXT
from motionlcm_node.vae_decoding import FeatureDecoder, TorchFeatureDecoder

MIN_FRAMES = 4


class SentenceEncoder(Protocol):
    """Anything that turns sentences into [B, dim] vectors (``TextEncoder``, ``CachedTextVectors``)."""

    def encode(self, sentences: Sequence[str]) -> torch.Tensor: ...  # noqa: D102


@dataclass
class MotionOutput:
    """Generated motions.

    Attributes:
        features: [B, T, 263] un-normalised HumanML3D features, zero past each length.
        joints: [B, T, 22, 3] joint positions in metres, Y up (valid up to each length).
        lengths: [B] frames per motion (20 fps).
        timings: seconds spent per stage (``text``, ``denoise``, ``decode``, ``joints``, ``total``).
    """

    features: np.ndarray
    joints: np.ndarray
    lengths: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


def initial_noise(denoiser: Denoiser, batch: int, generator: torch.Generator | None) -> torch.Tensor:
    """[B, L, D] unit Gaussian latents on the denoiser's device, drawn on the CPU (same seed, same noise)."""
    config = denoiser.config
    noise = torch.randn(batch, config.latent_tokens, config.latent_dim, generator=generator)
    return noise.to(denoiser.device)


def check_guidance_below(value: int | None, name: str = "guidance_below") -> None:
    """Raise ``MotionLCMError`` unless ``value`` is None or a DDPM timestep in 1-1000 (``name``: for the message)."""
    if value is not None and not 1 <= value <= 1000:
        raise MotionLCMError(f"{name} must be a DDPM timestep in 1-1000, got {value}")


def check_request(prompts: Sequence[str], lengths: Sequence[int]) -> None:
    """Raise ``MotionLCMError`` unless there is one length of at least ``MIN_FRAMES`` per prompt."""
    if len(prompts) != len(lengths) or not prompts:
        raise MotionLCMError(f"need one length per prompt, got {len(prompts)} prompts, {len(lengths)} lengths")
    if min(lengths) < MIN_FRAMES:
        raise MotionLCMError(f"lengths must be at least {MIN_FRAMES} frames, got {min(lengths)}")
    if any(not isinstance(prompt, str) for prompt in prompts):
        raise MotionLCMError("prompts must be strings")


def decode_motion(
    decoder: FeatureDecoder,
    latent: torch.Tensor,
    lengths: Sequence[int],
    timings: dict[str, float],
    start: float,
    stabilize_feet: bool = False,
) -> MotionOutput:
    """VAE-decode unscaled latents [B, L, D], recover joints and finish the timings.

    Args:
        decoder: the VAE decoder (torch or ONNX Runtime backend).
        latent: [B, L, D] latents in the VAE's own scale.
        lengths: frames per motion.
        timings: per-stage seconds so far (``decode``, ``joints`` and ``total`` are added).
        start: ``time.perf_counter()`` when the request started.
        stabilize_feet: move the root so that the feet the model labels planted stand still
            (``foot_contacts.stabilize_foot_contacts``; timed with ``joints``).
    """
    mark = time.perf_counter()
    frame_counts = torch.tensor(list(lengths), device=latent.device)
    features = decoder.decode_features(latent, frame_counts).to(latent.device)
    timings["decode"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if stabilize_feet:
        features = stabilize_foot_contacts(features, frame_counts.to(features.device))
    joints = recover_joints(features)
    output = MotionOutput(features.cpu().numpy(), joints.cpu().numpy(), frame_counts.cpu().numpy(), timings)
    timings["joints"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - start
    return output


def guided_noise(
    denoiser: Denoiser,
    latent: torch.Tensor,
    timesteps: torch.Tensor,
    text: torch.Tensor,
    unconditional: torch.Tensor,
    guidance: float | torch.Tensor,
) -> torch.Tensor:
    """Classifier-free guided noise ``eps_u + w (eps_c - eps_u)``, both passes in one batch.

    Args:
        denoiser: the noise predictor.
        latent: [B, L, D] scaled latents.
        timesteps: [B] DDPM timesteps.
        text: [B, dim] sentence vectors.
        unconditional: [B, dim] vectors of the empty sentence.
        guidance: guidance scale w, one for all or [B] per item (1 = no guidance).

    Returns:
        [B, L, D] guided noise prediction.
    """
    both = denoiser(torch.cat([latent, latent]), torch.cat([timesteps, timesteps]), torch.cat([unconditional, text]))
    uncond, cond = both.chunk(2)
    scale = guidance.view(-1, 1, 1) if isinstance(guidance, torch.Tensor) else guidance
    return uncond + scale * (cond - uncond)


def guided_ddim(
    denoiser: Denoiser,
    scheduler: DDIMScheduler,
    latent: torch.Tensor,
    timesteps: torch.Tensor,
    text: torch.Tensor,
    unconditional: torch.Tensor,
    guidance: float,
    guidance_below: int | None = None,
) -> torch.Tensor:
    """DDIM steps with classifier-free guidance ``eps_u + w (eps_c - eps_u)`` over ``timesteps``.

    Args:
        denoiser: the noise predictor.
        scheduler: a DDIM scheduler whose ``set_timesteps`` has been called.
        latent: [B, L, D] scaled latents at the first of ``timesteps``.
        timesteps: the descending timesteps to step through (all of the scheduler's, or a tail).
        text: [B, dim] sentence vectors.
        unconditional: [B, dim] vectors of the empty sentence.
        guidance: guidance scale w (1 = no guidance).
        guidance_below: guide only the steps at DDPM timesteps below this; the noisier ones take the
            conditional prediction alone (one pass, w = 1). None: every step (limited-interval
            guidance, Kynkäänniemi et al. 2024; docs/models.md measures it on the teacher).

    Returns:
        [B, L, D] scaled latents after the last step.
    """
    for timestep in timesteps:
        batch_timesteps = timestep.expand(len(latent))
        if guidance_below is not None and int(timestep) >= guidance_below:
            noise = denoiser(latent, batch_timesteps, text)
        else:
            noise = guided_noise(denoiser, latent, batch_timesteps, text, unconditional, guidance)
        latent = scheduler.step(noise, timestep, latent).prev_sample
    return latent


class LatentDiffusionPipeline:
    """Teacher sampling: text -> latent (DDIM + guidance) -> VAE decode -> joints.

    Args:
        vae: the motion VAE.
        denoiser: the noise predictor.
        text_encoder: sentence encoder.
        normalizer: feature statistics.
        latent_scale: multiply VAE latents by this before diffusion (divide after sampling).
        scheduler: a DDIM scheduler (``schedules.ddim_scheduler()``).
        decoder: the latent -> features decoder (default: ``vae`` and ``normalizer`` on PyTorch).
    """

    def __init__(
        self,
        vae: MotionVAE,
        denoiser: Denoiser,
        text_encoder: SentenceEncoder,
        normalizer: FeatureNormalizer,
        latent_scale: float,
        scheduler: DDIMScheduler,
        decoder: FeatureDecoder | None = None,
    ) -> None:
        self.vae, self.denoiser, self.text_encoder = vae.eval(), denoiser.eval(), text_encoder
        self.normalizer, self.latent_scale, self.scheduler = normalizer, latent_scale, scheduler
        self.decoder = decoder if decoder is not None else TorchFeatureDecoder(self.vae, normalizer)

    @torch.no_grad()
    def __call__(
        self,
        prompts: Sequence[str],
        lengths: Sequence[int],
        num_steps: int = 50,
        guidance: float = 7.5,
        generator: torch.Generator | None = None,
        stabilize_feet: bool = False,
        guidance_below: int | None = None,
    ) -> MotionOutput:
        """Generate one motion per prompt.

        Args:
            prompts: B sentences.
            lengths: B lengths in frames at 20 fps.
            num_steps: DDIM steps.
            guidance: classifier-free guidance scale (1 = no guidance).
            generator: torch generator for the initial noise (seeded = reproducible).
            stabilize_feet: correct the root trajectory so that the feet the model labels planted
                do not slide (``foot_contacts.py``); the pose is unchanged.
            guidance_below: guide only the steps below this DDPM timestep (1-1000; None: every step).

        Returns:
            The motions and per-stage timings.

        Raises:
            MotionLCMError: a bad request or ``guidance_below`` outside 1-1000.
        """
        check_request(prompts, lengths)
        check_guidance_below(guidance_below)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        device = self.denoiser.device
        text = self.text_encoder.encode(list(prompts)).to(device)
        unconditional = self.text_encoder.encode([UNCONDITIONAL_TEXT]).to(device).expand_as(text)
        timings["text"] = time.perf_counter() - start

        mark = time.perf_counter()
        latent = initial_noise(self.denoiser, len(prompts), generator)
        self.scheduler.set_timesteps(num_steps, device=device)
        latent = latent * self.scheduler.init_noise_sigma
        latent = guided_ddim(self.denoiser, self.scheduler, latent, self.scheduler.timesteps, text, unconditional,
                             guidance, guidance_below)  # fmt: skip
        timings["denoise"] = time.perf_counter() - mark

        return decode_motion(self.decoder, latent / self.latent_scale, lengths, timings, start, stabilize_feet)
