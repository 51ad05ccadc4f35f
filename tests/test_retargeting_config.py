"""Configuration helpers: built-in robots, URDF path resolution, the keypoint tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from retargeting.config import (
    builtin_robot_names,
    example_robot_data_dir,
    keypoint_parent,
    resolve_urdf_path,
)
from retargeting.errors import RobotConfigError
from retargeting.yaml_config import load_robot_config


def test_builtin_robots_are_g1_and_talos():
    assert {"g1", "talos"} <= set(builtin_robot_names())


def test_example_robot_data_is_found_without_hard_coded_paths():
    directory = example_robot_data_dir()
    assert (directory / "g1_description" / "urdf" / "g1_29dof_rev_1_0.urdf").is_file()


def test_urdf_path_forms(tmp_path):
    urdf = tmp_path / "robot.urdf"
    urdf.write_text("<robot name='r'/>")
    assert resolve_urdf_path("robot.urdf", tmp_path) == urdf.resolve()
    assert resolve_urdf_path(str(urdf), Path("/nonexistent")) == urdf.resolve()
    scheme = resolve_urdf_path("example-robot-data://talos_data/robots/talos_reduced.urdf", tmp_path)
    assert scheme.name == "talos_reduced.urdf"
    with pytest.raises(RobotConfigError, match="URDF file not found"):
        resolve_urdf_path("example-robot-data://nope.urdf", tmp_path)


def test_keypoint_parent_skips_unmapped_smpl_joints():
    tasks = load_robot_config("g1").keypoints
    by_joint = {task.smpl_joint: task for task in tasks}
    assert keypoint_parent("pelvis", tasks) is None
    assert keypoint_parent("l_knee", tasks) is by_joint["l_hip"]
    assert keypoint_parent("l_shoulder", tasks) is by_joint["spine3"]  # l_collar is not mapped
    assert keypoint_parent("l_foot", tasks) is by_joint["l_ankle"]
