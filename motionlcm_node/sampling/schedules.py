"""Diffusion noise schedules of the MLD / MotionLCM teacher, built on diffusers' schedulers.

Training uses a 1000-step DDPM with scaled-linear betas from 0.00085 to 0.012 and epsilon
prediction; sampling uses DDIM with the same betas (``steps_offset=1``, no final alpha of one, as
in MLD), which gives timesteps 981, 961, ..., 1 for 50 steps.
"""

from __future__ import annotations

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


def training_scheduler() -> DDPMScheduler:
    """The forward-noising schedule used to train the teacher."""
    return DDPMScheduler(**_SCHEDULE)


def ddim_scheduler() -> DDIMScheduler:
    """The deterministic DDIM sampler for the teacher (eta = 0)."""
    return DDIMScheduler(**_SCHEDULE, set_alpha_to_one=False, steps_offset=1)
