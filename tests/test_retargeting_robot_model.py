"""Loading real URDFs (G1, Talos) into the Pinocchio model used by the retargeter."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from retargeting.config import KeypointTask
from retargeting.errors import RobotConfigError
from retargeting.robot_model import RobotModel
from retargeting.yaml_config import load_robot_config


def _urdf_movable_joints(robot: RobotModel) -> list[str]:
    root = ET.parse(robot.config.urdf).getroot()
    return [j.get("name") for j in root.findall("joint") if j.get("type") not in ("fixed", "floating")]


def test_g1_has_29_actuated_joints_with_urdf_limits(g1):
    assert g1.nq == 7 + 29 and g1.nv == 6 + 29
    assert g1.urdf_joint_names == tuple(_urdf_movable_joints(g1))
    knee = g1.joint_names.index("left_knee_joint")
    assert g1.lower[knee] == pytest.approx(-0.087267) and g1.upper[knee] == pytest.approx(2.8798)
    assert g1.velocity_limits[knee] == pytest.approx(20.0)
    assert np.all(g1.lower < g1.upper) and np.all(g1.velocity_limits > 0)


def test_talos_joint_order_differs_from_pinocchio_and_is_mapped(talos):
    urdf_order = _urdf_movable_joints(talos)
    assert list(talos.joint_names) != urdf_order
    assert list(talos.urdf_joint_names) == urdf_order
    assert [talos.joint_names[i] for i in talos.urdf_order] == urdf_order


@pytest.mark.parametrize("name", ["g1", "talos"])
def test_reference_configuration_stands_on_the_floor(name, g1, talos):
    robot = {"g1": g1, "talos": talos}[name]
    soles = robot.sole_positions(robot.reference_q)
    lowest = min(points[:, 2].min() for points in soles.values())
    assert lowest == pytest.approx(0.0, abs=1e-9)
    assert np.all(robot.reference_q[7:] >= robot.lower) and np.all(robot.reference_q[7:] <= robot.upper)
    pelvis_height = robot.keypoint_poses(robot.reference_q)[0][0, 2]
    assert 0.6 < pelvis_height < 1.2


def test_keypoint_position_offset_is_applied_in_the_frame_axes(g1):
    positions, _ = g1.keypoint_poses(g1.reference_q)
    names = [task.name for task in g1.config.keypoints]
    ankle, toe = positions[names.index("left_ankle")], positions[names.index("left_toe")]
    assert toe - ankle == pytest.approx([0.10, 0.0, -0.03], abs=1e-9)


def test_clamp_puts_joints_inside_limits(g1):
    q = g1.reference_q.copy()
    q[7:] = 100.0
    assert np.array_equal(g1.clamp(q)[7:], g1.upper)


def test_unknown_frame_names_the_closest_frames():
    config = load_robot_config("g1")
    bad = dataclasses.replace(config.keypoints[3], frame="left_knee_lnk")
    with pytest.raises(RobotConfigError) as caught:
        RobotModel(dataclasses.replace(config, keypoints=(*config.keypoints[:3], bad, *config.keypoints[4:])))
    assert "unknown frame 'left_knee_lnk'" in str(caught.value) and "left_knee_link" in str(caught.value)


def test_unknown_foot_frame():
    config = load_robot_config("g1")
    feet = dict(config.feet, left=dataclasses.replace(config.feet["left"], frame="left_foot"))
    with pytest.raises(RobotConfigError, match=r"feet\.left uses unknown frame 'left_foot'"):
        RobotModel(dataclasses.replace(config, feet=feet))


def test_missing_joint_in_reference_posture():
    config = load_robot_config("talos")
    posture = dict(config.reference_posture, arm_left_8_joint=0.1)
    with pytest.raises(RobotConfigError, match="joint 'arm_left_8_joint' that is missing from URDF"):
        RobotModel(dataclasses.replace(config, reference_posture=posture))


def test_continuous_joint_is_rejected(tmp_path):
    urdf = tmp_path / "wheel.urdf"
    urdf.write_text(
        '<robot name="wheel"><link name="base"/><link name="wheel"/>'
        '<joint name="spin" type="continuous"><parent link="base"/><child link="wheel"/><axis xyz="0 1 0"/></joint>'
        "</robot>"
    )
    config = load_robot_config("g1")
    pelvis = KeypointTask(name="pelvis", smpl_joint="pelvis", frame="base")
    feet = {side: dataclasses.replace(foot, frame="wheel") for side, foot in config.feet.items()}
    with pytest.raises(RobotConfigError, match="joint 'spin' has nq=2"):
        RobotModel(dataclasses.replace(config, urdf=urdf, keypoints=(pelvis,), feet=feet, reference_posture={}))
