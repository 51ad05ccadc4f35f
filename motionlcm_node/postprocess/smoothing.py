"""Temporal smoothing of generated features: less jerk on the robot, at no cost in quality.

The 1-step student's motions have a mean jerk 1.3x that of real motion (the project's jitter
metric, ``evaluation.motion_metrics.jitter``), and a robot's joint controllers amplify jerk. A
Gaussian filter along time on all 263 HumanML3D features (root velocities and height, local joint
positions, rotations and velocities alike, so the representation stays consistent), applied within
each motion's valid frames with the end frames repeated, removes the frame-to-frame noise; the sigma
was chosen on the validation split (``docs/experiments.md``). scipy's ``gaussian_filter1d`` does
the filtering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

#: Standard deviation of the default filter, frames at 20 fps (0: off).
DEFAULT_SIGMA_FRAMES = 0.5


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
            smoothed[row, :length] = gaussian_filter1d(smoothed[row, :length], sigma, axis=0, mode="nearest")
    return smoothed
