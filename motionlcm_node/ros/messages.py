"""ROS 2 messages in and out of the generator.

In: commands, waypoints and joint states. Out: trajectories, skeleton markers, status, diagnostics.

Plain conversion functions over message types (no node, no ``rclpy.node``). Incoming messages become
the ROS-free types of ``motionlcm_node.commands``; anything malformed raises ``CommandError``.
"""

from __future__ import annotations

import itertools
import uuid

import numpy as np
from builtin_interfaces.msg import Duration, Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, TransformStamped
from std_msgs.msg import ColorRGBA
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
from visualization_msgs.msg import Marker, MarkerArray

from motionlcm_node.commands.plan import Window
from motionlcm_node.commands.requests import (
    BlendMode,
    Command,
    CommandError,
    ErrorCode,
    TargetKind,
    WaypointTarget,
    check_blend_seconds,
    check_duration,
    check_start_time,
    clean_text,
)
from motionlcm_node.data.smpl import KINEMATIC_CHAINS


def to_seconds(stamp: Time | Duration) -> float:
    """A ``Time`` or ``Duration`` in seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def to_time(seconds: float) -> Time:
    """Seconds as a ``builtin_interfaces/Time`` (non-negative)."""
    nanoseconds = max(round(seconds * 1e9), 0)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def to_duration(seconds: float) -> Duration:
    """Seconds as a ``builtin_interfaces/Duration`` (non-negative)."""
    nanoseconds = max(round(seconds * 1e9), 0)
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def new_command_id() -> str:
    """An identifier for a command that came without one."""
    return uuid.uuid4().hex[:12]


def trajectory_message(window: Window, joint_names: tuple[str, ...]) -> JointTrajectory:
    """A window of a plan as a ``JointTrajectory`` (positions in rad, velocities in rad/s)."""
    message = JointTrajectory()
    message.header.stamp = to_time(window.stamp)
    message.joint_names = list(joint_names)
    message.points = [
        JointTrajectoryPoint(
            positions=positions.tolist(), velocities=velocities.tolist(), time_from_start=to_duration(float(offset))
        )
        for offset, positions, velocities in zip(window.times, window.positions, window.velocities, strict=True)
    ]
    return message


def command_from_text(text: str | bytes, command_id: str, defaults: dict[str, float], max_characters: int) -> Command:
    """A ``std_msgs/String`` command: the text alone, default duration and blend, replacing the motion now.

    Raises:
        CommandError: bad text.
    """
    return Command(
        command_id or new_command_id(),
        clean_text(text, max_characters),
        defaults["duration"],
        BlendMode.REPLACE_NOW,
        defaults["blend_seconds"],
    )


def command_from_message(
    message: object, now: float, defaults: dict[str, float], limits: dict[str, float], epoch: float = 0.0
) -> Command:
    """A ``motionlcm_msgs/MotionCommand`` as a validated command.

    Args:
        message: the command message.
        now: the session's clock, seconds since ``epoch``.
        defaults: ``duration`` and ``blend_seconds`` used for zeros.
        limits: ``max_characters``, ``max_ahead`` and ``max_behind`` (seconds).
        epoch: ROS time of the session clock's zero (the stamp is converted to session time).

    Raises:
        CommandError: a bad field (text, duration, blend, blend mode or stamp).
    """
    text = clean_text(message.text, int(limits["max_characters"]))
    duration = check_duration(float(message.duration), defaults["duration"])
    blend = check_blend_seconds(float(message.blend_seconds), defaults["blend_seconds"])
    try:
        mode = BlendMode(int(message.blend_mode))
    except ValueError:
        raise CommandError(ErrorCode.INVALID_DURATION, f"unknown blend_mode {message.blend_mode}") from None
    start = None
    if mode is BlendMode.AT_STAMP:
        stamp = to_seconds(message.header.stamp)
        stamp = None if stamp == 0 else stamp - epoch
        start = check_start_time(stamp, now, limits["max_ahead"], limits["max_behind"])
    return Command(str(message.command_id) or new_command_id(), text, duration, mode, blend, start)


def waypoints_from_message(message: object, world_frame: str) -> list[WaypointTarget]:
    """The targets of a ``motionlcm_msgs/Waypoints`` (checked against the command later).

    Raises:
        CommandError: ``INVALID_WAYPOINTS`` for a frame other than the world frame or an unknown kind.
    """
    check_frame(message.header.frame_id, world_frame)
    targets = []
    for index, waypoint in enumerate(message.waypoints):
        try:
            kind = TargetKind(int(waypoint.target_kind))
        except ValueError:
            raise CommandError(
                ErrorCode.INVALID_WAYPOINTS, f"waypoint {index}: unknown target_kind {waypoint.target_kind}"
            ) from None
        position = (float(waypoint.position.x), float(waypoint.position.y), float(waypoint.position.z))
        targets.append(WaypointTarget(kind, str(waypoint.name), position, to_seconds(waypoint.time_from_start)))
    return targets


def waypoints_from_path(message: object, world_frame: str, duration: float) -> list[WaypointTarget]:
    """A ``nav_msgs/Path`` as pelvis targets: at the poses' stamps relative to the first, else spread evenly.

    Raises:
        CommandError: ``INVALID_WAYPOINTS`` for an empty path or another frame.
    """
    if not message.poses:
        raise CommandError(ErrorCode.INVALID_WAYPOINTS, "the path holds no poses")
    check_frame(message.header.frame_id, world_frame)
    stamps = [to_seconds(pose.header.stamp) for pose in message.poses]
    spread = len(stamps) < 2 or stamps[-1] <= stamps[0]
    targets = []
    for index, pose in enumerate(message.poses):
        check_frame(pose.header.frame_id or message.header.frame_id, world_frame)
        when = duration * (index + 1) / len(message.poses) if spread else stamps[index] - stamps[0]
        position = (float(pose.pose.position.x), float(pose.pose.position.y), float(pose.pose.position.z))
        targets.append(WaypointTarget(TargetKind.HUMAN_JOINT, "pelvis", position, when))
    return targets


def check_frame(frame_id: str, world_frame: str) -> None:
    """Accept the generator's world frame (or an empty frame id, which means it).

    Raises:
        CommandError: ``INVALID_WAYPOINTS`` naming the frame.
    """
    if frame_id not in ("", world_frame):
        raise CommandError(
            ErrorCode.INVALID_WAYPOINTS, f"unknown frame {frame_id!r}: targets must be in {world_frame!r}"
        )


def joint_state_arrays(message: object, joint_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities of a ``sensor_msgs/JointState`` in the order of ``joint_names``.

    Raises:
        CommandError: a joint missing from the message, mismatched lengths or non-finite values.
    """
    names = list(message.name)
    positions, velocities = list(message.position), list(message.velocity)
    if len(positions) != len(names) or (velocities and len(velocities) != len(names)):
        raise CommandError(ErrorCode.INVALID_WAYPOINTS, "joint_states: name, position and velocity lengths differ")
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in joint_names if name not in index]
    if missing:
        raise CommandError(ErrorCode.INVALID_WAYPOINTS, f"joint_states lacks {len(missing)} joints, e.g. {missing[:3]}")
    q = np.array([positions[index[name]] for name in joint_names], dtype=np.float64)
    v = np.array([velocities[index[name]] for name in joint_names] if velocities else np.zeros(len(joint_names)))
    if not (np.isfinite(q).all() and np.isfinite(v).all()):
        raise CommandError(ErrorCode.INVALID_WAYPOINTS, "joint_states holds non-finite values")
    return q, v


