"""The student's multistep consistency sampler in numpy: diffusers' ``LCMScheduler`` step, without torch.

Why our own: the inference path (``motionlcm generate``, the ROS 2 node) runs the student and the
VAE decoder on ONNX Runtime and needs nothing else from torch; importing diffusers costs ~1.5 s
(it imports ``torch._dynamo``) and torch ~1.3 s on the 2-core development machine, most of a
command's start-up (``python -m benchmarks.startup``). The arithmetic is diffusers' ``LCMScheduler``
for epsilon prediction with the project's noise schedule (``schedules.py``), and
``tests/test_lcm_scheduler.py`` checks it against diffusers step by step; training keeps using
diffusers itself (``consistency.py``).

One step at timestep ``t`` with noise prediction ``eps`` and the next plan timestep ``s``::

    x0       = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)
    denoised = c_out(t) x0 + c_skip(t) x_t        (boundary scalings, sigma_data = 0.5, t scaled by 10)
    x_s      = sqrt(a_s) denoised + sqrt(1 - a_s) z   (z ~ N(0, I); the last step returns ``denoised``)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.sampling.schedules import NUM_TRAIN_TIMESTEPS, alphas_cumprod

#: diffusers' ``LCMScheduler`` defaults (``timestep_scaling``, ``sigma_data``).
TIMESTEP_SCALING = 10.0
SIGMA_DATA = 0.5


def boundary_scalings(timestep: int) -> tuple[float, float]:
    """``(c_skip, c_out)`` of the consistency function at a DDPM timestep (diffusers' discrete form)."""
    scaled = float(timestep) * TIMESTEP_SCALING
    return SIGMA_DATA**2 / (scaled**2 + SIGMA_DATA**2), scaled / (scaled**2 + SIGMA_DATA**2) ** 0.5


class LCMScheduler:
    """Steps a latent down a consistency plan (``set_timesteps`` then ``step`` per timestep).

    Attributes:
        alphas_cumprod: [1000] float32 cumulative alphas of the noise schedule.
        timesteps: the plan's timesteps, descending (after ``set_timesteps``).
    """

    def __init__(self) -> None:
        self.alphas_cumprod = alphas_cumprod()
        self.timesteps: tuple[int, ...] = ()

    def set_timesteps(self, timesteps: Sequence[int]) -> None:
        """Use these strictly descending DDPM timesteps (a step-table plan).

        Raises:
            MotionLCMError: empty, not strictly descending, or outside 0-999.
        """
        plan = tuple(int(t) for t in timesteps)
        if not plan or any(a <= b for a, b in itertools.pairwise(plan)):
            raise MotionLCMError(f"timesteps must be strictly descending, got {list(plan)}")
        if plan[-1] < 0 or plan[0] >= NUM_TRAIN_TIMESTEPS:
            raise MotionLCMError(f"timesteps must lie in 0-{NUM_TRAIN_TIMESTEPS - 1}, got {list(plan)}")
        self.timesteps = plan

    def step(
        self, noise: np.ndarray, index: int, sample: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """The latent after plan step ``index``.

        Args:
            noise: [B, L, D] the network's epsilon prediction at ``timesteps[index]``.
            index: position in ``timesteps``.
            sample: [B, L, D] the latent at ``timesteps[index]``.
            rng: draws the fresh noise of every step but the last (required then).

        Returns:
            [B, L, D] float32: the latent at the next plan timestep, or the clean latent after the last.
        """
        timestep = self.timesteps[index]
        alpha = self.alphas_cumprod[timestep]
        clean = (sample - np.sqrt(1.0 - alpha) * noise) / np.sqrt(alpha)
        c_skip, c_out = boundary_scalings(timestep)
        denoised = (c_out * clean + c_skip * sample).astype(np.float32)
        if index == len(self.timesteps) - 1:
            return denoised
        if rng is None:
            raise MotionLCMError("a multistep plan needs a random generator for the noise between steps")
        alpha_next = self.alphas_cumprod[self.timesteps[index + 1]]
        fresh = rng.standard_normal(sample.shape, dtype=np.float32)
        return (np.sqrt(alpha_next) * denoised + np.sqrt(1.0 - alpha_next) * fresh).astype(np.float32)
