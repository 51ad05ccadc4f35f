"""Sizes of the networks, as typed dataclasses without torch (``config.json`` beside the weights).

Loading a shipped model on ONNX Runtime needs its sizes but not its PyTorch module, so the configs
live apart from the modules (``denoiser.py``, ``vae.py``), as lerobot's ``configuration_*`` files do.
Each validates itself in ``__post_init__``; ``from_dict`` rejects unknown keys (``TypeError``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from motionlcm_node.data.layout import FEATURE_DIM


@dataclass(frozen=True)
class DenoiserConfig:
    """Sizes of the latent denoiser (teacher or consistency student).

    Attributes:
        latent_tokens: L, latent tokens (must match the VAE).
        latent_dim: D, latent token size (must match the VAE).
        text_dim: size of the sentence vectors.
        width: transformer width.
        heads: attention heads.
        ff_width: feed-forward width.
        num_layers: layers (odd).
        dropout: dropout probability.
        guidance_embedding: take the guidance scale as an input (consistency student).
    """

    latent_tokens: int = 16
    latent_dim: int = 32
    text_dim: int = 384
    width: int = 256
    heads: int = 4
    ff_width: int = 1024
    num_layers: int = 9
    dropout: float = 0.1
    guidance_embedding: bool = False

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.num_layers % 2 == 0 or self.num_layers < 1:
            raise ValueError(f"num_layers must be odd, got {self.num_layers}")

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> DenoiserConfig:
        """Inverse of ``to_dict``; unknown keys raise ``TypeError``."""
        return cls(**values)


@dataclass(frozen=True)
class MotionVAEConfig:
    """Sizes of the motion VAE.

    Attributes:
        feature_dim: per-frame input size (263 for HumanML3D).
        latent_tokens: L, number of latent tokens.
        latent_dim: D, size of each latent token.
        width: transformer width.
        heads: attention heads.
        ff_width: feed-forward width.
        num_layers: layers per SkipTransformer (odd).
        dropout: dropout probability.
        temporal_patch: frames grouped into one token (1 = one token per frame).
        smoothing_kernel: kernel (frames, odd) of a residual two-layer temporal convolution on the
            decoded frames (features -> ``width`` -> features) that removes steps at token
            boundaries (0 = off).
        time_aligned_latent: tie latent token ``k`` to normalised time ``(k + 0.5) / L`` (see
            ``vae.py``) instead of learned distribution tokens and cross-attention.
    """

    feature_dim: int = FEATURE_DIM
    latent_tokens: int = 16
    latent_dim: int = 32
    width: int = 256
    heads: int = 4
    ff_width: int = 1024
    num_layers: int = 9
    dropout: float = 0.1
    temporal_patch: int = 1
    smoothing_kernel: int = 0
    time_aligned_latent: bool = False

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.num_layers % 2 == 0 or self.num_layers < 1:
            raise ValueError(f"num_layers must be odd, got {self.num_layers}")
        if min(self.latent_tokens, self.latent_dim, self.temporal_patch, self.feature_dim) < 1:
            raise ValueError("sizes must be positive")
        if self.smoothing_kernel < 0 or (self.smoothing_kernel and self.smoothing_kernel % 2 == 0):
            raise ValueError(f"smoothing_kernel must be 0 or odd, got {self.smoothing_kernel}")

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> MotionVAEConfig:
        """Inverse of ``to_dict``; unknown keys raise ``TypeError``."""
        return cls(**values)
