"""Diffusion noise schedules of the MLD / MotionLCM teacher, built on diffusers' schedulers.

Training uses a 1000-step DDPM with scaled-linear betas from 0.00085 to 0.012 and epsilon
prediction; sampling uses DDIM with the same betas (``steps_offset=1``, no final alpha of one, as
in MLD), which gives timesteps 981, 961, ..., 1 for 50 steps. diffusers is imported by the
functions that build its schedulers only: ``alphas_cumprod`` gives the inference path the same
schedule in numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from diffusers import DDIMScheduler, DDPMScheduler

NUM_TRAIN_TIMESTEPS = 1000
BETA_START = 0.00085
BETA_END = 0.012


#: The noise schedule shared by training and sampling.
_SCHEDULE = {
    "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
    "beta_start": BETA_START,
    "beta_end": BETA_END,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "clip_sample": False,
}


def schedule_settings() -> dict[str, object]:
    """The noise-schedule arguments shared by every diffusers scheduler of this project (a copy)."""
    return dict(_SCHEDULE)


def alphas_cumprod() -> np.ndarray:
    """[1000] float32 cumulative products of ``1 - beta_t`` for the scaled-linear betas, as diffusers computes them."""
    betas = np.linspace(BETA_START**0.5, BETA_END**0.5, NUM_TRAIN_TIMESTEPS, dtype=np.float32) ** 2
    return np.cumprod(1.0 - betas, dtype=np.float32)


def training_scheduler() -> DDPMScheduler:
    """The forward-noising schedule used to train the teacher."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(**_SCHEDULE)


def ddim_scheduler() -> DDIMScheduler:
    """The deterministic DDIM sampler for the teacher (eta = 0)."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(**_SCHEDULE, set_alpha_to_one=False, steps_offset=1)
