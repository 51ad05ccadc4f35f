"""Declarative source-to-SMPL mapping: the Bandai mapping on real data, and bad mapping files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from motionlcm_node.data.bvh import read_bvh
from motionlcm_node.data.skeleton_map import SkeletonMap
from motionlcm_node.data.smpl import JOINT_NAMES, PARENTS
from motionlcm_node.errors import BVHError, MotionLCMError
from tests.conftest import fixture_bvh

BANDAI_YAML = Path(__file__).parents[1] / "motionlcm_node" / "data" / "skeletons" / "bandai.yaml"


def test_bandai_mapping_gives_metres_y_up_left_at_plus_x_and_20_fps() -> None:
    clip = read_bvh(fixture_bvh("dataset-1_walk_normal_002"))
    joints = SkeletonMap.builtin("bandai").joints_from_clip(clip)
    assert joints.shape == (int(np.floor((clip.num_frames - 1) / 1.5)) + 1, 22, 3)
    height = joints[:, JOINT_NAMES.index("head"), 1] - joints[:, JOINT_NAMES.index("l_ankle"), 1]
    assert 1.2 < height.mean() < 1.8  # metres
    assert np.all(joints[:, JOINT_NAMES.index("l_hip"), 0] > joints[:, JOINT_NAMES.index("r_hip"), 0])
    # The derived spine3 lies 35% of the way from spine2 (Chest) to the neck.
    spine2, spine3, neck = (joints[:, JOINT_NAMES.index(n)] for n in ("spine2", "spine3", "neck"))
    np.testing.assert_allclose(spine3, 0.65 * spine2 + 0.35 * neck, atol=1e-9)
    assert PARENTS[JOINT_NAMES.index("spine3")] == JOINT_NAMES.index("spine2")


def test_z_up_mapping_rotates_into_y_up() -> None:
    raw = yaml.safe_load(BANDAI_YAML.read_text())
    y_up = SkeletonMap.from_dict(raw, "y")
    raw["up_axis"] = "z"
    z_up = SkeletonMap.from_dict(raw, "z")
    clip = read_bvh(fixture_bvh("dataset-1_walk_normal_002"))
    a, b = y_up.joints_from_clip(clip), z_up.joints_from_clip(clip)
    # A -90 degree turn about X: the source's Z becomes up (Y) and its Y becomes -Z.
    np.testing.assert_allclose(b[..., 1], a[..., 2], atol=1e-12)
    np.testing.assert_allclose(b[..., 2], -a[..., 1], atol=1e-12)
    np.testing.assert_allclose(b[..., 0], a[..., 0], atol=1e-12)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["joints"].pop("head"), r"missing \['head'\]"),
        (lambda m: m["joints"].update(tail={"joint": "Hips"}), r"unknown \['tail'\]"),
        (lambda m: m.update(up_axis="w"), "up_axis"),
        (lambda m: m.update(units_to_metres=0), "units_to_metres"),
        (lambda m: m["joints"].update(spine3={"between": ["Chest"]}), "exactly two"),
        (lambda m: m["joints"].update(spine3={"between": ["Chest", "Neck"], "weight": 2}), "weight"),
        (lambda m: m["joints"].update(head={"joint": "Head", "local_offset": [1, 2]}), "three numbers"),
        (lambda m: m["joints"].update(head={"bone": "Head"}), "unknown fields"),
        (lambda m: m.update(colour="red"), "unknown fields"),
    ],
)
def test_bad_mapping_files_name_the_problem(tmp_path: Path, edit, message: str) -> None:
    raw = yaml.safe_load(BANDAI_YAML.read_text())
    edit(raw)
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(MotionLCMError, match=message) as info:
        SkeletonMap.from_yaml(path)
    assert "mapping.yaml" in str(info.value)


def test_mapping_to_joints_absent_from_the_file_is_a_bvh_error() -> None:
    raw = yaml.safe_load(BANDAI_YAML.read_text())
    raw["joints"]["head"] = {"joint": "Skull"}
    mapping = SkeletonMap.from_dict(raw, "custom")
    with pytest.raises(BVHError, match=r"\['Skull'\].*missing"):
        mapping.joints_from_clip(read_bvh(fixture_bvh("dataset-1_walk_normal_002")))
    with pytest.raises(MotionLCMError, match="cannot read"):
        SkeletonMap.from_yaml(Path("/nonexistent/mapping.yaml"))
