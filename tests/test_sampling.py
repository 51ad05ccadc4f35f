"""Noise schedules and the teacher pipeline with tiny random components."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer
from motionlcm_node.runtime.decoder import TorchFeatureDecoder
from motionlcm_node.runtime.denoiser import TorchDenoiser
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline
from motionlcm_node.sampling.schedules import alphas_cumprod as alphas_cumprod_numpy
from motionlcm_node.sampling.schedules import ddim_scheduler, training_scheduler
from motionlcm_node.text.encoder import CachedTextVectors
from tests.test_networks import TINY_DENOISER, TINY_VAE

TINY_STUDENT = TINY_DENOISER.__class__(**{**TINY_DENOISER.to_dict(), "guidance_embedding": True})


def test_training_schedule_matches_the_scaled_linear_definition() -> None:
    scheduler = training_scheduler()
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    torch.testing.assert_close(scheduler.alphas_cumprod.double(), alphas_cumprod, atol=1e-6, rtol=1e-5)
    # The numpy schedule the inference path uses is diffusers' float32 one.
    np.testing.assert_allclose(alphas_cumprod_numpy(), scheduler.alphas_cumprod.numpy(), rtol=2e-6)
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
    rng = np.random.default_rng(0)
    vectors = {s: rng.standard_normal(8).astype(np.float32) for s in ["", "walk", "wave"]}
    normalizer = FeatureNormalizer(torch.zeros(263), torch.ones(263))
    decoder = TorchFeatureDecoder(MotionVAE(TINY_VAE), normalizer)
    return LatentDiffusionPipeline(
        TorchDenoiser(LatentDenoiser(TINY_DENOISER)), CachedTextVectors(vectors), decoder, 1.0
    )


def test_pipeline_honours_lengths_and_is_seeded() -> None:
    pipeline = tiny_pipeline()
    first = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=7)
    again = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=np.random.default_rng(7))
    other = pipeline(["walk", "wave"], [20, 36], num_steps=4, generator=8)
    assert first.features.shape == (2, 36, 263) and first.joints.shape == (2, 36, 22, 3)
    assert first.features.dtype == first.joints.dtype == np.float32
    assert list(first.lengths) == [20, 36]
    assert np.all(first.features[0, 20:] == 0) and np.any(first.features[0, :20] != 0)
    np.testing.assert_array_equal(first.features, again.features)
    assert not np.allclose(first.features, other.features)
    assert set(first.timings) == {"text", "denoise", "decode", "joints", "total"}


def test_guidance_one_is_the_conditional_prediction_alone() -> None:
    pipeline = tiny_pipeline()
    guided = pipeline(["walk"], [20], num_steps=3, guidance=7.5, generator=1).features
    plain = pipeline(["walk"], [20], num_steps=3, guidance=1.0, generator=1).features
    assert not np.allclose(guided, plain)
    # With w = 1 the unconditional pass cancels out: the result is conditional DDIM.
    scheduler, denoiser = pipeline.scheduler, pipeline.denoiser
    scheduler.set_timesteps(3)
    latent = np.random.default_rng(1).standard_normal((1, 2, 4), dtype=np.float32)
    text = pipeline.text_encoder.encode(["walk"])
    for timestep in scheduler.timesteps:
        noise = denoiser(latent, np.array([int(timestep)]), text)
        latent = scheduler.step(torch.from_numpy(noise), timestep, torch.from_numpy(latent)).prev_sample.numpy()
    expected = pipeline.decoder.decode_features(latent, [20])
    np.testing.assert_allclose(plain, expected, atol=1e-5)


def test_pipeline_rejects_bad_requests() -> None:
    pipeline = tiny_pipeline()
    with pytest.raises(MotionLCMError, match="one length per prompt"):
        pipeline(["walk"], [20, 30])
    with pytest.raises(MotionLCMError, match="lengths must be 4 to 196 frames"):
        pipeline(["walk"], [2])
    with pytest.raises(MotionLCMError, match="not in the vector table"):
        pipeline(["fly"], [20])
    with pytest.raises(MotionLCMError, match="needs a teacher"):
        LatentDiffusionPipeline(
            TorchDenoiser(LatentDenoiser(TINY_STUDENT)), pipeline.text_encoder, pipeline.decoder, 1.0
        )
