"""Evaluation metrics on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from motionlcm_node.evaluation.metrics import (
    diversity,
    frechet_distance,
    matching_score,
    mean_and_interval,
    multimodality,
    r_precision,
)
from motionlcm_node.evaluation.motion_metrics import foot_skating_ratio, jitter, mpjpe


def samples_with_moments(rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, num: int) -> np.ndarray:
    """Samples whose empirical mean and (unbiased) covariance are exactly ``mean`` and ``cov``."""
    raw = rng.normal(size=(num, len(mean)))
    raw -= raw.mean(axis=0)
    whitened = raw @ np.linalg.inv(np.linalg.cholesky(np.cov(raw, rowvar=False))).T
    return whitened @ np.linalg.cholesky(cov).T + mean


# --- Fréchet distance ---------------------------------------------------------------------------


def test_fid_of_identical_sets_is_zero(rng: np.random.Generator) -> None:
    emb = rng.normal(size=(500, 16))
    assert frechet_distance(emb, emb) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(torch.from_numpy(emb), emb.copy()) == pytest.approx(0.0, abs=1e-8)


def test_fid_matches_closed_form_for_commuting_covariances(rng: np.random.Generator) -> None:
    rotation = Rotation.from_euler("xyz", [0.3, -0.7, 1.1]).as_matrix()
    cov_a = rotation @ np.diag([1.0, 4.0, 9.0]) @ rotation.T
    cov_b = rotation @ np.diag([4.0, 1.0, 1.0]) @ rotation.T
    a = samples_with_moments(rng, np.zeros(3), cov_a, 400)
    b = samples_with_moments(rng, np.array([1.0, 2.0, 0.0]), cov_b, 300)
    # |mu_a - mu_b|^2 = 5; trace term = (1 - 2)^2 + (2 - 1)^2 + (3 - 1)^2 = 6.
    assert frechet_distance(a, b) == pytest.approx(11.0, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(11.0, rel=1e-6)


def test_fid_is_finite_for_singular_covariances(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(5, 32)), rng.normal(size=(6, 32)) + 0.5
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 0.0
    assert frechet_distance(np.ones((10, 4)), np.ones((10, 4))) == pytest.approx(0.0, abs=1e-9)


def test_fid_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="2 embeddings"):
        frechet_distance(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="one size"):
        frechet_distance(np.zeros((5, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((5, 4), np.nan), np.zeros((5, 4)))


# --- R-precision, matching score ----------------------------------------------------------------


def test_perfect_embeddings_give_r_precision_one(rng: np.random.Generator) -> None:
    emb = rng.normal(size=(96, 8))
    np.testing.assert_allclose(r_precision(emb, emb + 1e-3, generator=0), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(r_precision(emb, emb, generator=0, query="text"), [1.0, 1.0, 1.0])


def test_shuffled_pairing_lowers_r_precision(rng: np.random.Generator) -> None:
    text = rng.normal(size=(320, 16))
    motion = text + 0.3 * rng.normal(size=text.shape)
    paired = r_precision(text, motion, generator=1)
    shuffled = r_precision(text, motion[rng.permutation(len(motion))], generator=1)
    assert paired[0] > 0.9 and shuffled[2] < 0.3
    assert np.all(np.diff(paired) >= 0) and np.all(np.diff(shuffled) >= 0)


def test_r_precision_ties_score_chance_and_seed_is_reproducible(rng: np.random.Generator) -> None:
    collapsed = np.zeros((64, 4))
    np.testing.assert_allclose(r_precision(collapsed, collapsed, top_k=3), [1 / 32, 2 / 32, 3 / 32])
    # Two identical captions in a pool of 2: the true text ties with its duplicate.
    text = np.array([[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(r_precision(text, np.ones((2, 2)), pool_size=2, top_k=2), [0.5, 1.0])
    text, motion = rng.normal(size=(100, 8)), rng.normal(size=(100, 8))
    np.testing.assert_array_equal(r_precision(text, motion, generator=5), r_precision(text, motion, generator=5))


def test_r_precision_known_ranks() -> None:
    # One pool of 3 on a line: motion 0 is closest to text 1, then its own text 0.
    text = np.array([[0.0], [1.0], [10.0]])
    motion = np.array([[0.8], [1.0], [10.0]])
    result = r_precision(text, motion, pool_size=3, top_k=2)
    np.testing.assert_allclose(result, [2 / 3, 1.0])


def test_r_precision_rejects_small_sets() -> None:
    with pytest.raises(ValueError, match="pool_size"):
        r_precision(np.zeros((10, 4)), np.zeros((10, 4)), pool_size=32)
    with pytest.raises(ValueError, match="paired"):
        r_precision(np.zeros((40, 4)), np.zeros((41, 4)))
    with pytest.raises(ValueError, match="query"):
        r_precision(np.zeros((40, 4)), np.zeros((40, 4)), query="both")


def test_matching_score_is_mean_pair_distance() -> None:
    text = np.zeros((4, 2))
    motion = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    assert matching_score(text, motion) == pytest.approx(7.0 / 4.0)


# --- diversity, multimodality, intervals --------------------------------------------------------


def test_diversity(rng: np.random.Generator) -> None:
    assert diversity(np.ones((300, 5)), num_pairs=300) == 0.0
    emb = rng.normal(size=(400, 5))
    assert diversity(2.0 * emb, generator=3) == pytest.approx(2.0 * diversity(emb, generator=3))
    # Two points 2 apart: every pair of the two permutations is either equal (0) or 2 apart.
    two = np.array([[0.0, 0.0], [2.0, 0.0]])
    assert diversity(two, num_pairs=2, generator=0) in (0.0, 2.0)
    with pytest.raises(ValueError, match="num_pairs"):
        diversity(emb, num_pairs=401)


def test_multimodality(rng: np.random.Generator) -> None:
    same = np.repeat(rng.normal(size=(6, 1, 8)), 30, axis=1)
    assert multimodality(same) == 0.0
    spread = rng.normal(size=(6, 30, 8))
    assert multimodality(3.0 * spread, generator=2) == pytest.approx(3.0 * multimodality(spread, generator=2))
    with pytest.raises(ValueError, match="num_pairs"):
        multimodality(rng.normal(size=(6, 5, 8)), num_pairs=10)


def test_mean_and_interval() -> None:
    mean, half_width = mean_and_interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half_width == pytest.approx(1.96 * np.sqrt(2.0 / 3.0) / np.sqrt(3.0))
    assert mean_and_interval(torch.tensor([5.0, 5.0])) == (5.0, 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_interval([1.0])


# --- joint metrics ------------------------------------------------------------------------------

FEET = [7, 8, 10, 11]


def standing(frames: int) -> np.ndarray:
    """[1, T, 22, 3]: body joints 1 m up, feet planted at 2 cm height."""
    joints = np.zeros((1, frames, 22, 3))
    joints[..., 1] = 1.0
    joints[:, :, FEET, 1] = 0.02
    return joints


def test_planted_feet_do_not_skate() -> None:
    joints = standing(40)
    joints[..., 0] += np.arange(40)[None, :, None] * 0.05  # the body moves at 1 m/s
    joints[:, :, FEET, 0] = 0.0  # but the feet stay put
    assert foot_skating_ratio(joints) == 0.0


def test_foot_sliding_on_the_floor_skates() -> None:
    joints = standing(40)
    joints[:, :, FEET, 0] = np.arange(40)[None, :, None] * 0.05  # 1 m/s at 20 fps
    assert foot_skating_ratio(joints) == 1.0
    assert foot_skating_ratio(joints, average_window=5) == 1.0
    assert foot_skating_ratio(torch.from_numpy(joints), fps=5.0) == 0.0  # 0.25 m/s
    lifted = joints.copy()
    lifted[:, :, FEET, 1] = 0.3  # the same slide in the air is a swing, not skating
    assert foot_skating_ratio(lifted) == 0.0


def test_skating_denominator_is_foot_frame_pairs_and_ignores_padding() -> None:
    joints = np.concatenate([standing(21), standing(21)])
    joints[0, :, 7, 0] = np.arange(21) * 0.05  # one of four foot joints slides in sequence 0
    joints[1, 11:, :, 0] = 100.0  # garbage after the valid frames of sequence 1
    assert foot_skating_ratio(joints, lengths=[21, 11]) == pytest.approx(20 / (4 * (20 + 10)))
    assert foot_skating_ratio(joints, lengths=[21, 11], foot_joints=(10, 11)) == 0.0


def test_averaged_skating_ignores_a_single_fast_frame() -> None:
    joints = standing(30)
    joints[:, 15:, 10, 0] = 0.05  # one 5 cm step between frames 14 and 15
    assert foot_skating_ratio(joints) == pytest.approx(1 / (4 * 29))
    assert foot_skating_ratio(joints, average_window=5) == 0.0
    with pytest.raises(ValueError, match="2 valid frames"):
        foot_skating_ratio(joints, lengths=[1])


def test_jitter() -> None:
    time = np.arange(30) / 20.0
    constant_velocity = np.broadcast_to((time * 1.5)[None, :, None, None], (2, 30, 22, 3))
    assert jitter(constant_velocity) == pytest.approx(0.0, abs=1e-9)
    cubic = np.zeros((2, 30, 22, 3))
    cubic[..., 0] = (time**3)[None, :, None]  # x = t^3 has jerk 6 m/s^3
    cubic[1, 10:] = np.random.default_rng(0).normal(size=(20, 22, 3))  # padding
    assert jitter(cubic, lengths=torch.tensor([30, 10])) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="4 valid frames"):
        jitter(cubic, lengths=[30, 3])


def test_mpjpe_with_mask(rng: np.random.Generator) -> None:
    target = rng.normal(size=(2, 10, 22, 3))
    pred = target.copy()
    pred[..., 0] += 0.1
    mask = np.ones((2, 10), dtype=bool)
    mask[1, 6:] = False
    pred[1, 6:] += 5.0  # errors on padded frames must not count
    assert mpjpe(pred, target, mask) == pytest.approx(0.1)
    assert mpjpe(torch.from_numpy(pred[0]), target[0]) == pytest.approx(0.1)
    assert mpjpe(pred, target) > 1.0
    with pytest.raises(ValueError, match="no frames"):
        mpjpe(pred, target, np.zeros((2, 10), dtype=bool))
    with pytest.raises(ValueError, match="mask must have shape"):
        mpjpe(pred, target, np.ones((2, 9), dtype=bool))
