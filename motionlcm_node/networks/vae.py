"""Motion VAE of the MLD / MotionLCM family: variable-length motion <-> a fixed [L, D] latent.

Encoder: features -> tokens (optionally grouped ``temporal_patch`` frames per token), prepended
with ``2L`` learned distribution tokens, a ``SkipTransformer``; the first ``L`` outputs give the mean
and the next ``L`` the log-variance of ``L`` latent tokens of size ``D``. Decoder: one query per
(group of) frame(s) (zeros + sinusoidal positions) runs through a ``SkipTransformer`` with
cross-attention to the latent tokens, then is projected (and un-grouped) back to features.

With ``time_aligned_latent`` the latent tokens are tied to time instead: latent token ``k`` of ``L``
sits at the normalised time ``(k + 0.5) / L`` of the motion, whatever its length. The encoder runs
over the frame tokens alone and pools them into the ``L`` slots with linear-interpolation (hat)
weights; the decoder starts from the latent tokens interpolated back to one per frame token and
refines them with self-attention only. Nothing has to learn where in time a latent token belongs,
which is what the cross-attention design spends its first thousands of steps on.

Grouping frames (``temporal_patch`` > 1) is a reshape plus a linear layer, exactly local in time,
so padding frames never leak into valid ones; it divides the attention sequence length by the patch
size, which is what makes the CPU configuration fast.
"""

from __future__ import annotations

import torch
from torch import nn

from motionlcm_node.networks.config import MotionVAEConfig
from motionlcm_node.networks.layers import SkipTransformer, sinusoidal_positions

#: The ``MotionVAE`` submodules that map motion to the latent distribution (with ``distribution_tokens``
#: when the latent is not time-aligned): frozen by decoder-only fine-tunes.
ENCODER_MODULES = ("encoder_input", "encoder", "to_mean", "to_log_variance")


def _smoothing_layers(c: MotionVAEConfig) -> nn.ModuleList:
    """The residual temporal smoothing head: two convolutions, features -> width -> features (GELU between)."""
    pad = c.smoothing_kernel // 2
    return nn.ModuleList(
        [nn.Conv1d(c.feature_dim, c.width, c.smoothing_kernel, padding=pad),
         nn.Conv1d(c.width, c.feature_dim, c.smoothing_kernel, padding=pad)]
    )  # fmt: skip


