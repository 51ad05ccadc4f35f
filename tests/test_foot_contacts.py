"""Contact-consistent root trajectory (postprocess/foot_contacts.py) on real walking clips."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from motionlcm_node.data import features as F  # noqa: N812
from motionlcm_node.data import layout
from motionlcm_node.data.bvh import read_bvh
from motionlcm_node.data.recovery import recover_joints, recover_root, rotate_xz_about_y
from motionlcm_node.data.skeleton_map import SkeletonMap
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.motion_metrics import foot_skating_ratio
from motionlcm_node.postprocess.foot_contacts import (
    CONTACT_JOINTS,
    contact_root_correction,
    stabilize_foot_contacts,
)
from tests.conftest import fixture_bvh

WALKS = ["dataset-1_walk_normal_002", "dataset-2_walk-turn-left_exhausted_038"]


def walk_features(name: str) -> np.ndarray:
    joints = F.canonicalize(SkeletonMap.builtin("bandai").joints_from_clip(read_bvh(fixture_bvh(name))))
    return F.joints_to_features(joints).astype(np.float64)[None]


def glide(features: np.ndarray, step: tuple[float, float]) -> np.ndarray:
    """The same motion with the whole body sliding by ``step`` metres per frame (facing frame)."""
    out = features.copy()
    extra = np.array(step, dtype=out.dtype)
    out[..., layout.ROOT_LINEAR_VELOCITY] += extra
    velocities = out[..., layout.LOCAL_VELOCITIES].reshape(*out.shape[:2], 22, 3)
    velocities[..., [0, 2]] += extra
    out[..., layout.LOCAL_VELOCITIES] = velocities.reshape(*out.shape[:2], 66)
    return out


def planted_mean_slide(features: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """|mean XZ slide of the labelled feet| per frame pair (0 where none is labelled)."""
    return np.linalg.norm(contact_root_correction(features, lengths), axis=-1)


@pytest.mark.parametrize("name", WALKS)
def test_gliding_walk_gets_its_feet_back_and_keeps_its_pose(name: str) -> None:
    clean = walk_features(name)
    lengths = np.array([clean.shape[1]])
    skating = glide(clean, (0.0, 0.04))  # 0.8 m/s forward glide on top of the walk
    skating_joints = recover_joints(skating)
    assert foot_skating_ratio(skating_joints, lengths) > 0.1  # the glide does make the feet skate
    fixed = stabilize_foot_contacts(skating, lengths, sigma=0.0)
    fixed_joints = recover_joints(fixed)
    # On every labelled pair, the planted feet's mean slide is now zero.
    assert planted_mean_slide(fixed, lengths).max() < 1e-9
    assert foot_skating_ratio(fixed_joints, lengths) <= foot_skating_ratio(recover_joints(clean), lengths) + 0.01
    # Pose, rotations, root height, yaw and contact labels are untouched.
    untouched = [0, 3, *range(4, 193), *range(259, 263)]
    np.testing.assert_array_equal(fixed[..., untouched], skating[..., untouched])
    relative = fixed_joints - fixed_joints[..., :1, :]
    np.testing.assert_allclose(relative, skating_joints - skating_joints[..., :1, :], atol=1e-9)


@pytest.mark.parametrize("name", WALKS)
def test_velocity_features_stay_consistent_with_the_trajectory(name: str) -> None:
    skating = glide(walk_features(name), (0.03, -0.02))
    fixed = stabilize_foot_contacts(skating, np.array([skating.shape[1]]), sigma=1.0)

    def inconsistency(features: np.ndarray) -> float:
        angles, _ = recover_root(features)
        joints = recover_joints(features)
        moved = rotate_xz_about_y((joints[:, 1:] - joints[:, :-1])[..., [0, 2]], angles[:, :-1, None])
        stored = features[:, :-1, layout.LOCAL_VELOCITIES].reshape(*moved.shape[:3], 3)[..., [0, 2]]
        return float(np.abs(moved[:, :-1] - stored[:, :-1]).max())  # the last pair has no next frame

    assert inconsistency(fixed) <= inconsistency(skating) + 1e-9


@pytest.mark.parametrize("name", WALKS)
def test_smoothed_correction_still_plants_the_feet(name: str) -> None:
    clean = walk_features(name)
    lengths = np.array([clean.shape[1]])
    skating = glide(clean, (0.0, 0.04))
    exact = contact_root_correction(skating, lengths)
    smoothed = contact_root_correction(skating, lengths, sigma=1.0)
    expected = gaussian_filter1d(exact, 1.0, axis=1, mode="constant", truncate=4.0)
    np.testing.assert_allclose(smoothed, expected, atol=1e-12)
    fixed = recover_joints(stabilize_foot_contacts(skating, lengths))  # default: sigma 1
    assert foot_skating_ratio(fixed, lengths) <= foot_skating_ratio(recover_joints(clean), lengths) + 0.01


def test_no_labelled_contact_changes_nothing() -> None:
    features = glide(walk_features(WALKS[0]), (0.0, 0.05))
    features[..., layout.FOOT_CONTACTS] = 0.0
    np.testing.assert_array_equal(stabilize_foot_contacts(features, np.array([features.shape[1]])), features)


def test_padding_is_ignored_and_stays_zero() -> None:
    long = glide(walk_features(WALKS[0]), (0.0, 0.04))[0]
    short_length = 40
    batch = np.zeros((2, long.shape[0], 263), dtype=long.dtype)
    batch[0] = long
    batch[1, :short_length] = long[:short_length]
    fixed = stabilize_foot_contacts(batch, np.array([long.shape[0], short_length]))  # smoothing stays inside
    alone = stabilize_foot_contacts(long[None, :short_length], np.array([short_length]))
    np.testing.assert_allclose(fixed[1, :short_length], alone[0], atol=1e-12)
    assert np.count_nonzero(fixed[1, short_length:]) == 0
    np.testing.assert_allclose(fixed[0], stabilize_foot_contacts(long[None], np.array([long.shape[0]]))[0])


def test_bad_input_is_a_clear_error() -> None:
    features = walk_features(WALKS[0])
    with pytest.raises(MotionLCMError, match="NaN"):
        broken = features.copy()
        broken[0, 3, 10] = float("nan")
        stabilize_foot_contacts(broken, np.array([features.shape[1]]))
    with pytest.raises(MotionLCMError, match="lengths"):
        stabilize_foot_contacts(features, np.array([1, 2]))


def test_contact_joints_follow_the_label_order() -> None:
    # Features 259-262 label joints 7, 10 (left) then 8, 11 (right): see features.py.
    assert CONTACT_JOINTS == (7, 10, 8, 11)
