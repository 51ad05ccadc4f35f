"""Action classifier: which of the known actions a motion shows (the command benchmark's judge).

A temporal convolution network over the per-frame features of
:mod:`motionlcm_node.evaluation.action_features` (normalised with the train split's mean and std,
stored with the weights): a stack of 1-D convolutions (two of them halve the frame rate), then the
mean and the maximum over the valid frames, then an MLP to one logit per action. Padded frames are
zeroed before every convolution and left out of the pooling, so padding never changes the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from motionlcm_node.errors import MotionLCMError


@dataclass(frozen=True)
class ActionClassifierConfig:
    """Sizes of ``ActionClassifier``.

    Attributes:
        feature_dim: features per frame.
        width: channels of every convolution.
        num_layers: convolutions (the 2nd and 3rd have stride 2).
        kernel: convolution kernel, frames.
        dropout: dropout before the output MLP.
        labels: the action names, in logit order.
    """

    feature_dim: int = 134  # evaluation.action_features.FEATURES_PER_FRAME (networks import no evaluation code)
    width: int = 128
    num_layers: int = 4
    kernel: int = 5
    dropout: float = 0.2
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.num_layers < 3 or self.kernel % 2 == 0 or len(self.labels) < 2:
            raise MotionLCMError("classifier: need num_layers >= 3, an odd kernel and at least two labels")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionClassifierConfig:
        """Inverse of :meth:`to_dict` (unknown keys are errors)."""
        known = {field.name for field in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise MotionLCMError(f"classifier config: unknown keys {sorted(unknown)}")
        return cls(**{**data, "labels": tuple(data.get("labels", ()))})


class ActionClassifier(nn.Module):
    """Features [B, T, F] (normalised) and a validity mask [B, T] -> logits [B, num_labels]."""

    def __init__(self, config: ActionClassifierConfig) -> None:
        super().__init__()
        self.config = config
        channels = [config.feature_dim] + [config.width] * config.num_layers
        self.strides = [2 if index in (1, 2) else 1 for index in range(config.num_layers)]
        self.convolutions = nn.ModuleList(
            nn.Conv1d(channels[i], channels[i + 1], config.kernel, stride=self.strides[i], padding=config.kernel // 2)
            for i in range(config.num_layers)
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(2 * config.width, config.width), nn.GELU(),
            nn.Linear(config.width, len(config.labels)),
        )  # fmt: skip

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits [B, labels] of features [B, T, F] with valid frames ``mask`` [B, T]."""
        hidden = features.transpose(1, 2)  # [B, F, T]
        valid = mask[:, None, :].to(hidden.dtype)
        for convolution, stride in zip(self.convolutions, self.strides, strict=True):
            hidden = functional.gelu(convolution(hidden * valid))
            if stride > 1:
                valid = functional.max_pool1d(valid, kernel_size=stride, stride=stride, ceil_mode=True)
                valid = valid[..., : hidden.shape[-1]]
        count = valid.sum(dim=-1).clamp(min=1.0)
        mean = (hidden * valid).sum(dim=-1) / count
        peak = hidden.masked_fill(valid == 0, float("-inf")).amax(dim=-1)
        return self.head(torch.cat([mean, peak], dim=-1))
