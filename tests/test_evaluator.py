"""The contrastive text-motion evaluator: config, shapes, padding invariance, loss."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.metrics import r_precision
from motionlcm_node.networks.evaluator import EvaluatorConfig, MotionTextEvaluator, evaluation_embeddings

TINY = EvaluatorConfig(
    latent_dim=32, width=32, num_layers=2, num_heads=4, ff_dim=64, text_hidden_dim=64, patch_frames=4
)


def tiny_model(seed: int = 0, **overrides: float) -> MotionTextEvaluator:
    torch.manual_seed(seed)
    config = EvaluatorConfig.from_dict({**TINY.to_dict(), **overrides})
    return MotionTextEvaluator(config).eval()


def random_batch(batch: int, frames: int, lengths: list[int], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lengths_tensor = torch.tensor(lengths)
    mask = torch.arange(frames)[None, :] < lengths_tensor[:, None]
    motion = torch.randn(batch, frames, 263, generator=generator) * mask[..., None]
    text_vectors = F.normalize(torch.randn(batch, 384, generator=generator), dim=-1)
    return {"motion": motion, "mask": mask, "lengths": lengths_tensor, "text_vectors": text_vectors}


def test_config_validation_and_json_round_trip() -> None:
    config = EvaluatorConfig(width=128, num_heads=8, dropout=0)
    assert isinstance(config.dropout, float)
    restored = EvaluatorConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert EvaluatorConfig.from_dict({}) == EvaluatorConfig()
    for bad in (
        {"width": 30, "num_heads": 4},
        {"num_layers": 0},
        {"latent_dim": 2.5},
        {"patch_frames": True},
        {"dropout": 1.0},
        {"temperature": 0.0},
        {"temperature": float("nan")},
        {"duplicate_threshold": -2.0},
        {"heads": 4},
    ):
        with pytest.raises(MotionLCMError):
            EvaluatorConfig.from_dict(bad)


def test_shapes_and_unit_norm() -> None:
    model = tiny_model()
    batch = random_batch(3, 21, [21, 9, 1])
    text, motion = model(batch["text_vectors"], batch["motion"], batch["mask"])
    assert text.shape == motion.shape == (3, 32)
    torch.testing.assert_close(text.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(motion.norm(dim=-1), torch.ones(3))
    with pytest.raises(ValueError, match="text vectors"):
        model.encode_text(torch.zeros(3, 100))
    with pytest.raises(ValueError, match="mask"):
        model.encode_motion(batch["motion"], batch["mask"][:, :5])
    with pytest.raises(ValueError, match="valid frame"):
        model.encode_motion(batch["motion"], torch.zeros(3, 21, dtype=torch.bool))


def test_padding_does_not_change_valid_outputs() -> None:
    model = tiny_model()
    batch = random_batch(2, 18, [18, 7])
    reference = model.encode_motion(batch["motion"], batch["mask"])
    # More padding, filled with garbage (also in the frames that were padding before).
    padded = torch.randn(2, 43, 263) * 10.0
    padded[0, :18] = batch["motion"][0]
    padded[1, :7] = batch["motion"][1, :7]
    mask = torch.arange(43)[None, :] < torch.tensor([[18], [7]])
    torch.testing.assert_close(model.encode_motion(padded, mask), reference, atol=1e-5, rtol=1e-5)
    alone = model.encode_motion(batch["motion"][1:, :7], torch.ones(1, 7, dtype=torch.bool))
    torch.testing.assert_close(alone, reference[1:], atol=1e-5, rtol=1e-5)
    # A valid frame does change the output (the test above could not pass by ignoring the input).
    changed = batch["motion"].clone()
    changed[1, 3] += 1.0
    assert not torch.allclose(model.encode_motion(changed, batch["mask"])[1], reference[1], atol=1e-4)


def test_seeded_construction_is_deterministic() -> None:
    batch = random_batch(2, 16, [16, 12])
    first = tiny_model(seed=3)(batch["text_vectors"], batch["motion"], batch["mask"])
    second = tiny_model(seed=3)(batch["text_vectors"], batch["motion"], batch["mask"])
    other = tiny_model(seed=4)(batch["text_vectors"], batch["motion"], batch["mask"])
    for a, b, c in zip(first, second, other, strict=True):
        torch.testing.assert_close(a, b, atol=0.0, rtol=0.0)
        assert not torch.allclose(a, c)


def test_loss_decreases_on_a_fixed_batch() -> None:
    model = tiny_model(dropout=0.0).train()
    batch = random_batch(8, 16, [16, 12, 8, 16, 4, 16, 12, 8], seed=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        text, motion = model(batch["text_vectors"], batch["motion"], batch["mask"])
        loss = model.contrastive_loss(text, motion, batch["text_vectors"])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and losses[-1] < 0.3 * losses[0]
    text, motion = evaluation_embeddings(model, batch)
    assert model.training  # mode restored
    assert r_precision(text, motion, pool_size=8, top_k=1)[0] == 1.0


def manual_filtered_loss(text: torch.Tensor, motion: torch.Tensor, keep: torch.Tensor, temperature: float) -> float:
    """Symmetric InfoNCE where row i only sees the columns j with keep[i, j]."""
    logits = text @ motion.T / temperature
    total = 0.0
    for matrix, allowed in ((logits, keep), (logits.T, keep.T)):
        for row in range(len(matrix)):
            total += -torch.log_softmax(matrix[row][allowed[row]], dim=0)[allowed[row][: row + 1].sum() - 1].item()
    return total / (2 * len(logits))


def test_near_duplicate_captions_are_not_negatives() -> None:
    model = tiny_model()
    generator = torch.Generator().manual_seed(0)
    text_vectors = F.normalize(torch.randn(4, 384, generator=generator), dim=-1)
    text_vectors[1] = text_vectors[0]  # two identical captions
    text_vectors[2] = F.normalize(text_vectors[0] + 0.05 * text_vectors[2], dim=-1)  # a near-duplicate
    text = F.normalize(torch.randn(4, 32, generator=generator), dim=-1)
    motion = F.normalize(torch.randn(4, 32, generator=generator), dim=-1)
    duplicates = torch.zeros(4, 4, dtype=torch.bool)
    for i in range(3):
        for j in range(3):
            duplicates[i, j] = i != j
    expected = manual_filtered_loss(text, motion, ~duplicates, model.config.temperature)
    assert model.contrastive_loss(text, motion, text_vectors).item() == pytest.approx(expected, rel=1e-5)
    unfiltered = tiny_model(duplicate_threshold=1.5)
    plain = F.cross_entropy(text @ motion.T / 0.1, torch.arange(4))
    plain = 0.5 * (plain + F.cross_entropy(motion @ text.T / 0.1, torch.arange(4)))
    assert unfiltered.contrastive_loss(text, motion, text_vectors).item() == pytest.approx(plain.item(), rel=1e-5)
    assert expected < plain.item()


def test_identical_pairs_are_not_pushed_apart() -> None:
    # Two items with the same caption and the same motion: without the filter each is the other's
    # hardest negative and their rows cannot drop below log 2; with it, a perfect fit costs ~0.
    model = tiny_model()
    text_vectors = F.normalize(torch.eye(3, 384), dim=-1)
    text_vectors[1] = text_vectors[0]
    latents = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=-1)
    latents = F.pad(latents, (0, 30))
    assert model.contrastive_loss(latents, latents, text_vectors).item() < 1e-3
    unfiltered = tiny_model(duplicate_threshold=1.5)
    assert unfiltered.contrastive_loss(latents, latents, text_vectors).item() > 0.4  # 2/3 log 2


def test_evaluation_embeddings_need_text_vectors() -> None:
    batch = random_batch(2, 8, [8, 8])
    del batch["text_vectors"]
    with pytest.raises(ValueError, match="text_vectors"):
        evaluation_embeddings(tiny_model(), batch)
