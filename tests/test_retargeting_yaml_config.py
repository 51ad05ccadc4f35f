"""Robot YAML reading: the shipped robots load, and every kind of bad file gets a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from retargeting.config import BUILTIN_ROBOTS_DIR, example_robot_data_dir
from retargeting.errors import RetargetingError, RobotConfigError
from retargeting.yaml_config import load_robot_config


def _g1_document() -> dict:
    return yaml.safe_load((BUILTIN_ROBOTS_DIR / "g1.yaml").read_text())


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "robot.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize("name", ["g1", "talos"])
def test_builtin_config_loads_with_real_urdf(name):
    config = load_robot_config(name)
    assert config.name == name
    assert config.urdf.is_file() and config.urdf.suffix == ".urdf"
    assert config.urdf.is_relative_to(example_robot_data_dir())
    assert [task.smpl_joint for task in config.keypoints].count("pelvis") == 1
    assert set(config.feet) == {"left", "right"}
    assert config.solver.iterations >= 1


def test_yaml_path_with_urdf_relative_to_the_file(tmp_path):
    document = _g1_document()
    urdf = load_robot_config("g1").urdf
    (tmp_path / "robot.urdf").write_text(urdf.read_text())
    document["urdf"] = "robot.urdf"
    config = load_robot_config(_write(tmp_path, document))
    assert config.urdf == (tmp_path / "robot.urdf").resolve()


def _error_for(tmp_path: Path, edit) -> str:
    document = _g1_document()
    edit(document)
    with pytest.raises(RobotConfigError) as caught:
        load_robot_config(_write(tmp_path, document))
    assert isinstance(caught.value, RetargetingError)
    return str(caught.value)


def test_unknown_top_level_key(tmp_path):
    message = _error_for(tmp_path, lambda d: d.update(weigths={}))
    assert "unknown key(s) ['weigths']" in message


def test_missing_frame_key(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][3].pop("frame"))
    assert "keypoints[3]" in message and "missing required key 'frame'" in message


def test_missing_smpl_joint_key(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][1].pop("smpl_joint"))
    assert "missing required key 'smpl_joint'" in message


def test_unknown_smpl_joint(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][3].update(smpl_joint="l_kneee"))
    assert "unknown SMPL joint 'l_kneee'" in message


def test_missing_pelvis_keypoint(tmp_path):
    message = _error_for(
        tmp_path, lambda d: d.update(keypoints=[k for k in d["keypoints"] if k["smpl_joint"] != "pelvis"])
    )
    assert "pelvis" in message


def test_duplicated_smpl_joint(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"].append(dict(d["keypoints"][3], name="again")))
    assert "duplicated smpl_joint ['l_knee']" in message


@pytest.mark.parametrize("value", ["heavy", -1.0, float("nan"), True])
def test_bad_weight(tmp_path, value):
    message = _error_for(tmp_path, lambda d: d["keypoints"][0].update(position_weight=value))
    assert "position_weight" in message


def test_bad_offset_length(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][7].update(position_offset=[0.1, 0.0]))
    assert "position_offset" in message and "3 numbers" in message


def test_orientation_weight_on_joint_without_orientation(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][-1].update(orientation_weight=1.0))
    assert "no derivable orientation" in message


def test_rigid_attach_needs_a_parent_with_orientation(tmp_path):
    message = _error_for(tmp_path, lambda d: d["keypoints"][-1].update(attach="rigid"))
    assert "attach: rigid" in message


def test_missing_urdf_file(tmp_path):
    message = _error_for(tmp_path, lambda d: d.update(urdf="does/not/exist.urdf"))
    assert "URDF file not found" in message


def test_missing_feet_side(tmp_path):
    message = _error_for(tmp_path, lambda d: d["feet"].pop("right"))
    assert "missing required key 'right'" in message


def test_velocity_scale_above_one(tmp_path):
    message = _error_for(tmp_path, lambda d: d["limits"].update(velocity_scale=1.5))
    assert "velocity_scale" in message


def test_invalid_yaml_syntax(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: g1\nkeypoints: [unclosed\n")
    with pytest.raises(RobotConfigError, match="cannot read robot YAML"):
        load_robot_config(path)


def test_unknown_robot_name():
    with pytest.raises(RobotConfigError, match="unknown robot 'atlas'"):
        load_robot_config("atlas")


def test_root_scale_null_needs_leg_keypoints(tmp_path):
    message = _error_for(
        tmp_path, lambda d: d.update(keypoints=[k for k in d["keypoints"] if k["smpl_joint"] != "r_knee"])
    )
    assert "needs keypoints for SMPL joints ['r_knee']" in message
