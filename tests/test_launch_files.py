"""The launch files and the parameter and controller files they use, without the ROS 2 ``launch`` package.

``launch`` and ``launch_ros`` are not installable here, so this module puts stand-ins for the names
the launch files import into ``sys.modules``: each records what it was built with, and substitutions
resolve against the launch arguments' defaults, with ``FindPackageShare("motionlcm_node")`` pointing at
this checkout (laid out like the installed share folder). What is checked: every argument is described
and every argument used is declared; included files and their arguments exist; the node's executable,
parameters and remappings are the node's own; the URDFs the launch files hand to robot_state_publisher
and Gazebo load in Pinocchio with the ros2_control joints of the controllers file.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pinocchio as pin
import pytest
import yaml

from motionlcm_node.ros import parameters
from retargeting import load_robot

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = ("motion_generator.launch.py", "rviz.launch.py", "gazebo.launch.py")


class Recorded:
    """Any launch object: keeps its arguments."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(Recorded):
    def perform(self, context: dict[str, object]) -> str:
        return resolve(context[self.args[0]], context)


class FindPackageShare(Recorded):
    def perform(self, context: dict[str, object]) -> str:
        return str(ROOT) if self.args[0] == "motionlcm_node" else f"/opt/ros/jazzy/share/{self.args[0]}"


class PathJoinSubstitution(Recorded):
    def perform(self, context: dict[str, object]) -> str:
        return str(Path(*[resolve(part, context) for part in self.args[0]]))


def resolve(value: object, context: dict[str, object]) -> str:
    """A launch value as text (substitutions performed, lists concatenated)."""
    if isinstance(value, list):
        return "".join(resolve(part, context) for part in value)
    return value.perform(context) if hasattr(value, "perform") else str(value)


@pytest.fixture
def launch_stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    actions = ("DeclareLaunchArgument", "IncludeLaunchDescription", "OpaqueFunction")
    substitutions = {"LaunchConfiguration": LaunchConfiguration, "PathJoinSubstitution": PathJoinSubstitution}
    names = {
        "launch": {"LaunchDescription": Recorded},
        "launch.actions": {name: type(name, (Recorded,), {}) for name in actions},
        "launch.launch_description_sources": {"PythonLaunchDescriptionSource": type("Source", (Recorded,), {})},
        "launch.substitutions": substitutions,
        "launch_ros": {},
        "launch_ros.actions": {"Node": type("Node", (Recorded,), {})},
        "launch_ros.parameter_descriptions": {"ParameterValue": type("ParameterValue", (Recorded,), {})},
        "launch_ros.substitutions": {"FindPackageShare": FindPackageShare},
    }
    for name, attributes in names.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in launch/


def load(name: str) -> list[Recorded]:
    """The entities of a launch file's description."""
    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), ROOT / "launch" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.generate_launch_description().args[0])


def of_type(entities: list[Recorded], name: str) -> list[Recorded]:
    return [entity for entity in entities if type(entity).__name__ == name]


def defaults(entities: list[Recorded]) -> dict[str, object]:
    return {
        argument.args[0]: argument.kwargs["default_value"] for argument in of_type(entities, "DeclareLaunchArgument")
    }


