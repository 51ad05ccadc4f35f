"""Feature normalisation: the models see ``(features - mean) / std`` of their training split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from motionlcm_node.errors import MotionLCMError


@dataclass
class FeatureNormalizer:
    """HumanML3D feature statistics ([263] each): the models see ``(x - mean) / std``."""

    mean: torch.Tensor
    std: torch.Tensor

    def normalize(self, features: torch.Tensor) -> torch.Tensor:
        """Raw -> normalised features."""
        return (features - self.mean) / self.std

    def denormalize(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised -> raw features."""
        return features * self.std + self.mean

    def to(self, device: torch.device | str) -> FeatureNormalizer:
        """A copy on ``device``."""
        return FeatureNormalizer(self.mean.to(device), self.std.to(device))


def save_normalizer(normalizer: FeatureNormalizer, path: Path) -> None:
    """Write mean and std as safetensors."""
    from safetensors.torch import save_file

    save_file({"mean": normalizer.mean.cpu().contiguous(), "std": normalizer.std.cpu().contiguous()}, str(path))


def load_normalizer(path: Path) -> FeatureNormalizer:
    """Read mean and std written by ``save_normalizer``.

    Raises:
        MotionLCMError: the file is missing or unreadable.
    """
    from safetensors.torch import load_file

    try:
        stats = load_file(str(path))
    except (OSError, ValueError) as error:
        raise MotionLCMError(f"{path}: cannot load feature statistics ({error})") from None
    return FeatureNormalizer(stats["mean"], stats["std"])
