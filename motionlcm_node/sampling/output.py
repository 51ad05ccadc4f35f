"""What both pipelines share: request checks, the initial noise, and latents -> features -> joints.

numpy throughout (no torch): a pipeline on ONNX Runtime backends imports nothing heavier.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from motionlcm_node.data.layout import FPS
from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.postprocess.foot_contacts import stabilize_foot_contacts
from motionlcm_node.postprocess.smoothing import smooth_features
from motionlcm_node.runtime.decoder import FeatureDecoder

#: Shortest motion a pipeline generates, frames at 20 fps.
MIN_FRAMES = 4


@dataclass
class MotionOutput:
    """Generated motions.

    Attributes:
        features: [B, T, 263] float32 un-normalised HumanML3D features, zero past each length.
        joints: [B, T, 22, 3] float32 joint positions in metres, Y up (valid up to each length).
        lengths: [B] frames per motion (20 fps).
        timings: seconds spent per stage (``text`` (reading the command included), ``denoise``,
            ``decode``, ``joints``, ``total``).
        understood: per motion, what its prompt was read as (``language.Understanding``); empty
            when the prompts went to the generator as written.
    """

    features: np.ndarray
    joints: np.ndarray
    lengths: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    understood: list = field(default_factory=list)


def as_generator(generator: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy generator from a generator, a seed, or None (fresh entropy)."""
    return generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)


def initial_noise(batch: int, latent_tokens: int, latent_dim: int, generator: np.random.Generator) -> np.ndarray:
    """[B, L, D] float32 unit Gaussian latents (the same generator state gives the same noise on any backend)."""
    return generator.standard_normal((batch, latent_tokens, latent_dim), dtype=np.float32)


def lengths_from_seconds(seconds: Sequence[float], max_frames: int = 196) -> list[int]:
    """Frame counts at 20 fps for durations in seconds, each within [``MIN_FRAMES``, max_frames].

    Raises:
        MotionLCMError: for a non-finite or non-positive duration, or one longer than ``max_frames``.
    """
    lengths = []
    for value in seconds:
        if not math.isfinite(value) or value <= 0:
            raise MotionLCMError(f"durations must be positive seconds, got {value}")
        frames = round(value * FPS)
        if frames > max_frames:
            raise MotionLCMError(
                f"{value:g} s is {frames} frames, more than the model's {max_frames} ({max_frames / FPS:g} s); "
                "ask for a shorter motion"
            )
        lengths.append(max(frames, MIN_FRAMES))
    return lengths


def check_request(prompts: Sequence[str], lengths: Sequence[int], max_frames: int) -> None:
    """Raise ``MotionLCMError`` unless every prompt is a string with one length in [MIN_FRAMES, max_frames]."""
    if len(prompts) != len(lengths) or not prompts:
        raise MotionLCMError(f"need one length per prompt, got {len(prompts)} prompts, {len(lengths)} lengths")
    if any(not isinstance(prompt, str) for prompt in prompts):
        raise MotionLCMError("prompts must be strings")
    if min(lengths) < MIN_FRAMES or max(lengths) > max_frames:
        raise MotionLCMError(f"lengths must be {MIN_FRAMES} to {max_frames} frames, got {min(lengths)}-{max(lengths)}")


def decode_motion(
    decoder: FeatureDecoder,
    latent: np.ndarray,
    lengths: Sequence[int],
    timings: dict[str, float],
    start: float,
    stabilize_feet: bool = False,
    smoothing: float = 0.0,
) -> MotionOutput:
    """VAE-decode unscaled latents [B, L, D], recover joints and finish the timings.

    Args:
        decoder: the VAE decoder (torch or ONNX Runtime backend).
        latent: [B, L, D] latents in the VAE's own scale.
        lengths: frames per motion.
        timings: per-stage seconds so far (``decode``, ``joints`` and ``total`` are added).
        start: ``time.perf_counter()`` when the request started.
        stabilize_feet: move the root so that the feet the model labels planted stand still
            (``postprocess.foot_contacts``; timed with ``joints``).
        smoothing: Gaussian sigma along time of the features, frames (``postprocess.smoothing``;
            before the foot correction; 0: off).
    """
    mark = time.perf_counter()
    frame_counts = np.asarray(lengths, dtype=np.int64)
    features = decoder.decode_features(latent, frame_counts)
    timings["decode"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if smoothing > 0:
        features = smooth_features(features, frame_counts, smoothing)
    if stabilize_feet:
        features = stabilize_foot_contacts(features, frame_counts)
    joints = recover_joints(features)
    timings["joints"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - start
    return MotionOutput(features.astype(np.float32), joints.astype(np.float32), frame_counts, timings)
