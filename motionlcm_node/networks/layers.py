"""Building blocks shared by the VAE, the denoiser and the ControlNet.

``SkipTransformer`` is the U-Net-like transformer of the MLD/MotionLCM family: ``n`` input blocks,
one middle block and ``n`` output blocks; each output block first fuses its input with the output
of the matching input block (concatenate, then a linear layer). Blocks are pre-norm transformer
layers, self-attention only or with cross-attention to a memory. ``forward`` accepts optional
per-block residuals (added after each block, in order), which is how a ControlNet steers it.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(values: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of scalars (timesteps, guidance scales, positions).

    Args:
        values: [...] real values (e.g. integer timesteps 0..999).
        dim: output size (even).
        max_period: longest wavelength.

    Returns:
        [..., dim] ``(cos(v w_k), sin(v w_k))`` with log-spaced frequencies ``w_k``.
    """
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, device=values.device) / half)
    angles = values.float()[..., None] * frequencies
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """[length, dim] sinusoidal position embeddings (positions 0..length-1)."""
    return sinusoidal_embedding(torch.arange(length, device=device), dim)


class SkipTransformer(nn.Module):
    """U-Net-like stack of ``2 * num_side + 1`` pre-norm transformer layers with long skips.

    Args:
        width: token width.
        heads: attention heads.
        ff_width: feed-forward hidden width.
        num_layers: total layers, odd (``num_side`` in, 1 middle, ``num_side`` out).
        dropout: dropout probability.
        cross_attention: layers also attend to a memory (decoder layers).
    """

    def __init__(
        self, width: int, heads: int, ff_width: int, num_layers: int, dropout: float, cross_attention: bool = False
    ) -> None:
        super().__init__()
        if num_layers < 1 or num_layers % 2 == 0:
            raise ValueError(f"num_layers must be odd and positive, got {num_layers}")
        num_side = num_layers // 2
        layer_type = nn.TransformerDecoderLayer if cross_attention else nn.TransformerEncoderLayer

        def make_layer() -> nn.Module:
            return layer_type(width, heads, ff_width, dropout, activation="gelu", batch_first=True, norm_first=True)

        self.cross_attention = cross_attention
        self.input_blocks = nn.ModuleList(make_layer() for _ in range(num_side))
        self.middle_block = make_layer()
        self.output_blocks = nn.ModuleList(make_layer() for _ in range(num_side))
        self.skip_fusions = nn.ModuleList(nn.Linear(2 * width, width) for _ in range(num_side))
        self.final_norm = nn.LayerNorm(width)

    @property
    def num_blocks(self) -> int:
        """Number of layers (and of residual slots a ControlNet can fill)."""
        return 2 * len(self.input_blocks) + 1

    def _run_layer(self, layer: nn.Module, x: torch.Tensor, padding: torch.Tensor | None, memory: torch.Tensor | None):  # noqa: ANN202
        if self.cross_attention:
            return layer(x, memory, tgt_key_padding_mask=padding)
        return layer(x, src_key_padding_mask=padding)

    def forward(
        self,
        x: torch.Tensor,
        padding: torch.Tensor | None = None,
        memory: torch.Tensor | None = None,
        block_residuals: list[torch.Tensor] | None = None,
        return_block_outputs: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the stack.

        Args:
            x: [B, N, width] tokens.
            padding: [B, N] bool, True where a token is padding (ignored as a key).
            memory: [B, M, width] cross-attention memory (``cross_attention=True`` only).
            block_residuals: ``num_blocks`` tensors [B, N, width] added after each block in order.
            return_block_outputs: also return every block's output (ControlNet side).

        Returns:
            [B, N, width] (and the list of block outputs when asked).
        """
        if self.cross_attention and memory is None:
            raise ValueError("this SkipTransformer needs a memory")
        if block_residuals is not None and len(block_residuals) != self.num_blocks:
            raise ValueError(f"expected {self.num_blocks} block residuals, got {len(block_residuals)}")
        outputs: list[torch.Tensor] = []
        skips: list[torch.Tensor] = []
        blocks = [*self.input_blocks, self.middle_block, *self.output_blocks]
        for index, layer in enumerate(blocks):
            if index > len(self.input_blocks):
                fusion = self.skip_fusions[index - len(self.input_blocks) - 1]
                x = fusion(torch.cat([x, skips.pop()], dim=-1))
            x = self._run_layer(layer, x, padding, memory)
            if block_residuals is not None:
                x = x + block_residuals[index]
            if index < len(self.input_blocks):
                skips.append(x)
            outputs.append(x)
        x = self.final_norm(x)
        return (x, outputs) if return_block_outputs else x
