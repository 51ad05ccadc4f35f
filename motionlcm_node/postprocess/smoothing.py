"""Temporal smoothing of generated features: less jerk on the robot, at no cost in quality.

The 1-step student's motions have a mean jerk 1.3x that of real motion (the project's jitter
metric, ``evaluation.motion_metrics.jitter``), and a robot's joint controllers amplify jerk. A
Gaussian filter along time on all 263 HumanML3D features (root velocities and height, local joint
positions, rotations and velocities alike, so the representation stays consistent), applied within
each motion's valid frames with the end frames repeated, removes the frame-to-frame noise; the sigma
was chosen on the validation split (``docs/experiments.md``).

The filter is the one of scipy's ``gaussian_filter1d`` (truncated at 4 sigma, ``mode="nearest"``;
``tests/test_command_benchmark.py`` checks they agree) written in numpy: importing ``scipy.ndimage``
adds ~150 ms to the start of ``motionlcm generate`` (measured with ``python -X importtime``), a third
of its 0.45 s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Standard deviation of the default filter, frames at 20 fps (0: off).
DEFAULT_SIGMA_FRAMES = 0.5
#: The kernel reaches this many standard deviations each side (scipy's default).
TRUNCATE_SIGMAS = 4.0


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised Gaussian weights over ``-r..r`` frames, ``r = int(4 sigma + 0.5)``."""
    radius = int(TRUNCATE_SIGMAS * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def gaussian_filter_time(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` [T, F] filtered along time with edge frames repeated (scipy's ``mode="nearest"``)."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    padded = np.concatenate([np.repeat(values[:1], radius, axis=0), values, np.repeat(values[-1:], radius, axis=0)])
    out = np.zeros(values.shape, dtype=np.float64)
    for offset, weight in enumerate(kernel):
        out += weight * padded[offset : offset + len(values)]
    return out.astype(values.dtype)


def smooth_features(features: np.ndarray, lengths: Sequence[int], sigma: float = DEFAULT_SIGMA_FRAMES) -> np.ndarray:
    """``features`` [B, T, F] Gaussian-filtered along time within each of ``lengths`` (zeros after stay zero).

    Args:
        features: raw (un-normalised) features.
        lengths: valid frames per motion.
        sigma: filter standard deviation, frames (0 returns a copy).
    """
    smoothed = np.array(features, dtype=np.float32, copy=True)
    if sigma <= 0:
        return smoothed
    for row, length in enumerate(lengths):
        length = int(length)
        if length > 1:
            smoothed[row, :length] = gaussian_filter_time(smoothed[row, :length], sigma)
    return smoothed
