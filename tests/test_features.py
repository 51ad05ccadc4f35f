"""HumanML3D features: canonical form, round trip, mirror symmetry, layout semantics."""

from __future__ import annotations

import numpy as np
import pytest

from motionlcm_node.data import features as F  # noqa: N812
from motionlcm_node.data.bvh import read_bvh
from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.data.recovery_torch import recover_joints as recover_joints_torch
from motionlcm_node.data.skeleton_map import SkeletonMap
from motionlcm_node.data.smpl import MIRROR_INDEX, mirror_joints
from motionlcm_node.errors import MotionDataError
from tests.conftest import fixture_bvh

CLIPS = ["dataset-1_walk_normal_002", "dataset-2_walk-turn-left_exhausted_038", "dataset-2_wave-left-hand_normal_024"]


def raw_joints(name: str) -> np.ndarray:
    return SkeletonMap.builtin("bandai").joints_from_clip(read_bvh(fixture_bvh(name)))


@pytest.mark.parametrize("name", CLIPS)
def test_round_trip_is_exact(name: str) -> None:
    canonical = F.canonicalize(raw_joints(name))
    features = F.joints_to_features(canonical)
    assert features.shape == (len(canonical) - 1, 263)
    recovered = recover_joints(np.asarray(features, dtype=np.float64))
    error = np.linalg.norm(recovered - canonical[:-1], axis=-1)
    assert error.mean() < 1e-4 and error.max() < 5e-4  # metres; issue target is 1 mm / 5 mm


def test_round_trip_survives_large_turns(rng: np.random.Generator) -> None:
    """A body spinning more than 180 degrees between frames' smoothed headings still recovers."""
    base = F.canonicalize(raw_joints(CLIPS[0]))
    spin = np.linspace(0, 4 * np.pi, len(base))
    spun = np.stack([F.rotate_about_y(frame, angle) for frame, angle in zip(base, spin, strict=True)])
    canonical = F.canonicalize(spun)
    recovered = recover_joints(np.asarray(F.joints_to_features(canonical), dtype=np.float64))
    assert np.abs(recovered - canonical[:-1]).max() < 5e-4


def test_canonical_form() -> None:
    canonical = F.canonicalize(raw_joints(CLIPS[0]))
    assert canonical[..., 1].min() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(canonical[0, 0, [0, 2]], 0.0, atol=1e-12)
    assert F.facing_angles(canonical)[0] == pytest.approx(0.0, abs=1e-9)
    lengths = F.bone_lengths(canonical)[:, 1:]
    np.testing.assert_allclose(lengths, np.broadcast_to(F.UNIFORM_BONE_LENGTHS[1:], lengths.shape), atol=1e-9)


def test_uniform_skeleton_scales_a_taller_subject() -> None:
    joints = raw_joints(CLIPS[0])
    tall = joints * 1.2
    uniform = F.to_uniform_skeleton(tall)
    np.testing.assert_allclose(F.bone_lengths(uniform[0])[1:], F.UNIFORM_BONE_LENGTHS[1:], atol=1e-9)
    # Root path shrinks by the leg ratio: 1 / 1.2 of the tall subject's path.
    step_tall = np.linalg.norm(tall[-1, 0] - tall[0, 0])
    step_uniform = np.linalg.norm(uniform[-1, 0] - uniform[0, 0])
    assert step_uniform == pytest.approx(step_tall / 1.2, rel=1e-3)


def test_walking_forward_has_positive_forward_velocity_and_alternating_contacts() -> None:
    features = F.joints_to_features(F.canonicalize(raw_joints(CLIPS[0])))
    forward_speed = features[:, 2].mean() * 20.0  # m/s (Z in the facing frame)
    assert 0.5 < forward_speed < 2.5
    assert abs(features[:, 1].mean()) < 0.1 * abs(features[:, 2].mean())
    left, right = features[:, 259:261].max(axis=1), features[:, 261:263].max(axis=1)
    assert 0.1 < left.mean() < 0.95 and 0.1 < right.mean() < 0.95
    assert set(np.unique(features[:, 259:263])) <= {0.0, 1.0}


def test_turning_left_integrates_positive_yaw() -> None:
    """A left turn while facing +Z (Y up) swings the heading towards +X: positive cumulative yaw."""
    features = F.joints_to_features(F.canonicalize(raw_joints(CLIPS[1])))
    heading_change = -2.0 * features[:, 0].sum()  # a rotates the heading onto +Z, so heading = -a
    assert np.degrees(heading_change) > 45.0


def test_standing_feet_are_in_contact() -> None:
    still = np.repeat(F.canonicalize(raw_joints(CLIPS[0]))[:1], 10, axis=0)
    features = F.joints_to_features(still)
    assert np.all(features[:, 259:263] == 1.0)
    np.testing.assert_allclose(features[:, :3], 0.0, atol=1e-9)


@pytest.mark.parametrize("name", CLIPS)
def test_mirror_in_feature_space_matches_mirroring_joints(name: str) -> None:
    joints = raw_joints(name)
    direct = F.joints_to_features(F.canonicalize(mirror_joints(joints)))
    via_features = F.mirror_features(F.joints_to_features(F.canonicalize(joints)))
    np.testing.assert_allclose(via_features, direct, atol=1e-5)


def test_mirror_is_an_involution_and_swaps_sides() -> None:
    joints = raw_joints(CLIPS[2])
    np.testing.assert_allclose(mirror_joints(mirror_joints(joints)), joints)
    assert MIRROR_INDEX[20] == 21 and MIRROR_INDEX[0] == 0
    features = F.joints_to_features(F.canonicalize(joints))
    np.testing.assert_allclose(F.mirror_features(F.mirror_features(features)), features, atol=1e-6)
    # The left wrist of the mirror moves like the right wrist of the original, reflected in X.
    mirrored = recover_joints(np.asarray(F.mirror_features(features), dtype=np.float64))
    original = recover_joints(np.asarray(features, dtype=np.float64))
    np.testing.assert_allclose(mirrored[:, 20] * [-1, 1, 1], original[:, 21], atol=1e-5)


def test_torch_recovery_is_batched_and_differentiable() -> None:
    import torch

    features = torch.from_numpy(F.joints_to_features(F.canonicalize(raw_joints(CLIPS[0])))).double()
    batch = torch.stack([features, features]).requires_grad_(True)
    joints = recover_joints_torch(batch)
    assert joints.shape == (2, features.shape[0], 22, 3)
    joints.sum().backward()
    assert batch.grad is not None and torch.isfinite(batch.grad).all()


def test_numpy_and_torch_recovery_agree_in_float32() -> None:
    import torch

    features = F.joints_to_features(F.canonicalize(raw_joints(CLIPS[1]))).astype(np.float32)
    batch = np.stack([features, features[::-1].copy()])
    numpy_joints = recover_joints(batch)
    assert numpy_joints.dtype == np.float32 and numpy_joints.shape == (2, len(features), 22, 3)
    np.testing.assert_allclose(numpy_joints, recover_joints_torch(torch.from_numpy(batch)).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    ("joints", "message"),
    [
        (np.zeros((10, 21, 3)), "shape"),
        (np.zeros((1, 22, 3)), "frames"),
        (np.full((10, 22, 3), np.nan), "NaN"),
    ],
)
def test_bad_joints_are_rejected(joints: np.ndarray, message: str) -> None:
    with pytest.raises(MotionDataError, match=message):
        F.joints_to_features(joints)
