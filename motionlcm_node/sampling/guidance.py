"""Classifier-free guided DDIM in torch: the teacher's sampling loop on any denoiser callable.

Used by the teacher pipeline (through a numpy backend) and by training, which samples the teacher
to make training data (denoised pairs, generated latents, whole trajectories).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from diffusers import DDIMScheduler

#: ``denoiser(latent [B, L, D], timesteps [B], text [B, dim]) -> noise [B, L, D]``, in torch.
NoisePredictor = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def guided_noise(
    denoiser: NoisePredictor,
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
    denoiser: NoisePredictor,
    scheduler: DDIMScheduler,
    latent: torch.Tensor,
    timesteps: torch.Tensor,
    text: torch.Tensor,
    unconditional: torch.Tensor,
    guidance: float,
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

    Returns:
        [B, L, D] scaled latents after the last step.
    """
    for timestep in timesteps:
        noise = guided_noise(denoiser, latent, timestep.expand(len(latent)), text, unconditional, guidance)
        latent = scheduler.step(noise, timestep, latent).prev_sample
    return latent
