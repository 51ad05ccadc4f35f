"""Text-to-motion evaluation metrics (Guo et al. 2022 protocol) and motion-quality measures.

Embedding metrics (FID, R-precision, matching score, diversity, multimodality) work on evaluator
embeddings in whatever unit the evaluator produces (ours: unit-norm latents, so distances lie in
[0, 2]). Joint metrics (foot skating, jitter, MPJPE) work on joint positions in metres, Y up, as
returned by ``motionlcm_node.data.recovery.recover_joints``. Every function accepts numpy arrays or
CPU/GPU torch tensors, computes in float64 numpy and returns Python floats or numpy arrays. Padded
frames are excluded through ``lengths`` or ``mask``; degenerate inputs raise ``ValueError`` instead
of returning NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy import linalg
from scipy.ndimage import uniform_filter1d
from scipy.spatial.distance import cdist

#: Foot joints of SMPL-22: left ankle, right ankle, left foot, right foot.
FOOT_JOINTS = (7, 8, 10, 11)
ArrayOrTensor = ArrayLike | torch.Tensor
RandomSource = np.random.Generator | int | None


def _as_array(values: ArrayOrTensor, name: str, ndim: int | None = None) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _paired(text_emb: ArrayOrTensor, motion_emb: ArrayOrTensor) -> tuple[np.ndarray, np.ndarray]:
    text, motion = _as_array(text_emb, "text_emb", 2), _as_array(motion_emb, "motion_emb", 2)
    if text.shape != motion.shape:
        raise ValueError(f"text_emb {list(text.shape)} and motion_emb {list(motion.shape)} must be paired rows")
    return text, motion


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
    array = _as_array(joints, "joints", 4)
    if array.shape[-1] != 3:
        raise ValueError(f"joints must be [N, T, J, 3], got {list(array.shape)}")
    return array


def _matrix_sqrt(product: np.ndarray, tolerance: float = 1e-3) -> np.ndarray | None:
    """Real square root of a covariance product, or None when it is inaccurate or clearly complex."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(product)
    scale = max(float(np.abs(product).max()), 1e-12)
    if not np.all(np.isfinite(root)) or np.abs(np.imag(root)).max() > tolerance * np.sqrt(scale):
        return None
    root = np.real(root)
    if np.abs(root @ root - product).max() > tolerance * scale:
        return None
    return root


