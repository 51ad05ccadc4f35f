"""Latent consistency distillation in torch: diffusers' ``LCMScheduler`` and the consistency function.

Used by training (distillation, fine-tunes, generated training latents); the inference pipeline
steps with ``lcm_scheduler.py`` instead. The step table lives in ``step_table.py``.
"""

from __future__ import annotations

import torch
from diffusers import LCMScheduler

from motionlcm_node.sampling.schedules import schedule_settings
from motionlcm_node.sampling.step_table import DEFAULT_ORIGINAL_STEPS


def lcm_scheduler(original_steps: int = DEFAULT_ORIGINAL_STEPS) -> LCMScheduler:
    """The multistep consistency sampler with the teacher's noise schedule (diffusers' ``LCMScheduler``)."""
    return LCMScheduler(**schedule_settings(), original_inference_steps=original_steps, set_alpha_to_one=False)


def clean_latent(
    alphas_cumprod: torch.Tensor, sample: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """``x0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)`` for [B, L, D] latents, ``a_t`` at each of [B] timesteps."""
    alpha = alphas_cumprod.to(sample.device)[timesteps].view(-1, 1, 1)
    return (sample - (1.0 - alpha).sqrt() * noise) / alpha.sqrt()


def consistency_output(
    scheduler: LCMScheduler, sample: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """``c_skip x + c_out x0(x, eps)``: the clean latent a consistency function maps ``sample`` [B, L, D] to.

    The boundary scalings are ``scheduler``'s (what ``LCMScheduler.step`` returns as ``denoised``);
    ``noise`` is the network's epsilon prediction at the [B] ``timesteps``.
    """
    clean = clean_latent(scheduler.alphas_cumprod, sample, noise, timesteps)
    c_skip, c_out = scheduler.get_scalings_for_boundary_condition_discrete(timesteps.float())
    return c_skip.view(-1, 1, 1) * sample + c_out.view(-1, 1, 1) * clean