def used_configurations(value: object, seen: set[int] | None = None) -> set[str]:
    """Names of every LaunchConfiguration reachable from ``value``."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return set()
    seen.add(id(value))
    if isinstance(value, LaunchConfiguration):
        return {value.args[0]}
    children: list[object] = []
    if isinstance(value, Recorded):
        children = [*value.args, *value.kwargs.values()]
    elif isinstance(value, (list, tuple, set)):
        children = list(value)
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, types.GeneratorType | type({}.items())):
        children = list(value)
    return set().union(*(used_configurations(child, seen) for child in children)) if children else set()


@pytest.mark.parametrize("name", LAUNCH_FILES)
def test_every_argument_is_described_and_every_used_one_declared(launch_stand_ins: None, name: str) -> None:
    entities = load(name)
    declared = of_type(entities, "DeclareLaunchArgument")
    assert declared and all(len(argument.kwargs["description"]) > 15 for argument in declared)
    names = [argument.args[0] for argument in declared]
    assert len(names) == len(set(names))
    used = set().union(
        *(used_configurations(entity) for entity in entities if type(entity).__name__ != "OpaqueFunction")
    )
    assert used <= set(names), f"{name} uses undeclared arguments {used - set(names)}"


@pytest.mark.parametrize("name", ["rviz.launch.py", "gazebo.launch.py"])
def test_included_launch_files_exist_and_take_the_arguments_given(launch_stand_ins: None, name: str) -> None:
    entities = load(name)
    context = defaults(entities)
    for include in of_type(entities, "IncludeLaunchDescription"):
        path = Path(resolve(include.args[0].args[0], context))
        arguments = dict(include.kwargs["launch_arguments"])
        if path.is_relative_to(ROOT):
            assert path.is_file()
            assert set(arguments) <= set(defaults(load(path.name)))
        else:
            assert path == Path("/opt/ros/jazzy/share/ros_gz_sim/launch/gz_sim.launch.py")


def test_the_node_runs_our_executable_with_our_parameters_and_topics(launch_stand_ins: None) -> None:
    entities = load("motion_generator.launch.py")
    context = defaults(entities)
    (node,) = of_type(entities, "Node")
    assert (node.kwargs["package"], node.kwargs["executable"]) == ("motionlcm_node", "motion_generator")
    assert "motion_generator = motionlcm_node.node:main" in (ROOT / "setup.py").read_text()
    params_file, overrides = node.kwargs["parameters"]
    assert Path(resolve(params_file, context)) == ROOT / "config" / "motion_generator.yaml"
    assert set(overrides) <= {spec.name for spec in parameters.SPECS} | {"use_sim_time"}
    from motionlcm_node.ros.outputs import JOINT_STATES_TOPIC, TRAJECTORY_TOPIC

    remapped = {source for source, _ in node.kwargs["remappings"]}
    assert remapped == {TRAJECTORY_TOPIC, "joint_states", JOINT_STATES_TOPIC}


def test_the_parameter_file_lists_every_parameter_at_its_default() -> None:
    values = yaml.safe_load((ROOT / "config" / "motion_generator.yaml").read_text())["/**"]["ros__parameters"]
    assert list(values) == [spec.name for spec in parameters.SPECS]
    for spec in parameters.SPECS:
        assert parameters.check(spec.name, values[spec.name]) is None and values[spec.name] == spec.default


def test_rviz_gets_the_robot_with_meshes_it_can_open(launch_stand_ins: None) -> None:
    entities = load("rviz.launch.py")
    (opaque,) = of_type(entities, "OpaqueFunction")
    (publisher,) = opaque.kwargs["function"](defaults(entities))
    description = publisher.kwargs["parameters"][0]["robot_description"]
    model = pin.buildModelFromXML(description)
    assert model.nq == model.nv == 29  # the floating base comes from the node on /tf (world -> root link)
    from motionlcm_node.ros.description import root_link

    assert root_link(description) == "pelvis"
    meshes = [part.split('"')[0] for part in description.split('filename="file://')[1:]]
    assert meshes and all(Path(mesh).is_file() for mesh in meshes)
    rviz = next(node for node in of_type(entities, "Node") if node.kwargs["package"] == "rviz2")
    assert Path(resolve(rviz.kwargs["arguments"][1], defaults(entities))).is_file()
    assert ("/clicked_point", "/motion_generator/hand_target") in rviz.kwargs["remappings"]


def test_gazebo_gets_a_welded_robot_whose_ros2_control_joints_match_the_controllers(launch_stand_ins: None) -> None:
    entities = load("gazebo.launch.py")
    context = defaults(entities)
    (opaque,) = of_type(entities, "OpaqueFunction")
    state_publisher, spawn = opaque.kwargs["function"](context)
    description = state_publisher.kwargs["parameters"][0]["robot_description"]
    assert spawn.kwargs["arguments"][:2] == ["-topic", "robot_description"]
    model = pin.buildModelFromXML(description)
    joint_names = list(load_robot("g1").urdf_joint_names)
    assert model.nq == model.nv == len(joint_names) == 29  # welded to the world: no floating base
    controllers = yaml.safe_load((ROOT / "config" / "g1_controllers.yaml").read_text())
    assert controllers["joint_trajectory_controller"]["ros__parameters"]["joints"] == joint_names
    import xml.etree.ElementTree as ET

    block = ET.fromstring(description).find("ros2_control")
    assert [joint.get("name") for joint in block.findall("joint")] == joint_names
    assert str(ROOT / "config" / "g1_controllers.yaml") in description
    spawned = {
        node.kwargs["arguments"][0]
        for node in of_type(entities, "Node")
        if node.kwargs["package"] == "controller_manager"
    }
    assert spawned == set(controllers["controller_manager"]["ros__parameters"]) - {"update_rate"}