def frechet_distance(a: ArrayOrTensor, b: ArrayOrTensor, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two embedding sets (FID).

    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`` with unbiased covariances. If the matrix
    square root is not finite, has a noticeable imaginary part or does not square back to the
    product (near-singular covariances, e.g. fewer samples than dimensions), ``eps`` is added to
    both diagonals and it is computed again.

    Args:
        a: [N, D] embeddings.
        b: [M, D] embeddings.
        eps: diagonal offset used for near-singular covariances.

    Returns:
        The distance, in squared embedding units (>= 0).

    Raises:
        ValueError: fewer than 2 samples in a set, different dimensions, or no accurate square root.
    """
    first, second = _as_array(a, "a", 2), _as_array(b, "b", 2)
    if first.shape[1] != second.shape[1] or len(first) < 2 or len(second) < 2:
        raise ValueError(f"need two sets of >= 2 embeddings of one size, got {list(first.shape)}, {list(second.shape)}")
    mean_diff = first.mean(axis=0) - second.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(first, rowvar=False))
    cov_b = np.atleast_2d(np.cov(second, rowvar=False))
    root = _matrix_sqrt(cov_a @ cov_b)
    if root is None:
        offset = eps * np.eye(len(cov_a))
        root = _matrix_sqrt((cov_a + offset) @ (cov_b + offset))
    if root is None:
        raise ValueError("no accurate square root of the covariance product; embeddings may be degenerate")
    value = mean_diff @ mean_diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return max(float(value), 0.0)


def r_precision(
    text_emb: ArrayOrTensor,
    motion_emb: ArrayOrTensor,
    pool_size: int = 32,
    top_k: int = 3,
    generator: RandomSource = None,
    query: str = "motion",
) -> np.ndarray:
    """Retrieval accuracy in pools of paired texts and motions (R-precision, Guo et al. 2022).

    Pairs are shuffled and split into pools of ``pool_size`` (a last incomplete pool is dropped,
    as in Guo et al.). For each motion of a pool the pool's texts are ranked by Euclidean distance
    to it; top-k accuracy counts the motion's own text among the k closest. Distances tied with the
    true text (identical caption vectors) are broken at random in expectation: the true text lands
    uniformly among its ties, so collapsed embeddings score chance level, not 1.

    Args:
        text_emb: [N, D] text embeddings, row i paired with ``motion_emb[i]``.
        motion_emb: [N, D] motion embeddings.
        pool_size: texts per pool (32 in the standard protocol).
        top_k: largest k reported.
        generator: numpy generator or seed for the shuffle (None: seed 0).
        query: ``"motion"`` ranks texts per motion (the paper's description); ``"text"`` ranks
            motions per text (what Guo et al.'s released code computes).

    Returns:
        [top_k] accuracies in [0, 1] for k = 1 .. top_k.

    Raises:
        ValueError: fewer than ``pool_size`` pairs, ``top_k`` outside [1, pool_size], bad ``query``.
    """
    text, motion = _paired(text_emb, motion_emb)
    if pool_size < 2 or len(text) < pool_size or not 1 <= top_k <= pool_size:
        raise ValueError(f"need 2 <= pool_size <= N and 1 <= top_k <= pool_size, got {pool_size}, {len(text)}, {top_k}")
    if query not in ("motion", "text"):
        raise ValueError(f"query must be 'motion' or 'text', got {query!r}")
    if query == "text":
        text, motion = motion, text
    order = np.random.default_rng(generator).permutation(len(text))
    num_pools = len(text) // pool_size
    pools = order[: num_pools * pool_size].reshape(num_pools, pool_size)
    # distances[p, i, j]: motion i to text j of pool p.
    distances = np.stack([cdist(motion[pool], text[pool]) for pool in pools])
    true = np.diagonal(distances, axis1=1, axis2=2)[..., None]
    closer = (distances < true).sum(axis=-1)
    ties = (distances == true).sum(axis=-1)  # includes the true text itself
    ks = np.arange(1, top_k + 1)[:, None, None]
    hits = np.clip(ks - closer[None], 0, ties[None]) / ties[None]
    return hits.reshape(top_k, -1).mean(axis=1)


def matching_score(text_emb: ArrayOrTensor, motion_emb: ArrayOrTensor) -> float:
    """Mean Euclidean distance between paired text and motion embeddings (MM-Dist).

    Args:
        text_emb: [N, D] text embeddings, row i paired with ``motion_emb[i]``.
        motion_emb: [N, D] motion embeddings.

    Returns:
        The mean distance, in embedding units, over all N pairs (Guo et al. average only over the
        pairs in complete R-precision pools; the difference is the dropped remainder).
    """
    text, motion = _paired(text_emb, motion_emb)
    if len(text) == 0:
        raise ValueError("need at least one pair")
    return float(np.linalg.norm(text - motion, axis=1).mean())


def diversity(emb: ArrayOrTensor, num_pairs: int = 300, generator: RandomSource = None) -> float:
    """Mean distance between random pairs of embeddings.

    Two index lists of ``num_pairs`` are drawn, each without replacement (as Guo et al.), so a pair
    may occasionally join an embedding with itself.

    Args:
        emb: [N, D] embeddings, N >= ``num_pairs``.
        num_pairs: pairs to average (300 in the standard protocol).
        generator: numpy generator or seed (None: seed 0).

    Returns:
        The mean distance in embedding units.
    """
    array = _as_array(emb, "emb", 2)
    if num_pairs < 1 or len(array) < num_pairs:
        raise ValueError(f"need 1 <= num_pairs <= N, got num_pairs {num_pairs} for N {len(array)}")
    rng = np.random.default_rng(generator)
    first = rng.choice(len(array), num_pairs, replace=False)
    second = rng.choice(len(array), num_pairs, replace=False)
    return float(np.linalg.norm(array[first] - array[second], axis=1).mean())


def multimodality(emb_per_text: ArrayOrTensor, num_pairs: int = 10, generator: RandomSource = None) -> float:
    """Mean distance between motions generated for the same text.

    For every text the same ``num_pairs`` pairs of repetitions are compared (two index lists
    without replacement, as Guo et al.).

    Args:
        emb_per_text: [T, R, D] embeddings of R generations for each of T texts, R >= ``num_pairs``.
        num_pairs: pairs per text (10 in the standard protocol, with R = 30).
        generator: numpy generator or seed (None: seed 0).

    Returns:
        The mean distance in embedding units.
    """
    array = _as_array(emb_per_text, "emb_per_text", 3)
    if num_pairs < 1 or len(array) == 0 or array.shape[1] < num_pairs:
        raise ValueError(f"need T >= 1 and 1 <= num_pairs <= R, got shape {list(array.shape)}, num_pairs {num_pairs}")
    rng = np.random.default_rng(generator)
    first = rng.choice(array.shape[1], num_pairs, replace=False)
    second = rng.choice(array.shape[1], num_pairs, replace=False)
    return float(np.linalg.norm(array[:, first] - array[:, second], axis=-1).mean())


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
    predicted, expected = _as_array(pred, "pred"), _as_array(target, "target")
    if predicted.shape != expected.shape or predicted.ndim < 3 or predicted.shape[-1] != 3:
        raise ValueError(f"pred {list(predicted.shape)} and target {list(expected.shape)} must match [..., T, J, 3]")
    errors = np.linalg.norm(predicted - expected, axis=-1).mean(axis=-1)  # [..., T]
    keep = np.ones(errors.shape, dtype=bool) if mask is None else _as_array(mask, "mask") > 0
    if keep.shape != errors.shape:
        raise ValueError(f"mask must have shape {list(errors.shape)}, got {list(keep.shape)}")
    if not keep.any():
        raise ValueError("mask selects no frames")
    return float(errors[keep].mean())


def mean_and_interval(values: ArrayOrTensor) -> tuple[float, float]:
    """Mean and half-width of the 95% confidence interval over repeated runs (Guo et al.).

    Args:
        values: [n] one metric value per run, n >= 2.

    Returns:
        (mean, 1.96 * std / sqrt(n)) with the population std (ddof = 0, as Guo et al.), in the
        metric's unit.
    """
    array = _as_array(values, "values").reshape(-1)
    if len(array) < 2:
        raise ValueError(f"need at least 2 runs for an interval, got {len(array)}")
    return float(array.mean()), float(1.96 * array.std() / np.sqrt(len(array)))
