"""Our numpy consistency sampler against diffusers' ``LCMScheduler`` with the project's schedule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.sampling.consistency import lcm_scheduler
from motionlcm_node.sampling.lcm_scheduler import LCMScheduler, boundary_scalings
from motionlcm_node.sampling.step_table import default_step_table


class _ReplayNoise:
    """Stands in for a numpy generator and hands out the noise diffusers drew, in order."""

    def __init__(self, draws: list[np.ndarray]) -> None:
        self.draws = list(draws)

    def standard_normal(self, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        draw = self.draws.pop(0)
        assert draw.shape == tuple(shape)
        return draw.astype(dtype)


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_every_step_matches_diffusers(steps: int) -> None:
    plan = default_step_table()[steps]
    reference, ours = lcm_scheduler(), LCMScheduler()
    reference.set_timesteps(timesteps=list(plan.timesteps))
    ours.set_timesteps(plan.timesteps)
    assert ours.timesteps == tuple(int(t) for t in reference.timesteps)
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(3, 16, 32, generator=generator)
    mine = latent.numpy().copy()
    for index, timestep in enumerate(reference.timesteps):
        noise = torch.randn(3, 16, 32, generator=generator)  # a network's epsilon prediction
        step = reference.step(noise, timestep, latent, generator=generator)
        draws = []
        if index < steps - 1:  # recover the fresh noise diffusers drew, to replay it
            alpha_next = reference.alphas_cumprod[reference.timesteps[index + 1]]
            fresh = (step.prev_sample - alpha_next.sqrt() * step.denoised) / (1 - alpha_next).sqrt()
            draws.append(fresh.numpy())
        mine = ours.step(noise.numpy(), index, mine, _ReplayNoise(draws))
        latent = step.prev_sample
        np.testing.assert_allclose(mine, latent.numpy(), atol=2e-5, rtol=1e-5)
    assert mine.dtype == np.float32


def test_boundary_scalings_are_motionlcms() -> None:
    for timestep in (0, 19, 999):
        c_skip, c_out = boundary_scalings(timestep)
        reference = lcm_scheduler().get_scalings_for_boundary_condition_discrete(torch.tensor(float(timestep)))
        assert c_skip == pytest.approx(float(reference[0]), rel=1e-6)
        assert c_out == pytest.approx(float(reference[1]), rel=1e-6)
    assert boundary_scalings(0) == (1.0, 0.0)  # the identity at t = 0: the boundary condition


def test_bad_plans_and_a_missing_generator_are_clear_errors() -> None:
    scheduler = LCMScheduler()
    for bad in ([], [499, 999], [1000], [5, -1]):
        with pytest.raises(MotionLCMError, match="timesteps must"):
            scheduler.set_timesteps(bad)
    scheduler.set_timesteps([999, 499])
    latent = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(MotionLCMError, match="random generator"):
        scheduler.step(latent, 0, latent, None)
    assert scheduler.step(latent, 1, latent, None).shape == (1, 2, 4)  # the last step draws nothing
