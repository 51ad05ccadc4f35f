"""The node driving a robot in Gazebo (gz sim) through gz_ros2_control's joint_trajectory_controller.

    ros2 launch motionlcm_node gazebo.launch.py
    ros2 launch motionlcm_node gazebo.launch.py controllers_file:=/path/to/my_controllers.yaml

Needs a ROS 2 Jazzy install with ``ros_gz_sim``, ``ros_gz_bridge``, ``gz_ros2_control`` and
``ros2_controllers``. The robot's URDF (the node's ``robot``) gets a ``<ros2_control>`` block for every
joint and is welded to the world at ``hang_height``: a humanoid under pure position control has no
balance and would fall, so the legs move while the pelvis hangs in place (the generated root motion
is shown in RViz, not in Gazebo). The node's ``joint_trajectory`` goes to the controller's topic, and
new motions start from the simulated ``/joint_states``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

SHARE = FindPackageShare("motionlcm_node")
CONTROLLER = "joint_trajectory_controller"
ARGUMENTS = {
    "robot": ("g1", "Robot: a built-in name or a robot YAML path; its joints must match the controllers file."),
    "controllers_file": (
        PathJoinSubstitution([SHARE, "config", "g1_controllers.yaml"]),
        "ros2_control controllers (joint_state_broadcaster and a joint_trajectory_controller over every joint).",
    ),
    "hang_height": ("0.8", "Height at which the robot's root link is welded to the world, m."),
    "world": ("empty.sdf", "Gazebo world file."),
    "params_file": (
        PathJoinSubstitution([SHARE, "config", "motion_generator.yaml"]),
        "YAML file of the node's parameters.",
    ),
}


def robot_in_gazebo(context: object) -> list[object]:
    """robot_state_publisher with the ros2_control URDF, and the spawn of that URDF into Gazebo."""
    from motionlcm_node.ros.description import robot_description

    description = robot_description(
        LaunchConfiguration("robot").perform(context),
        fixed_base_height=float(LaunchConfiguration("hang_height").perform(context)),
        gazebo_controllers=LaunchConfiguration("controllers_file").perform(context),
    )
    return [
        Node(package="robot_state_publisher", executable="robot_state_publisher", output="screen",
             parameters=[{"robot_description": description, "use_sim_time": True}]),
        Node(package="ros_gz_sim", executable="create", output="screen",
             arguments=["-topic", "robot_description", "-name", "motionlcm_robot"]),
    ]  # fmt: skip


def generate_launch_description() -> LaunchDescription:
    """The arguments above, Gazebo, the robot, its controllers and the node."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in ARGUMENTS.items()]  # fmt: skip
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])
        ),
        launch_arguments={"gz_args": ["-r ", LaunchConfiguration("world")]}.items(),
    )
    clock = Node(package="ros_gz_bridge", executable="parameter_bridge", output="screen",
                 arguments=["/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock"])  # fmt: skip
    spawners = [
        Node(package="controller_manager", executable="spawner", output="screen", arguments=[name])
        for name in ("joint_state_broadcaster", CONTROLLER)
    ]
    generator = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([SHARE, "launch", "motion_generator.launch.py"])),
        launch_arguments={
            "robot": LaunchConfiguration("robot"),
            "params_file": LaunchConfiguration("params_file"),
            "trajectory_topic": f"/{CONTROLLER}/joint_trajectory",
            "joint_states_topic": "/joint_states",
            "use_sim_time": "true",
        }.items(),
    )
    return LaunchDescription([*declared, gazebo, clock, OpaqueFunction(function=robot_in_gazebo), *spawners, generator])
