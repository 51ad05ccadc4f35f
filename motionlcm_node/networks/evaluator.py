"""Our text-motion evaluator: a contrastive (TMR-style) pair of encoders into one latent space.

The text branch is a small MLP over a frozen sentence vector (all-MiniLM-L6-v2, 384-d, computed by
the caller); the motion branch is a transformer encoder over normalised HumanML3D features with a
learned CLS token. Frames are grouped into patches of ``patch_frames`` before the transformer to
keep attention cheap on CPU; padded frames are zeroed and patches with no valid frame are masked
out of attention, so padding never changes the embedding of the valid frames. Both latents are
L2-normalised, so the Euclidean distances of ``metrics`` rank pairs exactly as the cosine
similarities used in training do.

Training objective: symmetric InfoNCE over a batch at a fixed temperature, with negatives whose
captions are near-duplicates of the positive (cosine similarity of the sentence vectors above
``duplicate_threshold``) removed from the softmax, as in TMR (Petrovich et al. 2023).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from motionlcm_node.data.layout import FEATURE_DIM
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.layers import sinusoidal_positions


@dataclass(frozen=True)
class EvaluatorConfig:
    """Sizes and loss settings of ``MotionTextEvaluator``.

    Attributes:
        feature_dim: motion features per frame (263 for HumanML3D).
        text_dim: size of the input sentence vectors.
        latent_dim: size of the shared embedding.
        width: transformer width of the motion encoder.
        num_layers: transformer layers of the motion encoder.
        num_heads: attention heads (must divide ``width``).
        ff_dim: hidden size of the transformer feed-forward blocks.
        text_hidden_dim: hidden size of the text MLP.
        patch_frames: frames per motion token (1: one token per frame).
        dropout: dropout probability in both branches.
        temperature: InfoNCE softmax temperature.
        duplicate_threshold: captions whose sentence vectors have a cosine similarity above this
            are not used as each other's negatives (> 1 disables the filter).
    """

    feature_dim: int = FEATURE_DIM
    text_dim: int = 384
    latent_dim: int = 256
    width: int = 256
    num_layers: int = 4
    num_heads: int = 4
    ff_dim: int = 1024
    text_hidden_dim: int = 512
    patch_frames: int = 4
    dropout: float = 0.1
    temperature: float = 0.1
    duplicate_threshold: float = 0.8

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            expected = int if spec.type == "int" else float
            if isinstance(value, bool) or not isinstance(value, (int, float) if expected is float else int):
                raise MotionLCMError(f"evaluator config: {spec.name} must be {spec.type}, got {value!r}")
            if expected is int and value < 1:
                raise MotionLCMError(f"evaluator config: {spec.name} must be positive, got {value}")
            if expected is float:
                object.__setattr__(self, spec.name, float(value))
        if self.width % self.num_heads:
            raise MotionLCMError(f"evaluator config: num_heads {self.num_heads} must divide width {self.width}")
        if not 0.0 <= self.dropout < 1.0:
            raise MotionLCMError(f"evaluator config: dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 < self.temperature < math.inf:
            raise MotionLCMError(f"evaluator config: temperature must be positive, got {self.temperature}")
        if not -1.0 <= self.duplicate_threshold < math.inf:  # also rejects NaN
            raise MotionLCMError(f"evaluator config: duplicate_threshold must be >= -1, got {self.duplicate_threshold}")

    def to_dict(self) -> dict[str, int | float]:
        """Plain JSON-serialisable dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EvaluatorConfig:
        """Config from ``to_dict`` output; missing keys take defaults, unknown keys are an error."""
        unknown = set(values) - {spec.name for spec in fields(cls)}
        if unknown:
            raise MotionLCMError(f"evaluator config: unknown keys {sorted(unknown)}")
        return cls(**values)