def skeleton_markers(joints: np.ndarray, frame: str, stamp: float) -> MarkerArray:
    """The human pose [22, 3] (m, world frame) as RViz markers: bones (a line list) and joints (spheres)."""
    header_stamp = to_time(stamp)
    points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in joints]
    bones = Marker(type=Marker.LINE_LIST, action=Marker.ADD, ns="human_skeleton", id=0)
    bones.points = [points[index] for chain in KINEMATIC_CHAINS for pair in itertools.pairwise(chain) for index in pair]
    bones.scale.x = 0.02
    bones.color = ColorRGBA(r=0.1, g=0.45, b=0.9, a=1.0)
    spheres = Marker(type=Marker.SPHERE_LIST, action=Marker.ADD, ns="human_skeleton", id=1)
    spheres.points = points
    spheres.scale.x = spheres.scale.y = spheres.scale.z = 0.04
    spheres.color = ColorRGBA(r=0.9, g=0.3, b=0.1, a=1.0)
    for marker in (bones, spheres):
        marker.header.frame_id, marker.header.stamp = frame, header_stamp
        marker.pose.orientation.w = 1.0
    return MarkerArray(markers=[bones, spheres])


def base_transform(
    position: np.ndarray, orientation: np.ndarray, parent: str, child: str, stamp: float
) -> TransformStamped:
    """The floating base as a transform ``parent`` -> ``child`` (position m, quaternion x, y, z, w)."""
    transform = TransformStamped()
    transform.header.frame_id, transform.header.stamp, transform.child_frame_id = parent, to_time(stamp), child
    translation, rotation = transform.transform.translation, transform.transform.rotation
    translation.x, translation.y, translation.z = (float(value) for value in position)
    rotation.x, rotation.y, rotation.z, rotation.w = (float(value) for value in orientation)
    return transform


def diagnostics_message(
    name: str, level: int, message: str, values: dict[str, object], stamp: float
) -> DiagnosticArray:
    """One ``DiagnosticStatus`` (level: OK 0, WARN 1, ERROR 2) with key-value details."""
    status = DiagnosticStatus(level=bytes([level]), name=name, message=message, hardware_id="motionlcm_node")
    status.values = [KeyValue(key=key, value=str(value)) for key, value in values.items()]
    array = DiagnosticArray(status=[status])
    array.header.stamp = to_time(stamp)
    return array
