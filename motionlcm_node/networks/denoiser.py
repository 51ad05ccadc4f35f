"""Latent denoiser: predicts the noise in motion latents, conditioned on time and text.

Conditioning is by concatenation, as in MLD / MotionLCM: the sequence fed to a ``SkipTransformer``
is ``[latent tokens; time token; text token]`` with sinusoidal positions, and the outputs at the
latent positions are projected back to the latent size. With ``guidance_embedding`` the guidance
scale ``w`` (an input of the consistency-distilled student) is embedded sinusoidally (of ``1000 w``)
through a zero-initialised projection and added to the time token, so a student initialised from
the teacher starts out computing exactly the teacher's function.
"""

from __future__ import annotations

import torch
from torch import nn

from motionlcm_node.networks.config import DenoiserConfig
from motionlcm_node.networks.layers import SkipTransformer, sinusoidal_embedding, sinusoidal_positions


class LatentDenoiser(nn.Module):
    """Noise predictor over motion latents.

    Args:
        config: network sizes.
    """

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.latent_input = nn.Linear(c.latent_dim, c.width)
        self.time_mlp = nn.Sequential(nn.Linear(c.width, c.width), nn.SiLU(), nn.Linear(c.width, c.width))
        self.text_input = nn.Linear(c.text_dim, c.width)
        self.guidance_projection: nn.Linear | None = None
        if c.guidance_embedding:
            self.guidance_projection = nn.Linear(c.width, c.width)
            nn.init.zeros_(self.guidance_projection.weight)
            nn.init.zeros_(self.guidance_projection.bias)
        self.transformer = SkipTransformer(c.width, c.heads, c.ff_width, c.num_layers, c.dropout)
        self.latent_output = nn.Linear(c.width, c.latent_dim)

    @property
    def device(self) -> torch.device:
        """Where the weights are (the ONNX Runtime backend, ``OnnxDenoiser``, has the same attribute)."""
        return self.latent_output.weight.device

    def condition_tokens(
        self, timesteps: torch.Tensor, text: torch.Tensor, guidance: torch.Tensor | None = None
    ) -> torch.Tensor:
        """[B, 2, width] time and text tokens (shared with a ControlNet copy)."""
        time = self.time_mlp(sinusoidal_embedding(timesteps, self.config.width))
        if self.guidance_projection is not None:
            if guidance is None:
                raise ValueError("this denoiser takes a guidance scale")
            time = time + self.guidance_projection(sinusoidal_embedding(1000.0 * guidance, self.config.width))
        return torch.stack([time, self.text_input(text)], dim=1)

    def embed(
        self,
        latent: torch.Tensor,
        timesteps: torch.Tensor,
        text: torch.Tensor,
        guidance: torch.Tensor | None = None,
        latent_offset: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Input tokens [B, L + 2, width]; ``latent_offset`` [B, L, width] is added to the latent tokens."""
        tokens = self.latent_input(latent)
        if latent_offset is not None:
            tokens = tokens + latent_offset
        x = torch.cat([tokens, self.condition_tokens(timesteps, text, guidance)], dim=1)
        return x + sinusoidal_positions(x.shape[1], self.config.width, x.device)

    def forward(
        self,
        latent: torch.Tensor,
        timesteps: torch.Tensor,
        text: torch.Tensor,
        guidance: torch.Tensor | None = None,
        block_residuals: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Predict the noise.

        Args:
            latent: [B, L, D] noisy latents.
            timesteps: [B] diffusion timesteps (0..999).
            text: [B, text_dim] sentence vectors (the empty sentence's vector for "no text").
            guidance: [B] guidance scales (guidance-embedding students only).
            block_residuals: per-block residuals [B, L + 2, width] from a ControlNet.

        Returns:
            [B, L, D] predicted noise.
        """
        if timesteps.ndim == 0:
            timesteps = timesteps.expand(latent.shape[0])
        h = self.transformer(self.embed(latent, timesteps, text, guidance), block_residuals=block_residuals)
        return self.latent_output(h[:, : latent.shape[1]])
