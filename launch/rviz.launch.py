"""The node, robot_state_publisher and RViz: watch the robot and the human skeleton without a controller.

    ros2 launch motionlcm_node rviz.launch.py
    ros2 launch motionlcm_node rviz.launch.py robot:=talos

The node publishes its commanded joint states on /joint_states and the floating base on /tf
(world -> the URDF's root link); robot_state_publisher turns them into the robot's frames.
RViz shows the robot model, the human skeleton (``/motion_generator/human_skeleton``) and its own
"Publish Point" tool sends ``/clicked_point``, remapped to the node's ``~/hand_target``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

SHARE = FindPackageShare("motionlcm_node")
ARGUMENTS = {
    "robot": ("g1", "Robot: a built-in name (g1, talos) or a robot YAML path; RViz shows its URDF."),
    "rviz_config": (PathJoinSubstitution([SHARE, "config", "motion_generator.rviz"]), "RViz configuration file."),
    "params_file": (
        PathJoinSubstitution([SHARE, "config", "motion_generator.yaml"]),
        "YAML file of the node's parameters.",
    ),
}


def robot_state_publisher(context: object) -> list[object]:
    """robot_state_publisher with the URDF of the ``robot`` argument (mesh paths resolved for RViz)."""
    from motionlcm_node.ros.description import robot_description

    description = robot_description(LaunchConfiguration("robot").perform(context))
    return [Node(package="robot_state_publisher", executable="robot_state_publisher", output="screen",
                 parameters=[{"robot_description": description}])]  # fmt: skip


def generate_launch_description() -> LaunchDescription:
    """The arguments above, the node (publishing its joint states), robot_state_publisher and RViz."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in ARGUMENTS.items()]  # fmt: skip
    generator = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([SHARE, "launch", "motion_generator.launch.py"])),
        launch_arguments={
            "robot": LaunchConfiguration("robot"),
            "params_file": LaunchConfiguration("params_file"),
            "publish_joint_states": "true",
            "commanded_joint_states_topic": "/joint_states",
        }.items(),
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        output="screen",
        arguments=["-d", LaunchConfiguration("rviz_config")],
        remappings=[("/clicked_point", "/motion_generator/hand_target")],
    )
    return LaunchDescription([*declared, generator, OpaqueFunction(function=robot_state_publisher), rviz])
