"""Text-to-motion with the consistency-distilled student (MotionLCM): 1-4 steps, no guidance doubling.

The guidance scale is an input of the student network, so each step is one forward pass at batch
B (the teacher needs 2B per step for classifier-free guidance, times 50 steps). Network, scheduler
and pipeline stay separate, as in diffusers: the scheduler is ``lcm_scheduler.LCMScheduler`` (the
arithmetic of diffusers' scheduler, in numpy) and the timesteps and guidance per step count come
from the student's step table. On the default ONNX Runtime backends the whole call runs without torch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.postprocess.smoothing import DEFAULT_SIGMA_FRAMES
from motionlcm_node.runtime.decoder import FeatureDecoder
from motionlcm_node.runtime.denoiser import DenoiserBackend
from motionlcm_node.sampling.lcm_scheduler import LCMScheduler
from motionlcm_node.sampling.output import (
    MotionOutput,
    as_generator,
    check_request,
    decode_motion,
    initial_noise,
    lengths_from_seconds,
)
from motionlcm_node.sampling.step_table import StepPlan
from motionlcm_node.text.encoder import SentenceEncoder

if TYPE_CHECKING:
    from motionlcm_node.language.interpreter import CommandInterpreter

#: Longest motion the shipped VAE was trained on, frames at 20 fps (9.8 s).
MAX_FRAMES = 196


def consistency_sample(
    student: DenoiserBackend,
    scheduler: LCMScheduler,
    latent: np.ndarray,
    plan: StepPlan,
    text: np.ndarray,
    generator: np.random.Generator,
) -> np.ndarray:
    """Multistep consistency sampling: one student forward per timestep of ``plan``.

    Args:
        student: the consistency student (guidance scale as an input).
        scheduler: the consistency sampler.
        latent: [B, L, D] scaled noise at the first timestep.
        plan: the timesteps and guidance scale ``w``.
        text: [B, dim] sentence vectors.
        generator: noise between steps.

    Returns:
        [B, L, D] scaled clean latents.
    """
    batch = len(latent)
    scales = np.full(batch, plan.guidance, np.float32)
    scheduler.set_timesteps(plan.timesteps)
    for index, timestep in enumerate(scheduler.timesteps):
        noise = student(latent, np.full(batch, timestep, np.int64), text, scales)
        latent = scheduler.step(noise, index, latent, generator)
    return latent


class MotionLCMPipeline:
    """Consistency sampling: text -> latent (1-4 student steps) -> VAE decode -> joints.

    Args:
        student: a guidance-embedding denoiser distilled from the teacher (either backend).
        text_encoder: sentence encoder producing the vectors the student was trained with.
        decoder: the latent -> raw features decoder (either backend).
        latent_scale: VAE latents times this are the diffusion latents.
        step_table: timesteps and guidance per number of steps.
        max_frames: longest motion the VAE was trained on (frames at 20 fps).
        interpreter: reads free-form commands as known actions and refuses the others
            (``language.CommandInterpreter``); None: prompts go to the student as written.

    Raises:
        MotionLCMError: a student without a guidance embedding.
    """

    def __init__(
        self,
        student: DenoiserBackend,
        text_encoder: SentenceEncoder,
        decoder: FeatureDecoder,
        latent_scale: float,
        step_table: dict[int, StepPlan],
        max_frames: int = MAX_FRAMES,
        interpreter: CommandInterpreter | None = None,
    ) -> None:
        if not student.config.guidance_embedding:
            raise MotionLCMError("MotionLCMPipeline needs a student with a guidance embedding")
        self.student, self.text_encoder, self.decoder = student, text_encoder, decoder
        self.latent_scale, self.step_table, self.max_frames = latent_scale, dict(step_table), max_frames
        self.scheduler = LCMScheduler()
        self.interpreter = interpreter

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
        understand: bool = True,
    ) -> MotionLCMPipeline:
        """The shipped student: ``models_dir/student`` with ``models_dir/vae``.

        Args:
            models_dir: folder in the ``models/`` layout (default: ``resources.models_dir()``).
            text_encoder: an already loaded encoder of the student's text model (default:
                ``load_student_text_encoder(models_dir, text_backend)``).
            device: "cpu" or "cuda".
            decoder_backend: VAE decoder on "onnx" (the export beside the VAE; an error when it is
                missing or stale), "torch", or "auto" (ONNX when a current export exists).
            denoiser_backend: the same choice for the student network.
            text_backend: "auto", "static", "onnx" or "torch" (``load_student_text_encoder``).
            threads: ONNX Runtime intra-op threads of the decoder, the denoiser (large batches) and
                a MiniLM text encoder.
            understand: load the command interpreter (``models_dir/language`` and MiniLM), so that
                free-form commands are read as known actions and impossible ones refused.

        Raises:
            MotionLCMError: a missing student or VAE, or a text encoder of another text model.
        """
        from motionlcm_node.loading.models import read_student_spec
        from motionlcm_node.loading.text import load_student_text_encoder, vector_space_of
        from motionlcm_node.resources import models_dir as default_models_dir
        from motionlcm_node.runtime.decoder import load_feature_decoder
        from motionlcm_node.runtime.denoiser import load_denoiser_backend

        models = Path(models_dir) if models_dir is not None else default_models_dir()
        for part in ("student", "vae"):
            if not (models / part / "model.safetensors").is_file():
                raise MotionLCMError(f"no {part} model in {models / part}")
        spec = read_student_spec(models / "student")
        encoder = text_encoder
        if encoder is None:
            encoder = load_student_text_encoder(models, text_backend, device=device, threads=threads)
        if vector_space_of(encoder, spec.text_model) != spec.text_model:
            raise MotionLCMError(
                f"the student was trained with text model {spec.text_model}, not {vector_space_of(encoder, '?')}"
            )
        decoder = load_feature_decoder(models / "vae", decoder_backend, device, threads)
        student = load_denoiser_backend(models / "student", denoiser_backend, device, threads)
        interpreter = None
        if understand:
            from motionlcm_node.language.interpreter import CommandInterpreter

            interpreter = CommandInterpreter.from_models(models)
        return cls(student, encoder, decoder, spec.latent_scale, spec.step_table, interpreter=interpreter)

    def plan(self, num_steps: int, guidance: float | None = None) -> StepPlan:
        """The timesteps and guidance for ``num_steps`` steps (``guidance`` overrides the table's)."""
        if num_steps not in self.step_table:
            raise MotionLCMError(f"no plan for {num_steps} steps; this student has {sorted(self.step_table)}")
        plan = self.step_table[num_steps]
        return plan if guidance is None else StepPlan(plan.timesteps, float(guidance))

    def __call__(
        self,
        prompts: Sequence[str],
        lengths: Sequence[int] | None = None,
        *,
        seconds: Sequence[float] | None = None,
        num_steps: int = 1,
        guidance: float | None = None,
        generator: np.random.Generator | int | None = None,
        stabilize_feet: bool = False,
        understand: bool = True,
        smoothing: float = DEFAULT_SIGMA_FRAMES,
    ) -> MotionOutput:
        """Generate one motion per prompt.

        Args:
            prompts: B sentences.
            lengths: B lengths in frames at 20 fps (or give ``seconds``).
            seconds: B durations in seconds (rounded to frames at 20 fps).
            num_steps: consistency steps (a key of the step table: 1, 2 or 4 by default).
            guidance: guidance scale given to the student (default: the table's for ``num_steps``).
            generator: numpy generator or seed for the noise (the same seed gives the same motion).
            stabilize_feet: correct the root trajectory so that the feet the model labels planted
                do not slide (``postprocess.foot_contacts``); the pose is unchanged.
            understand: read each prompt with the interpreter (when the pipeline has one) and
                generate its known action's training caption; False: prompts as written.
            smoothing: Gaussian sigma along time of the decoded features, frames (0: off; the
                default halves the 1-step student's jerk, ``postprocess.smoothing``).

        Returns:
            The motions (joints in metres, Y up), what each prompt was understood as, and per-stage
            timings in seconds.

        Raises:
            CommandRefusedError: a prompt the models cannot do (with what it was closest to).
            MotionLCMError: a bad request (lengths, prompts, step count).
        """
        if (lengths is None) == (seconds is None):
            raise MotionLCMError("give exactly one of lengths (frames) or seconds")
        lengths = list(lengths) if lengths is not None else lengths_from_seconds(seconds, self.max_frames)
        check_request(prompts, lengths, self.max_frames)
        plan = self.plan(num_steps, guidance)
        generator = as_generator(generator)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        understood = []
        if understand and self.interpreter is not None:
            understood = self.interpreter.require(list(prompts))
            prompts = [reading.caption for reading in understood]
        text = self.text_encoder.encode(list(prompts))
        timings["text"] = time.perf_counter() - start

        mark = time.perf_counter()
        config = self.student.config
        latent = initial_noise(len(prompts), config.latent_tokens, config.latent_dim, generator)
        latent = consistency_sample(self.student, self.scheduler, latent, plan, text, generator)
        timings["denoise"] = time.perf_counter() - mark
        output = decode_motion(
            self.decoder, latent / self.latent_scale, lengths, timings, start, stabilize_feet, smoothing
        )
        output.understood = understood
        return output
