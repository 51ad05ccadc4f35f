"""Text-to-motion evaluation metrics of the Guo et al. 2022 protocol, on evaluator embeddings.

FID, R-precision, matching score, diversity and multimodality work on evaluator embeddings in
whatever unit the evaluator produces (ours: unit-norm latents, so distances lie in [0, 2]); the
joint-space measures (foot skating, jitter, MPJPE) are in ``motion_metrics.py``. Every function
accepts numpy arrays or CPU/GPU torch tensors, computes in float64 numpy and returns Python floats or
numpy arrays; degenerate inputs raise ``ValueError`` instead of returning NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy import linalg
from scipy.spatial.distance import cdist

ArrayOrTensor = ArrayLike | torch.Tensor
RandomSource = np.random.Generator | int | None


def as_array(values: ArrayOrTensor, name: str, ndim: int | None = None) -> np.ndarray:
    """``values`` as a finite float64 array (of ``ndim`` dimensions when given); ``name`` is for errors."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _paired(text_emb: ArrayOrTensor, motion_emb: ArrayOrTensor) -> tuple[np.ndarray, np.ndarray]:
    text, motion = as_array(text_emb, "text_emb", 2), as_array(motion_emb, "motion_emb", 2)
    if text.shape != motion.shape:
        raise ValueError(f"text_emb {list(text.shape)} and motion_emb {list(motion.shape)} must be paired rows")
    return text, motion


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
    first, second = as_array(a, "a", 2), as_array(b, "b", 2)
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
    array = as_array(emb, "emb", 2)
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
    array = as_array(emb_per_text, "emb_per_text", 3)
    if num_pairs < 1 or len(array) == 0 or array.shape[1] < num_pairs:
        raise ValueError(f"need T >= 1 and 1 <= num_pairs <= R, got shape {list(array.shape)}, num_pairs {num_pairs}")
    rng = np.random.default_rng(generator)
    first = rng.choice(array.shape[1], num_pairs, replace=False)
    second = rng.choice(array.shape[1], num_pairs, replace=False)
    return float(np.linalg.norm(array[:, first] - array[:, second], axis=-1).mean())


def mean_and_interval(values: ArrayOrTensor) -> tuple[float, float]:
    """Mean and half-width of the 95% confidence interval over repeated runs (Guo et al.).

    Args:
        values: [n] one metric value per run, n >= 2.

    Returns:
        (mean, 1.96 * std / sqrt(n)) with the population std (ddof = 0, as Guo et al.), in the
        metric's unit.
    """
    array = as_array(values, "values").reshape(-1)
    if len(array) < 2:
        raise ValueError(f"need at least 2 runs for an interval, got {len(array)}")
    return float(array.mean()), float(1.96 * array.std() / np.sqrt(len(array)))
