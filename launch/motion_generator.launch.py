"""The motion_generator node alone: text and waypoints in, joint_trajectory out.

    ros2 launch motionlcm_node motion_generator.launch.py
    ros2 launch motionlcm_node motion_generator.launch.py \
        trajectory_topic:=/joint_trajectory_controller/joint_trajectory

Then ``ros2 topic pub --once /motion_generator/command std_msgs/msg/String "{data: 'a person waves'}"``.
The other launch files include this one.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    "params_file": (
        PathJoinSubstitution([FindPackageShare("motionlcm_node"), "config", "motion_generator.yaml"]),
        "YAML file of the node's parameters (config/motion_generator.yaml lists and explains them all).",
    ),
    "robot": ("g1", "Robot the motion is retargeted onto: a built-in name (g1, talos) or a robot YAML path."),
    "namespace": ("", "Namespace of the node (its topics are relative to it)."),
    "trajectory_topic": ("/joint_trajectory", "Where the JointTrajectory messages go (a controller's topic)."),
    "joint_states_topic": ("/joint_states", "The robot's joint states, where new motions start from."),
    "publish_joint_states": (
        "false",
        "Also publish the commanded state (~/commanded_joint_states) and the base on /tf.",
    ),
    "commanded_joint_states_topic": ("~/commanded_joint_states", "Where the commanded joint states go."),
    "record_path": ("", "Record commands, waypoints, trajectories and joint states to this MCAP file; empty: off."),
    "use_sim_time": ("false", "Use the /clock topic (simulation) instead of the wall clock."),
    "log_level": ("info", "Logging level of the node (debug, info, warn, error)."),
}


def generate_launch_description() -> LaunchDescription:
    """The arguments above and the node."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in ARGUMENTS.items()]  # fmt: skip
    node = Node(
        package="motionlcm_node",
        executable="motion_generator",
        name="motion_generator",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "robot": LaunchConfiguration("robot"),
                "record_path": LaunchConfiguration("record_path"),
                "publish_joint_states": ParameterValue(LaunchConfiguration("publish_joint_states"), value_type=bool),
                "use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool),
            },
        ],
        remappings=[
            ("joint_trajectory", LaunchConfiguration("trajectory_topic")),
            ("joint_states", LaunchConfiguration("joint_states_topic")),
            ("~/commanded_joint_states", LaunchConfiguration("commanded_joint_states_topic")),
        ],
        arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
    )
    return LaunchDescription([*declared, node])
