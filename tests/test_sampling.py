"""Noise schedules and the teacher pipeline with tiny random components."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.model_store import FeatureNormalizer
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline
from motionlcm_node.sampling.schedules import ddim_scheduler, training_scheduler
from motionlcm_node.text_encoder import CachedTextVectors
from tests.test_networks import TINY_DENOISER, TINY_VAE


def test_training_schedule_matches_the_scaled_linear_definition() -> None:
    scheduler = training_scheduler()
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    torch.testing.assert_close(scheduler.alphas_cumprod.double(), alphas_cumprod, atol=1e-6, rtol=1e-5)
    x0, noise = torch.randn(4, 2, 4), torch.randn(4, 2, 4)
    t = torch.tensor([0, 10, 500, 999])
    noisy = scheduler.add_noise(x0, noise, t)
    a = alphas_cumprod[t].float()[:, None, None]
    torch.testing.assert_close(noisy, a.sqrt() * x0 + (1 - a).sqrt() * noise, atol=1e-5, rtol=1e-5)


def test_ddim_timesteps_and_exact_denoising_with_the_true_noise() -> None:
    scheduler = ddim_scheduler()
    scheduler.set_timesteps(50)
    assert scheduler.timesteps[0] == 981 and scheduler.timesteps[-1] == 1 and len(scheduler.timesteps) == 50
    # With the exact noise as the model output, DDIM walks the deterministic path back to x0.
    x0, noise = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    train = training_scheduler()
    sample = train.add_noise(x0, noise, torch.tensor([981]))
    for t in scheduler.timesteps:
        sample = scheduler.step(noise, t, sample).prev_sample
    # The last step lands on alpha_cumprod[0] (set_alpha_to_one=False), not on the clean sample.
    expected = train.alphas_cumprod[0].sqrt() * x0 + (1 - train.alphas_cumprod[0]).sqrt() * noise
    torch.testing.assert_close(sample, expected, atol=1e-4, rtol=1e-4)


def tiny_pipeline() -> LatentDiffusionPipeline:
    torch.manual_seed(0)
    vectors = {s: torch.nn.functional.normalize(torch.randn(8), dim=0) for s in ["", "walk", "wave"]}
    normalizer = FeatureNormalizer(torch.zeros(263), torch.ones(263))
    vae, denoiser = MotionVAE(TINY_VAE), LatentDenoiser(TINY_DENOISER)
    return LatentDiffusionPipeline(vae, denoiser, CachedTextVectors(vectors), normalizer, 1.0, ddim_scheduler())


def test_pipeline_honours_lengths_and_is_seeded() -> None:
    pipeline = tiny_pipeline()
    first = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=torch.Generator().manual_seed(7))
    again = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=torch.Generator().manual_seed(7))
    other = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=torch.Generator().manual_seed(8))
    assert first.features.shape == (2, 36, 263) and first.joints.shape == (2, 36, 22, 3)
    assert list(first.lengths) == [20, 36]
    assert np.all(first.features[0, 20:] == 0) and np.any(first.features[0, :20] != 0)
    np.testing.assert_array_equal(first.features, again.features)
    assert not np.allclose(first.features, other.features)
    assert set(first.timings) == {"text", "denoise", "decode", "joints", "total"}


def test_pipeline_rejects_bad_requests() -> None:
    pipeline = tiny_pipeline()
    with pytest.raises(MotionLCMError, match="one length per prompt"):
        pipeline(["walk"], [20, 30])
    with pytest.raises(MotionLCMError, match="at least"):
        pipeline(["walk"], [2])
    with pytest.raises(MotionLCMError, match="not in the vector table"):
        pipeline(["fly"], [20])


def test_guidance_below_limits_guidance_to_the_quieter_steps() -> None:
    pipeline = tiny_pipeline()

    def sample(**settings: object) -> np.ndarray:
        noise = torch.Generator().manual_seed(3)
        return pipeline(["walk", "wave"], [20, 36], num_steps=4, guidance=7.5, generator=noise, **settings).features

    everywhere = sample()
    np.testing.assert_array_equal(sample(guidance_below=1000), everywhere)  # every DDPM timestep is below 1000
    unguided = pipeline(["walk", "wave"], [20, 36], num_steps=4, guidance=1.0,
                        generator=torch.Generator().manual_seed(3)).features  # fmt: skip
    np.testing.assert_allclose(sample(guidance_below=1), unguided, atol=1e-5)  # 4 steps: none below t = 1
    limited = sample(guidance_below=500)  # 4 DDIM steps: 751 and 501 unguided, 251 and 1 guided
    assert not np.allclose(limited, everywhere) and not np.allclose(limited, unguided)
    for bad in (0, 1001):
        with pytest.raises(MotionLCMError, match="guidance_below must be a DDPM timestep"):
            sample(guidance_below=bad)
