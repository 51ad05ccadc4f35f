"""BVH parsing and forward kinematics against hand-computed values and real clips."""

from __future__ import annotations

import numpy as np
import pytest

from motionlcm_node.data.bvh import forward_kinematics, parse_bvh, read_bvh
from motionlcm_node.errors import BVHError
from tests.conftest import fixture_bvh

# Root with position + ZXY rotation channels, a child with only Y/X rotations (another order),
# and an end site. Frame 0 is the rest pose, frame 1 rotates the root 90 deg about Z and bends the
# child 90 deg about X.
HAND_MADE = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 2 Yrotation Xrotation
    JOINT Head
    {
      OFFSET 0 5 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 1 0
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.05
1 2 3 0 0 0 0 0 0 0 0
1 2 3 90 0 0 0 90 0 0 0
"""


def test_hand_made_skeleton_parses_without_end_sites() -> None:
    clip = parse_bvh(HAND_MADE)
    assert clip.skeleton.names == ("Hips", "Spine", "Head")
    assert clip.skeleton.parents == (-1, 0, 1)
    assert clip.num_frames == 2
    assert clip.fps == pytest.approx(20.0)


def test_forward_kinematics_matches_hand_computed_positions() -> None:
    clip = parse_bvh(HAND_MADE)
    positions, rotations = forward_kinematics(clip.skeleton, clip.local_rotations, clip.local_translations)
    # Rest pose: straight up from the root at (1, 2, 3).
    np.testing.assert_allclose(positions[0], [[1, 2, 3], [1, 12, 3], [1, 17, 3]], atol=1e-9)
    # Root turned +90 deg about Z maps +Y to -X: the spine sits at (1 - 10, 2, 3).
    # The spine's +90 deg about X maps its local +Y to +Z, then the root's Z turn keeps Z: head at spine + (0, 0, 5).
    np.testing.assert_allclose(positions[1], [[1, 2, 3], [-9, 2, 3], [-9, 2, 8]], atol=1e-9)
    np.testing.assert_allclose(rotations[1, 0] @ [0, 1, 0], [-1, 0, 0], atol=1e-12)


def test_channel_order_is_respected() -> None:
    """ZXY and XYZ orders of the same angles give different rotations (intrinsic, listed order)."""
    zxy = parse_bvh(HAND_MADE.replace("1 2 3 90 0 0 0 90", "1 2 3 30 40 50 0 90"))
    xyz = parse_bvh(
        HAND_MADE.replace(
            "Zrotation Xrotation Yrotation\n  JOINT Spine", "Xrotation Yrotation Zrotation\n  JOINT Spine"
        ).replace("1 2 3 90 0 0 0 90", "1 2 3 40 50 30 0 90")
    )
    from scipy.spatial.transform import Rotation

    expected = Rotation.from_euler("ZXY", [30, 40, 50], degrees=True).as_matrix()
    got = Rotation.from_quat(zxy.local_rotations[1, 0]).as_matrix()
    np.testing.assert_allclose(got, expected, atol=1e-12)
    # The same three angles in XYZ order describe the same rotation only if composed in that order.
    expected_xyz = Rotation.from_euler("XYZ", [40, 50, 30], degrees=True).as_matrix()
    np.testing.assert_allclose(Rotation.from_quat(xyz.local_rotations[1, 0]).as_matrix(), expected_xyz, atol=1e-12)
    assert not np.allclose(expected, expected_xyz)


def test_real_clip_keeps_bone_lengths_and_units() -> None:
    clip = read_bvh(fixture_bvh("dataset-1_walk_normal_002"))
    assert clip.fps == pytest.approx(30.0, rel=1e-4)
    positions, _ = forward_kinematics(clip.skeleton, clip.local_rotations, clip.local_translations)
    spine, lower_arm = clip.skeleton.index("Spine"), clip.skeleton.index("LowerArm_L")
    hips, upper_arm = clip.skeleton.index("Hips"), clip.skeleton.index("UpperArm_L")
    # Bone lengths equal the OFFSET lengths in every frame (centimetres).
    np.testing.assert_allclose(np.linalg.norm(positions[:, spine] - positions[:, hips], axis=-1), 15.7357, atol=1e-3)
    np.testing.assert_allclose(
        np.linalg.norm(positions[:, lower_arm] - positions[:, upper_arm], axis=-1), 24.3286, atol=1e-3
    )
    # Standing adult: hips roughly a metre above the feet.
    foot = clip.skeleton.index("Foot_L")
    assert 70 < (positions[:, hips, 1] - positions[:, foot, 1]).mean() < 110


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[: t.index("MOTION")], "no MOTION"),
        (lambda t: t.rsplit("\n", 2)[0], "expected 2 frames"),
        (lambda t: t.replace("0 90 0 0 0", "0 nan 0 0 0"), "NaN"),
        (lambda t: t.replace("0 90 0 0 0", "0 abc 0 0 0"), "non-numeric"),
        (lambda t: t.replace("Zposition Zrotation", "Zposition Qrotation"), "unknown channel"),
        (lambda t: t.replace("HIERARCHY", "HIERARCY"), "HIERARCHY"),
        (lambda t: t.replace("  }\n}\nMOTION", "MOTION"), "truncated"),
        (lambda t: t.replace("Frame Time: 0.05", "Frame Time: 0"), "positive"),
    ],
)
def test_bad_bvh_raises_clear_error_naming_the_source(mutate, message: str) -> None:
    with pytest.raises(BVHError, match=message) as info:
        parse_bvh(mutate(HAND_MADE), source="clip.bvh")
    assert "clip.bvh" in str(info.value)


def test_unreadable_file_is_named(tmp_path) -> None:
    missing = tmp_path / "missing.bvh"
    with pytest.raises(BVHError, match=r"missing\.bvh"):
        read_bvh(missing)
    binary = tmp_path / "binary.bvh"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BVHError, match=r"binary\.bvh"):
        read_bvh(binary)