def padding_mask(lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
    """[B, num_frames] bool, True on padding frames (index >= length)."""
    return torch.arange(num_frames, device=lengths.device)[None, :] >= lengths[:, None]


def time_alignment_weights(token_lengths: torch.Tensor, num_tokens: int, latent_tokens: int) -> torch.Tensor:
    """Linear-interpolation weights from ``L`` time-aligned latent tokens to frame tokens.

    Frame token ``j`` of a motion with ``n`` valid tokens sits at latent coordinate
    ``u = (j + 0.5) L / n - 0.5``, clamped to ``[0, L - 1]``; its weights are the hat function
    ``max(0, 1 - |u - k|)`` over latent tokens ``k``, so each row sums to 1.

    Args:
        token_lengths: [B] valid frame tokens per motion.
        num_tokens: N, padded number of frame tokens.
        latent_tokens: L.

    Returns:
        [B, N, L] weights (rows of padding tokens are valid weights too; callers mask them).
    """
    count = token_lengths.clamp(min=1).to(torch.float32)[:, None]
    centres = torch.arange(num_tokens, device=token_lengths.device, dtype=torch.float32)[None, :] + 0.5
    position = (centres * latent_tokens / count - 0.5).clamp(0.0, latent_tokens - 1.0)
    slots = torch.arange(latent_tokens, device=token_lengths.device, dtype=torch.float32)
    return (1.0 - (position[..., None] - slots).abs()).clamp(min=0.0)


class MotionVAE(nn.Module):
    """Variational autoencoder of normalised HumanML3D features.

    Args:
        config: network sizes.
    """

    def __init__(self, config: MotionVAEConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.encoder_input = nn.Linear(c.feature_dim * c.temporal_patch, c.width)
        if not c.time_aligned_latent:
            self.distribution_tokens = nn.Parameter(torch.randn(2 * c.latent_tokens, c.width) * 0.02)
        self.encoder = SkipTransformer(c.width, c.heads, c.ff_width, c.num_layers, c.dropout)
        self.to_mean = nn.Linear(c.width, c.latent_dim)
        self.to_log_variance = nn.Linear(c.width, c.latent_dim)
        self.latent_input = nn.Linear(c.latent_dim, c.width)
        self.decoder = SkipTransformer(
            c.width, c.heads, c.ff_width, c.num_layers, c.dropout, cross_attention=not c.time_aligned_latent
        )
        self.decoder_output = nn.Linear(c.width, c.feature_dim * c.temporal_patch)
        self.smoothing: nn.ModuleList | None = None
        if c.smoothing_kernel:
            self.smoothing = _smoothing_layers(c)

    def freeze_encoder(self) -> None:
        """Stop gradients to every encoder parameter (decoder-only fine-tuning keeps the latent space)."""
        for parameter in (p for name in ENCODER_MODULES for p in getattr(self, name).parameters()):
            parameter.requires_grad_(False)
        if not self.config.time_aligned_latent:
            self.distribution_tokens.requires_grad_(False)

    def _group(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero the padding, pad T to a multiple of the patch and group frames into tokens."""
        patch = self.config.temporal_patch
        batch, frames, dim = features.shape
        features = features.masked_fill(padding_mask(lengths, frames)[..., None], 0.0)
        groups = -(-frames // patch)
        if groups * patch != frames:
            features = nn.functional.pad(features, (0, 0, 0, groups * patch - frames))
        token_lengths = torch.div(lengths + patch - 1, patch, rounding_mode="floor")
        return features.reshape(batch, groups, patch * dim), padding_mask(token_lengths, groups)

    def encode(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior of a batch of motions.

        Args:
            features: [B, T, 263] normalised features (values past each length are ignored).
            lengths: [B] valid frames per motion.

        Returns:
            (mean, log-variance), each [B, L, D].
        """
        tokens, padding = self._group(features, lengths)
        batch, groups, _ = tokens.shape
        x = self.encoder_input(tokens) + sinusoidal_positions(groups, self.config.width, tokens.device)
        if self.config.time_aligned_latent:
            return self._encode_time_aligned(x, padding)
        distribution = self.distribution_tokens.expand(batch, -1, -1)
        x = torch.cat([distribution, x], dim=1)
        padding = torch.cat([padding.new_zeros(batch, distribution.shape[1]), padding], dim=1)
        h = self.encoder(x, padding)
        latent_tokens = self.config.latent_tokens
        mean = self.to_mean(h[:, :latent_tokens])
        log_variance = self.to_log_variance(h[:, latent_tokens : 2 * latent_tokens]).clamp(-30.0, 20.0)
        return mean, log_variance

    def _encode_time_aligned(self, x: torch.Tensor, padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder over frame tokens, then pooled into the ``L`` time slots (transposed hat weights)."""
        h = self.encoder(x, padding)
        token_lengths = (~padding).sum(dim=1)
        weights = time_alignment_weights(token_lengths, x.shape[1], self.config.latent_tokens)
        weights = weights.masked_fill(padding[..., None], 0.0).transpose(1, 2)  # [B, L, N]
        pooled = weights @ h / weights.sum(dim=2, keepdim=True).clamp(min=1e-6)
        return self.to_mean(pooled), self.to_log_variance(pooled).clamp(-30.0, 20.0)

    def decode(self, latent: torch.Tensor, lengths: torch.Tensor, num_frames: int | None = None) -> torch.Tensor:
        """Motions from latents.

        Args:
            latent: [B, L, D] latent tokens.
            lengths: [B] frames to produce per motion.
            num_frames: padded length of the output (default: the longest length).

        Returns:
            [B, T, 263] normalised features, zero past each length.
        """
        patch, width = self.config.temporal_patch, self.config.width
        frames = int(lengths.max()) if num_frames is None else num_frames
        groups = -(-frames // patch)
        token_lengths = torch.div(lengths + patch - 1, patch, rounding_mode="floor")
        positions = sinusoidal_positions(groups, width, latent.device)
        if self.config.time_aligned_latent:
            weights = time_alignment_weights(token_lengths, groups, self.config.latent_tokens)
            h = self.decoder(weights @ self.latent_input(latent) + positions, padding_mask(token_lengths, groups))
        else:
            memory = self.latent_input(latent) + sinusoidal_positions(latent.shape[1], width, latent.device)
            queries = positions.expand(latent.shape[0], -1, -1)
            h = self.decoder(queries, padding_mask(token_lengths, groups), memory=memory)
        out = self.decoder_output(h).reshape(latent.shape[0], groups * patch, -1)[:, :frames]
        padding = padding_mask(lengths, frames)[..., None]
        out = out.masked_fill(padding, 0.0)
        if self.smoothing is not None:
            # Padding is zeroed before every temporal convolution, so valid frames never see it.
            first, second = self.smoothing
            hidden = nn.functional.gelu(first(out.transpose(1, 2)))
            hidden = second(hidden.masked_fill(padding.transpose(1, 2), 0.0))
            out = (out + hidden.transpose(1, 2)).masked_fill(padding, 0.0)
        return out

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor, sample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, sample (or take the mean) and decode.

        Returns:
            (reconstruction [B, T, 263], mean [B, L, D], log-variance [B, L, D]).
        """
        mean, log_variance = self.encode(features, lengths)
        latent = mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance) if sample else mean
        return self.decode(latent, lengths, features.shape[1]), mean, log_variance
