"""Motion-quality measures on joint positions: foot skating, jitter (mean jerk) and MPJPE.

Joints are positions in metres, Y up, floor at y = 0, as returned by
``motionlcm_node.data.recovery.recover_joints``. Every function accepts numpy arrays or CPU/GPU
torch tensors, computes in float64 numpy and returns a Python float. Padded frames are excluded
through ``lengths`` or ``mask``; degenerate inputs raise ``ValueError`` instead of returning NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.ndimage import uniform_filter1d

from motionlcm_node.evaluation.metrics import ArrayOrTensor, as_array

#: Foot joints of SMPL-22: left ankle, right ankle, left foot, right foot.
FOOT_JOINTS = (7, 8, 10, 11)


def _valid_lengths(lengths: ArrayOrTensor | None, num: int, frames: int, minimum: int) -> np.ndarray:
    if lengths is None:
        out = np.full(num, frames, dtype=np.int64)
    else:
        if isinstance(lengths, torch.Tensor):
            lengths = lengths.detach().cpu().numpy()
        out = np.asarray(lengths).astype(np.int64).reshape(-1)
    if out.shape != (num,) or np.any(out > frames):
        raise ValueError(f"lengths must be {num} values of at most {frames} frames, got {out.tolist()}")
    if np.any(out < minimum):
        raise ValueError(f"every sequence needs at least {minimum} valid frames, got lengths {out.tolist()}")
    return out


def _joints(joints: ArrayOrTensor) -> np.ndarray:
    array = as_array(joints, "joints", 4)
    if array.shape[-1] != 3:
        raise ValueError(f"joints must be [N, T, J, 3], got {list(array.shape)}")
    return array


def foot_skating_ratio(
    joints: ArrayOrTensor,
    lengths: ArrayOrTensor | None = None,
    fps: float = 20.0,
    *,
    average_window: int = 1,
    foot_joints: Sequence[int] = FOOT_JOINTS,
    height_threshold: float = 0.05,
    speed_threshold: float = 0.5,
) -> float:
    """Fraction of foot-frame pairs that skate (MotionLCM / GMD thresholds).

    For every foot joint j and every pair of adjacent valid frames (t, t + 1) of a sequence, the
    pair is *in contact* when the joint is below ``height_threshold`` in both frames, and *skates*
    when it is in contact and its horizontal (XZ) speed ``|x[t+1] - x[t]| * fps`` exceeds
    ``speed_threshold``. With ``average_window`` w > 1 it must also exceed the threshold on average
    over the w pairs centred on t (MotionLCM uses w = 5; here the window is clipped to the valid
    pairs of the sequence instead of zero-padded).

    The denominator is every foot-frame pair: ``len(foot_joints) * sum(lengths - 1)``, pooled over
    the batch (contact or not). MotionLCM instead counts frames where foot 10 *or* 11 skates over
    padded ``T - 1`` per sequence; pass ``foot_joints=(10, 11)`` for its joints.

    Args:
        joints: [N, T, 22, 3] positions in metres, Y up, floor at y = 0.
        lengths: [N] valid frames per sequence (None: all T).
        fps: frame rate in Hz.
        average_window: frames of the speed average (1: instantaneous speed only).
        foot_joints: joint indices tested.
        height_threshold: contact height in metres.
        speed_threshold: skating speed in m/s.

    Returns:
        The skating ratio in [0, 1].
    """
    positions = _joints(joints)
    valid = _valid_lengths(lengths, positions.shape[0], positions.shape[1], 2)
    if average_window < 1 or fps <= 0 or not foot_joints:
        raise ValueError(f"need average_window >= 1, fps > 0 and foot joints, got {average_window}, {fps}")
    feet = positions[:, :, list(foot_joints)]  # [N, T, F, 3]
    speed = np.linalg.norm(feet[:, 1:, :, [0, 2]] - feet[:, :-1, :, [0, 2]], axis=-1) * fps  # [N, T-1, F]
    low = feet[..., 1] < height_threshold
    skating = low[:, 1:] & low[:, :-1] & (speed > speed_threshold)
    pair_valid = np.arange(speed.shape[1])[None, :] < (valid - 1)[:, None]  # [N, T-1]
    if average_window > 1:
        weights = np.broadcast_to(pair_valid[..., None], speed.shape).astype(np.float64)
        summed = uniform_filter1d(speed * weights, average_window, axis=1, mode="constant")
        counts = uniform_filter1d(weights, average_window, axis=1, mode="constant")
        skating &= summed / np.maximum(counts, 1e-12) > speed_threshold
    skating &= pair_valid[..., None]
    return float(skating.sum() / (pair_valid.sum() * len(foot_joints)))


def jitter(joints: ArrayOrTensor, lengths: ArrayOrTensor | None = None, fps: float = 20.0) -> float:
    """Mean jerk magnitude: third finite difference of positions times ``fps ** 3``.

    Args:
        joints: [N, T, J, 3] positions in metres.
        lengths: [N] valid frames per sequence, each >= 4 (None: all T).
        fps: frame rate in Hz.

    Returns:
        The mean over all joints and valid frames of ``|d^3 x / dt^3|``, in m/s^3.
    """
    positions = _joints(joints)
    valid = _valid_lengths(lengths, positions.shape[0], positions.shape[1], 4)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    jerk = np.linalg.norm(np.diff(positions, n=3, axis=1), axis=-1) * fps**3  # [N, T-3, J]
    frame_valid = np.arange(jerk.shape[1])[None, :] < (valid - 3)[:, None]
    return float(jerk[frame_valid].mean())


def mpjpe(pred: ArrayOrTensor, target: ArrayOrTensor, mask: ArrayOrTensor | None = None) -> float:
    """Mean per-joint position error.

    Args:
        pred: [..., T, J, 3] predicted positions in metres.
        target: positions of the same shape.
        mask: [..., T] bool, True on frames that count (None: all frames).

    Returns:
        The mean Euclidean distance in metres over valid frames and all joints.
    """
    predicted, expected = as_array(pred, "pred"), as_array(target, "target")
    if predicted.shape != expected.shape or predicted.ndim < 3 or predicted.shape[-1] != 3:
        raise ValueError(f"pred {list(predicted.shape)} and target {list(expected.shape)} must match [..., T, J, 3]")
    errors = np.linalg.norm(predicted - expected, axis=-1).mean(axis=-1)  # [..., T]
    keep = np.ones(errors.shape, dtype=bool) if mask is None else as_array(mask, "mask") > 0
    if keep.shape != errors.shape:
        raise ValueError(f"mask must have shape {list(errors.shape)}, got {list(keep.shape)}")
    if not keep.any():
        raise ValueError("mask selects no frames")
    return float(errors[keep].mean())
