"""VAE and denoiser with tiny random sizes: shapes, padding, determinism, save/load, hooks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motionlcm_node.loading.models import load_vae
from motionlcm_node.networks.config import DenoiserConfig, MotionVAEConfig
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE, time_alignment_weights
from motionlcm_node.postprocess.normalizer import FeatureNormalizer, save_normalizer
from motionlcm_node.training.checkpoint import export_model

TINY_VAE = MotionVAEConfig(latent_tokens=2, latent_dim=4, width=32, heads=2, ff_width=64, num_layers=3)
TINY_DENOISER = DenoiserConfig(latent_tokens=2, latent_dim=4, text_dim=8, width=32, heads=2, ff_width=64, num_layers=3)


@pytest.mark.parametrize(
    ("patch", "smoothing", "aligned"), [(1, 0, False), (4, 0, False), (4, 5, False), (2, 0, True), (2, 9, True)]
)
def test_vae_shapes_and_padding_invariance(patch: int, smoothing: int, aligned: bool) -> None:
    torch.manual_seed(0)
    config = MotionVAEConfig(
        **{**TINY_VAE.to_dict(), "temporal_patch": patch, "smoothing_kernel": smoothing, "time_aligned_latent": aligned}
    )
    vae = MotionVAE(config).eval()
    motion = torch.randn(2, 30, 263)
    lengths = torch.tensor([30, 17])
    mean, log_variance = vae.encode(motion, lengths)
    assert mean.shape == log_variance.shape == (2, 2, 4)
    # Extra padding frames (with garbage in them) must not change the valid motion's latent or decoding.
    padded = torch.cat([motion, torch.randn(2, 13, 263)], dim=1)
    padded[1, 17:] = 99.0
    mean_padded, _ = vae.encode(padded, lengths)
    torch.testing.assert_close(mean_padded, mean, atol=1e-5, rtol=1e-5)
    decoded = vae.decode(mean, lengths)
    decoded_long = vae.decode(mean, lengths, num_frames=43)
    assert decoded.shape == (2, 30, 263) and decoded_long.shape == (2, 43, 263)
    torch.testing.assert_close(decoded_long[:, :30], decoded, atol=1e-5, rtol=1e-5)
    assert torch.all(decoded[1, 17:] == 0) and torch.all(decoded_long[0, 30:] == 0)


def test_time_alignment_weights_interpolate_in_normalised_time() -> None:
    weights = time_alignment_weights(torch.tensor([8, 2]), num_tokens=8, latent_tokens=4)
    assert weights.shape == (2, 8, 4)
    torch.testing.assert_close(weights.sum(dim=2), torch.ones(2, 8))
    # 8 tokens over 4 slots: token j sits at slot (j + 0.5) / 2 - 0.5, so token 1 is 3/4 of slot 0 and 1/4 of slot 1.
    torch.testing.assert_close(weights[0, 1], torch.tensor([0.75, 0.25, 0.0, 0.0]))
    torch.testing.assert_close(weights[0, 7], torch.tensor([0.0, 0.0, 0.0, 1.0]))
    # A 2-token motion spans the same slots: its second token is at slot 2.5.
    torch.testing.assert_close(weights[1, 1], torch.tensor([0.0, 0.0, 0.5, 0.5]))


def test_time_aligned_latent_token_sees_only_its_part_of_the_motion() -> None:
    torch.manual_seed(0)
    config = MotionVAEConfig(**{**TINY_VAE.to_dict(), "latent_tokens": 4, "num_layers": 1, "time_aligned_latent": True})
    vae = MotionVAE(config).eval()
    # With the transformer's attention removed, a latent slot depends only on the frames interpolated into it.
    vae.encoder.middle_block.self_attn.out_proj.weight.data.zero_()
    vae.encoder.middle_block.self_attn.out_proj.bias.data.zero_()
    motion, lengths = torch.randn(1, 16, 263), torch.tensor([16])
    changed = motion.clone()
    changed[0, 14:] += 1.0  # the last frame token, at slot 3.25 (clamped to 3): slot 3 only
    mean, changed_mean = vae.encode(motion, lengths)[0], vae.encode(changed, lengths)[0]
    torch.testing.assert_close(changed_mean[0, :3], mean[0, :3])
    assert not torch.allclose(changed_mean[0, 3], mean[0, 3])


def test_vae_is_seeded_and_round_trips_through_safetensors(tmp_path: Path) -> None:
    torch.manual_seed(1)
    vae = MotionVAE(TINY_VAE)
    torch.manual_seed(1)
    again = MotionVAE(TINY_VAE)
    for a, b in zip(vae.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    normalizer = FeatureNormalizer(torch.randn(263), torch.rand(263) + 0.5)
    export_model(vae, {"vae": TINY_VAE.to_dict()}, tmp_path / "vae")
    save_normalizer(normalizer, tmp_path / "vae" / "normalizer.safetensors")
    loaded, loaded_normalizer = load_vae(tmp_path / "vae")
    motion, lengths = torch.randn(1, 12, 263), torch.tensor([12])
    vae.eval()
    torch.testing.assert_close(loaded.encode(motion, lengths)[0], vae.encode(motion, lengths)[0])
    torch.testing.assert_close(loaded_normalizer.std, normalizer.std)


def test_vae_config_validation() -> None:
    with pytest.raises(ValueError, match="odd"):
        MotionVAEConfig(num_layers=4)
    with pytest.raises(ValueError, match="divisible"):
        MotionVAEConfig(width=30, heads=4)
    with pytest.raises(ValueError, match="odd"):
        MotionVAEConfig(smoothing_kernel=4)
    with pytest.raises(TypeError):
        MotionVAEConfig.from_dict({"widht": 3})


def test_denoiser_shapes_and_controlnet_residual_hooks() -> None:
    torch.manual_seed(0)
    denoiser = LatentDenoiser(TINY_DENOISER).eval()
    latent, text = torch.randn(3, 2, 4), torch.randn(3, 8)
    timesteps = torch.tensor([0, 500, 999])
    out = denoiser(latent, timesteps, text)
    assert out.shape == latent.shape
    blocks = denoiser.transformer.num_blocks
    zeros = [torch.zeros(3, 4, 32) for _ in range(blocks)]
    torch.testing.assert_close(denoiser(latent, timesteps, text, block_residuals=zeros), out)
    pushed = denoiser(latent, timesteps, text, block_residuals=[torch.ones(3, 4, 32)] * blocks)
    assert not torch.allclose(pushed, out)
    with pytest.raises(ValueError, match="block residuals"):
        denoiser(latent, timesteps, text, block_residuals=zeros[:-1])
    # A scalar timestep is broadcast over the batch.
    torch.testing.assert_close(denoiser(latent, torch.tensor(500), text)[1], out[1])


def test_guidance_embedding_starts_as_the_teacher() -> None:
    """Zero-initialised guidance projection: a student copied from the teacher computes the same thing."""
    torch.manual_seed(0)
    teacher = LatentDenoiser(TINY_DENOISER).eval()
    student = LatentDenoiser(DenoiserConfig(**{**TINY_DENOISER.to_dict(), "guidance_embedding": True})).eval()
    missing = student.load_state_dict(teacher.state_dict(), strict=False).missing_keys
    assert sorted(missing) == ["guidance_projection.bias", "guidance_projection.weight"]
    latent, text, t = torch.randn(2, 2, 4), torch.randn(2, 8), torch.tensor([10, 700])
    torch.testing.assert_close(student(latent, t, text, guidance=torch.tensor([5.0, 15.0])), teacher(latent, t, text))
    with pytest.raises(ValueError, match="guidance"):
        student(latent, t, text)