class MotionTextEvaluator(nn.Module):
    """Text and motion encoders into a shared, L2-normalised latent space.

    Args:
        config: model sizes and loss settings.
    """

    def __init__(self, config: EvaluatorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or EvaluatorConfig()
        self.text_encoder = nn.Sequential(
            nn.Linear(config.text_dim, config.text_hidden_dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.text_hidden_dim, config.text_hidden_dim),
            nn.GELU(),
            nn.Linear(config.text_hidden_dim, config.latent_dim),
        )
        self.motion_input = nn.Linear(config.feature_dim * config.patch_frames, config.width)
        self.cls_token = nn.Parameter(torch.randn(config.width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            config.width,
            config.num_heads,
            config.ff_dim,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.motion_encoder = nn.TransformerEncoder(
            layer, config.num_layers, norm=nn.LayerNorm(config.width), enable_nested_tensor=False
        )
        self.motion_output = nn.Linear(config.width, config.latent_dim)

    def encode_text(self, text_vectors: torch.Tensor) -> torch.Tensor:
        """Embed sentence vectors.

        Args:
            text_vectors: [B, text_dim] sentence vectors (L2-normalised all-MiniLM-L6-v2 output).

        Returns:
            [B, latent_dim] unit-norm latents.
        """
        if text_vectors.ndim != 2 or text_vectors.shape[1] != self.config.text_dim:
            raise ValueError(f"expected text vectors [B, {self.config.text_dim}], got {list(text_vectors.shape)}")
        return F.normalize(self.text_encoder(text_vectors), dim=-1)

    def encode_motion(self, motion: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Embed motions.

        Args:
            motion: [B, T, feature_dim] normalised features (values on padded frames are ignored).
            mask: [B, T] bool, True on valid frames; every row needs at least one.

        Returns:
            [B, latent_dim] unit-norm latents.
        """
        batch, frames, dim = motion.shape
        if dim != self.config.feature_dim or mask.shape != (batch, frames):
            raise ValueError(
                f"expected motion [B, T, {self.config.feature_dim}] and mask [B, T], got "
                f"{list(motion.shape)}, {list(mask.shape)}"
            )
        if not bool(mask.any(dim=1).all()):
            raise ValueError("every motion needs at least one valid frame")
        patch = self.config.patch_frames
        pad = -frames % patch
        mask = F.pad(mask.bool(), (0, pad), value=False)
        motion = F.pad(motion, (0, 0, 0, pad)) * mask[..., None]
        tokens = self.motion_input(motion.reshape(batch, -1, patch * dim))  # [B, P, width]
        token_valid = mask.reshape(batch, -1, patch).any(dim=-1)
        tokens = tokens + sinusoidal_positions(tokens.shape[1], self.config.width, tokens.device)
        tokens = torch.cat([self.cls_token.expand(batch, 1, -1), tokens], dim=1)
        padding = torch.cat([token_valid.new_zeros(batch, 1), ~token_valid], dim=1)
        encoded = self.motion_encoder(tokens, src_key_padding_mask=padding)
        return F.normalize(self.motion_output(encoded[:, 0]), dim=-1)

    def forward(
        self, text_vectors: torch.Tensor, motion: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both latents: (text [B, latent_dim], motion [B, latent_dim])."""
        return self.encode_text(text_vectors), self.encode_motion(motion, mask)

    def contrastive_loss(
        self, text_latent: torch.Tensor, motion_latent: torch.Tensor, text_vectors: torch.Tensor
    ) -> torch.Tensor:
        """Symmetric InfoNCE with near-duplicate captions removed from the negatives.

        Args:
            text_latent: [B, latent_dim] unit-norm text latents.
            motion_latent: [B, latent_dim] unit-norm motion latents, row i paired with text i.
            text_vectors: [B, text_dim] the input sentence vectors (used only to find duplicates).

        Returns:
            Scalar loss: mean of the text-to-motion and motion-to-text cross-entropies (nats).
        """
        if text_latent.shape != motion_latent.shape or len(text_vectors) != len(text_latent):
            raise ValueError("text latents, motion latents and text vectors must have the same batch size")
        logits = text_latent @ motion_latent.T / self.config.temperature  # [B_text, B_motion]
        captions = F.normalize(text_vectors.detach(), dim=-1)
        duplicate = captions @ captions.T > self.config.duplicate_threshold
        duplicate.fill_diagonal_(False)
        logits = logits.masked_fill(duplicate, float("-inf"))
        targets = torch.arange(len(logits), device=logits.device)
        return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def evaluation_embeddings(model: MotionTextEvaluator, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Text and motion embeddings of a batch for the metrics, without gradients, in eval mode.

    Args:
        model: the evaluator (its train/eval mode is restored afterwards).
        batch: ``collate_motion`` output plus ``text_vectors`` [B, text_dim]; uses ``motion``
            [B, T, 263] normalised, ``mask`` [B, T] and ``text_vectors``.

    Returns:
        (text_emb [B, latent_dim], motion_emb [B, latent_dim]) float32 CPU tensors, unit norm.
    """
    missing = {"motion", "mask", "text_vectors"} - set(batch)
    if missing:
        raise ValueError(f"batch lacks {sorted(missing)}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            text, motion = model(
                batch["text_vectors"].to(device, torch.float32),
                batch["motion"].to(device, torch.float32),
                batch["mask"].to(device),
            )
    finally:
        model.train(was_training)
    return text.float().cpu(), motion.float().cpu()
