"""Text-to-motion with the latent diffusion teacher: DDIM 50 with classifier-free guidance.

The pipeline owns the denoising loop (diffusers' ``DDIMScheduler``, ``guidance.guided_ddim``); the
networks and the scheduler know nothing of each other. The teacher is the reference the student was
distilled from, used by ``motionlcm eval`` and the latency benchmark; it imports torch and diffusers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.runtime.decoder import FeatureDecoder
from motionlcm_node.runtime.denoiser import DenoiserBackend
from motionlcm_node.sampling.guidance import guided_ddim
from motionlcm_node.sampling.lcm_pipeline import MAX_FRAMES
from motionlcm_node.sampling.output import MotionOutput, as_generator, check_request, decode_motion, initial_noise
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT, SentenceEncoder

if TYPE_CHECKING:
    from diffusers import DDIMScheduler


class LatentDiffusionPipeline:
    """Teacher sampling: text -> latent (DDIM + guidance) -> VAE decode -> joints.

    Args:
        denoiser: the noise predictor (either backend).
        text_encoder: sentence encoder of the teacher's text model.
        decoder: the latent -> raw features decoder (either backend).
        latent_scale: multiply VAE latents by this before diffusion (divide after sampling).
        scheduler: a DDIM scheduler (default ``schedules.ddim_scheduler()``).
        max_frames: longest motion the VAE was trained on.
    """

    def __init__(
        self,
        denoiser: DenoiserBackend,
        text_encoder: SentenceEncoder,
        decoder: FeatureDecoder,
        latent_scale: float,
        scheduler: DDIMScheduler | None = None,
        max_frames: int = MAX_FRAMES,
    ) -> None:
        if denoiser.config.guidance_embedding:
            raise MotionLCMError("LatentDiffusionPipeline needs a teacher (a denoiser without guidance embedding)")
        self.denoiser, self.text_encoder, self.decoder = denoiser, text_encoder, decoder
        self.latent_scale, self.max_frames = latent_scale, max_frames
        self.scheduler = scheduler if scheduler is not None else ddim_scheduler()

    @classmethod
    def from_models(
        cls,
        models_dir: Path | None = None,
        text_encoder: SentenceEncoder | None = None,
        device: str = "cpu",
        decoder_backend: str = "auto",
        denoiser_backend: str = "auto",
        text_backend: str = "auto",
        threads: int = 2,
    ) -> LatentDiffusionPipeline:
        """The shipped teacher: ``models_dir/teacher`` with ``models_dir/vae`` and MiniLM.

        Args:
            models_dir: folder in the ``models/`` layout (default: ``resources.models_dir()``).
            text_encoder: an already loaded encoder of the teacher's text model (default: MiniLM on
                ``text_backend``: "auto", "onnx" or "torch").
            device: "cpu" or "cuda".
            decoder_backend: "auto", "onnx" or "torch" for the VAE decoder.
            denoiser_backend: "auto", "onnx" or "torch" for the teacher network.
            text_backend: "auto", "onnx" or "torch" for MiniLM.
            threads: ONNX Runtime intra-op threads.
        """
        from motionlcm_node.loading.models import read_denoiser_spec
        from motionlcm_node.loading.text import load_model_text_encoder
        from motionlcm_node.resources import models_dir as default_models_dir
        from motionlcm_node.runtime.decoder import load_feature_decoder
        from motionlcm_node.runtime.denoiser import load_denoiser_backend

        models = Path(models_dir) if models_dir is not None else default_models_dir()
        spec = read_denoiser_spec(models / "teacher")
        encoder = text_encoder or load_model_text_encoder(models / "teacher", text_backend, device, threads)
        decoder = load_feature_decoder(models / "vae", decoder_backend, device, threads)
        denoiser = load_denoiser_backend(models / "teacher", denoiser_backend, device, threads)
        return cls(denoiser, encoder, decoder, spec.latent_scale)

    def _noise(self, latent: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The numpy backend as a torch noise predictor for ``guided_ddim`` (CPU tensors, no copies)."""
        return torch.from_numpy(self.denoiser(latent.numpy(), timesteps.numpy(), text.numpy()))

    def __call__(
        self,
        prompts: Sequence[str],
        lengths: Sequence[int],
        num_steps: int = 50,
        guidance: float = 7.5,
        generator: np.random.Generator | int | None = None,
        stabilize_feet: bool = False,
    ) -> MotionOutput:
        """Generate one motion per prompt.

        Args:
            prompts: B sentences.
            lengths: B lengths in frames at 20 fps.
            num_steps: DDIM steps.
            guidance: classifier-free guidance scale (1 = no guidance).
            generator: numpy generator or seed for the initial noise (the same seed gives the same motion).
            stabilize_feet: correct the root trajectory so that the feet the model labels planted
                do not slide (``postprocess.foot_contacts``); the pose is unchanged.

        Returns:
            The motions and per-stage timings.

        Raises:
            MotionLCMError: a bad request.
        """
        lengths = list(lengths)
        check_request(prompts, lengths, self.max_frames)
        if num_steps < 1:
            raise MotionLCMError(f"num_steps must be at least 1, got {num_steps}")
        timings: dict[str, float] = {}
        start = time.perf_counter()
        text = torch.from_numpy(self.text_encoder.encode(list(prompts)))
        unconditional = torch.from_numpy(self.text_encoder.encode([UNCONDITIONAL_TEXT])).expand_as(text)
        timings["text"] = time.perf_counter() - start

        mark = time.perf_counter()
        config = self.denoiser.config
        noise = initial_noise(len(prompts), config.latent_tokens, config.latent_dim, as_generator(generator))
        self.scheduler.set_timesteps(num_steps)
        latent = torch.from_numpy(noise) * self.scheduler.init_noise_sigma
        with torch.inference_mode():
            latent = guided_ddim(self._noise, self.scheduler, latent, self.scheduler.timesteps, text,
                                 unconditional.contiguous(), guidance)  # fmt: skip
        timings["denoise"] = time.perf_counter() - mark
        return decode_motion(self.decoder, latent.numpy() / self.latent_scale, lengths, timings, start, stabilize_feet)
