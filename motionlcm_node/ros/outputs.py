"""What the node publishes every ``publish_period``: the trajectory window, the skeleton, the robot's state.

* ``joint_trajectory``: the plan from now over the look-ahead, ending at rest (see
  :mod:`motionlcm_node.commands.plan` for why consecutive messages replace each other seamlessly);
* ``~/human_skeleton``: the human pose the plan came from, as RViz markers in ``world_frame``;
* with ``publish_joint_states``: ``~/commanded_joint_states`` (remap it to ``/joint_states`` to drive
  ``robot_state_publisher`` without a controller) and the floating base as a ``world_frame`` ->
  root-link transform on ``/tf``, so that RViz shows the robot walking. ``/tf`` needs ``tf2_msgs``,
  which every ROS 2 install with ``robot_state_publisher`` has; without it (the PyPI wheels here) the
  transform is skipped and the status says so once.

Publishers are lifecycle publishers of the node: nothing goes out while it is inactive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from rclpy.serialization import serialize_message
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory
from visualization_msgs.msg import MarkerArray

from motionlcm_node.commands.plan import Window
from motionlcm_node.ros.messages import base_transform, skeleton_markers, to_seconds, to_time, trajectory_message

TRAJECTORY_TOPIC = "joint_trajectory"
SKELETON_TOPIC = "~/human_skeleton"
JOINT_STATES_TOPIC = "~/commanded_joint_states"
Recorder = Callable[[str, str, bytes], None]


def _transform_message_type() -> type | None:
    try:
        from tf2_msgs.msg import TFMessage
    except ImportError:
        return None
    return TFMessage


class OutputPublishers:
    """The node's output publishers and how each message is built.

    Args:
        node: the lifecycle node that owns the publishers.
        joint_names: the robot's joints, URDF order (the trajectory's columns).
        base_link: the URDF root link (child frame of the base transform).
        record: writes a serialised message to the recording (topic, type name, bytes); None: no recording.
    """

    def __init__(self, node: object, joint_names: tuple[str, ...], base_link: str, record: Recorder | None) -> None:
        self.node, self.joint_names, self.base_link, self.record = node, joint_names, base_link, record
        self.trajectory = node.create_lifecycle_publisher(JointTrajectory, TRAJECTORY_TOPIC, 10)
        self.skeleton = node.create_lifecycle_publisher(MarkerArray, SKELETON_TOPIC, 10)
        self.joint_states = node.create_lifecycle_publisher(JointState, JOINT_STATES_TOPIC, 10)
        transform_type = _transform_message_type()
        self.transforms = None if transform_type is None else node.create_lifecycle_publisher(transform_type, "/tf", 50)
        self.transform_type = transform_type
        self.published = 0

    def _write(self, topic: str, type_name: str, message: object) -> None:
        if self.record is not None:
            self.record(topic, type_name, serialize_message(message))

    def publish_window(self, window: Window, epoch: float) -> float:
        """Publish one trajectory window (stamps on the session clock, ``epoch`` added); returns its stamp, s."""
        message = trajectory_message(replace(window, stamp=window.stamp + epoch), self.joint_names)
        self.trajectory.publish(message)
        self.published += 1
        self._write(TRAJECTORY_TOPIC, "trajectory_msgs/msg/JointTrajectory", message)
        return to_seconds(message.header.stamp)

    def publish_skeleton(self, pose: np.ndarray, frame: str, stamp: float) -> None:
        """Publish the human pose [22, 3] (m, ``frame``) as markers stamped ``stamp`` (s)."""
        markers = skeleton_markers(pose, frame, stamp)
        self.skeleton.publish(markers)
        self._write(SKELETON_TOPIC, "visualization_msgs/msg/MarkerArray", markers)

    def publish_state(
        self,
        state: tuple[np.ndarray, np.ndarray],
        base: tuple[np.ndarray, np.ndarray] | None,
        frame: str,
        stamp: float,
    ) -> bool:
        """Publish the commanded joint state and the base transform; returns whether ``/tf`` went out.

        Args:
            state: joint positions (rad) and velocities (rad/s), URDF order.
            base: floating-base position (m) and quaternion (x, y, z, w) in ``frame``, or None.
            frame: the world frame (parent of the base transform).
            stamp: the messages' stamp, s.
        """
        message = JointState(name=list(self.joint_names), position=state[0].tolist(), velocity=state[1].tolist())
        message.header.stamp = to_time(stamp)
        self.joint_states.publish(message)
        if self.transforms is None or base is None:
            return False
        self.transforms.publish(self.transform_type(transforms=[base_transform(*base, frame, self.base_link, stamp)]))
        return True

    def destroy(self) -> None:
        """Destroy every publisher."""
        for publisher in (self.trajectory, self.skeleton, self.joint_states, self.transforms):
            if publisher is not None:
                self.node.destroy_lifecycle_publisher(publisher)
        self.trajectory = self.skeleton = self.joint_states = self.transforms = None
