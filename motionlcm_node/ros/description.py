"""The robot's URDF for the launch files: RViz's ``robot_description`` and a Gazebo model with ros2_control.

The node retargets onto a robot named by its ``robot`` parameter (a built-in name or a robot YAML);
:func:`robot_description` returns that robot's URDF text, ready for ``robot_state_publisher``:

* mesh paths are absolute ``file://`` URIs, so RViz and Gazebo find them without a ROS package for
  the robot (example-robot-data's URDFs name meshes in ``package://example-robot-data``);
* ``fixed_base_height`` welds the root link to a ``world`` link at that height: a position-controlled
  humanoid without a balance controller falls over in a physics simulator, so the Gazebo launch hangs
  it in place, the way humanoid controllers are usually brought up;
* ``gazebo_controllers`` adds a ``<ros2_control>`` block (position command, position and velocity
  state, starting at the reference posture) for every movable joint, and gz_ros2_control's plugin
  reading that controller file.

No ROS import: the launch files call it, and the tests check its output with Pinocchio.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

from retargeting.robot_model import urdf_joint_order
from retargeting.urdf_text import urdf_with_resolved_meshes
from retargeting.yaml_config import load_robot_config

WORLD_LINK = "world"


def root_link(urdf_text: str) -> str:
    """The URDF's root link: the one link no joint has as its child."""
    root = ET.fromstring(urdf_text)
    children = {joint.find("child").get("link") for joint in root.findall("joint")}  # type: ignore[union-attr]
    roots = [str(link.get("name")) for link in root.findall("link") if link.get("name") not in children]
    if len(roots) != 1:
        raise ValueError(f"the URDF must have exactly one root link, found {roots}")
    return roots[0]


def _fixed_base(urdf_text: str, height: float) -> str:
    base = root_link(urdf_text)
    weld = (
        f'<link name="{WORLD_LINK}"/><joint name="{WORLD_LINK}_to_{escape(base)}" type="fixed">'
        f'<parent link="{WORLD_LINK}"/><child link="{escape(base)}"/><origin xyz="0 0 {height:g}" rpy="0 0 0"/></joint>'
    )
    return urdf_text.replace("</robot>", weld + "\n</robot>")


def _ros2_control(urdf_text: str, joints: list[str], initial: dict[str, float], controllers: Path) -> str:
    lines = ['<ros2_control name="GazeboSimSystem" type="system">',
             "<hardware><plugin>gz_ros2_control/GazeboSimSystem</plugin></hardware>"]  # fmt: skip
    for joint in joints:
        lines += [
            f'<joint name="{escape(joint)}"><command_interface name="position"/>',
            f'<state_interface name="position"><param name="initial_value">{initial.get(joint, 0.0):g}</param>'
            '</state_interface><state_interface name="velocity"/></joint>',
        ]
    lines += [
        "</ros2_control>",
        '<gazebo><plugin filename="gz_ros2_control-system" name="gz_ros2_control::GazeboSimROS2ControlPlugin">',
        f"<parameters>{escape(str(controllers))}</parameters></plugin></gazebo>",
    ]
    return urdf_text.replace("</robot>", "\n".join(lines) + "\n</robot>")


def robot_description(
    robot: str = "g1", fixed_base_height: float | None = None, gazebo_controllers: str | Path | None = None
) -> str:
    """URDF text of the node's robot for ``robot_state_publisher``, RViz and Gazebo.

    Args:
        robot: built-in robot name or robot YAML path (the node's ``robot`` parameter).
        fixed_base_height: weld the root link to a ``world`` link this high, m; None: floating.
        gazebo_controllers: controller YAML for gz_ros2_control; None: no ``<ros2_control>`` block.

    Raises:
        retargeting.RobotConfigError: the robot is unknown or its URDF is missing.
        ValueError: a non-finite or negative height.
    """
    config = load_robot_config(robot)
    text = urdf_with_resolved_meshes(config.urdf, prefix="file://")
    if fixed_base_height is not None:
        if not 0.0 <= fixed_base_height < 10.0:
            raise ValueError(f"fixed_base_height must be within 0-10 m, got {fixed_base_height}")
        text = _fixed_base(text, fixed_base_height)
    if gazebo_controllers is not None:
        initial = {name: float(value) for name, value in config.reference_posture.items()}
        text = _ros2_control(text, urdf_joint_order(config.urdf), initial, Path(gazebo_controllers))
    return text
