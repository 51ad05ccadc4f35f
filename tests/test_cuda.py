"""On a CUDA device the shipped pipelines give what they give on the CPU, and training runs there.

CI has no GPU, so these tests skip there; on a GPU machine run ``pytest tests/test_cuda.py``.
Sentence vectors are fixed random unit vectors (the check compares CPU with CUDA on the same
inputs), so no text model is needed. Tolerances: cuDNN runs the decoder's smoothing convolutions
in TF32 by default (10-bit mantissa), so decoded features differ from the CPU's at the 1e-3 level;
joints integrate the root velocity over up to 196 frames, hence centimetres, not micrometres.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motionlcm_node.loading.models import load_vae
from motionlcm_node.networks.config import MotionVAEConfig
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.output import MotionOutput
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT, CachedTextVectors

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

MODELS = Path(__file__).resolve().parents[1] / "models"
PROMPTS = ("a person waves with the right hand", "someone jumps in place", "a person walks in a circle")
LENGTHS = (196, 120, 60)
POSE_TOLERANCE_M = 0.01  # root-relative joints
TRAJECTORY_TOLERANCE_M = 0.05  # world-frame joints, root velocity integrated over 196 frames


def random_sentence_vectors(dim: int = 384) -> CachedTextVectors:
    """Fixed unit vectors for ``PROMPTS`` and the unconditional sentence."""
    generator = torch.Generator().manual_seed(0)
    sentences = (*PROMPTS, UNCONDITIONAL_TEXT)
    vectors = torch.nn.functional.normalize(torch.randn(len(sentences), dim, generator=generator), dim=-1)
    return CachedTextVectors(dict(zip(sentences, vectors.numpy(), strict=True)))


def assert_same_motion(cpu: MotionOutput, cuda: MotionOutput) -> None:
    """Same lengths, finite joints, poses within a centimetre, trajectories within 5 cm."""
    assert list(cpu.lengths) == list(cuda.lengths)
    for expected, found, length in zip(cpu.joints, cuda.joints, cpu.lengths, strict=True):
        expected, found = torch.as_tensor(expected)[:length], torch.as_tensor(found)[:length].cpu()
        assert torch.isfinite(found).all()
        assert (expected - found).abs().max() < TRAJECTORY_TOLERANCE_M
        pose_expected, pose_found = expected - expected[:, :1], found - found[:, :1]
        assert (pose_expected - pose_found).abs().max() < POSE_TOLERANCE_M


@pytest.mark.parametrize("steps", [1, 2, 4])
@pytest.mark.parametrize("stabilize_feet", [False, True])
def test_shipped_student_on_cuda_matches_the_cpu(steps: int, stabilize_feet: bool) -> None:
    outputs = []
    for device in ("cpu", "cuda"):
        pipeline = MotionLCMPipeline.from_models(
            MODELS, random_sentence_vectors(), device=device, decoder_backend="torch", denoiser_backend="torch"
        )
        outputs.append(pipeline(PROMPTS, LENGTHS, num_steps=steps, generator=7, stabilize_feet=stabilize_feet))
    assert_same_motion(*outputs)


def test_shipped_teacher_on_cuda_matches_the_cpu() -> None:
    outputs = []
    for device in ("cpu", "cuda"):
        pipeline = LatentDiffusionPipeline.from_models(
            MODELS, random_sentence_vectors(), device=device, decoder_backend="torch", denoiser_backend="torch"
        )
        outputs.append(pipeline(PROMPTS, LENGTHS, num_steps=50, generator=7))
    assert_same_motion(*outputs)


def test_vae_training_step_on_cuda_matches_the_cpu() -> None:
    """One loss and gradient of the shipped VAE's size on both devices, same batch and weights."""
    torch.manual_seed(0)
    config = MotionVAEConfig.from_dict({**load_vae(MODELS / "vae")[0].config.to_dict(), "dropout": 0.0})
    features, lengths = torch.randn(4, 196, 263), torch.tensor([196, 150, 64, 24])
    losses, gradients = [], []
    reference = MotionVAE(config).state_dict()
    for device in ("cpu", "cuda"):
        model = MotionVAE(config).to(device)
        model.load_state_dict(reference)
        mean, _ = model.encode(features.to(device), lengths.to(device))
        decoded = model.decode(mean, lengths.to(device), 196)
        loss = (decoded - features.to(device)).square().mean()
        loss.backward()
        losses.append(loss.item())
        gradients.append(model.decoder_output.weight.grad.cpu())
    assert losses[0] == pytest.approx(losses[1], rel=1e-3)
    assert torch.allclose(gradients[0], gradients[1], rtol=1e-2, atol=1e-5)
