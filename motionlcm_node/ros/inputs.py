"""The node's subscriptions: each message is decoded and checked here, then handed to the session.

A message becomes a command for the session, a set of waypoints, or the robot's joint state.

Each handler takes the raw (CDR) bytes, so that a message that cannot even be decoded (invalid UTF-8 in
a string field, a truncated buffer) is a warning like any other bad input instead of an exception in
the executor. Handlers never raise: every failure is logged (throttled), shown in the status and
counted, and the last good state is kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from rclpy.serialization import deserialize_message

from motionlcm_node.commands.requests import (
    Command,
    CommandError,
    ErrorCode,
    TargetKind,
    WaypointTarget,
    check_waypoints,
)
from motionlcm_node.commands.session import CommandSession
from motionlcm_node.ros import messages
from motionlcm_node.ros.status import StatusBoard

#: Waypoint sets kept for commands that have not arrived yet.
MAX_STORED_WAYPOINT_SETS = 16
#: What ``~/hand_target`` and ``~/pelvis_path`` ask for until language and the ControlNet say more.
HAND_TEXT = "a person reaches forward with the {hand} hand"
PATH_TEXT = "a person walks forward"


@dataclass
class InputContext:
    """What the handlers need from the node (all callables are thread-safe).

    Attributes:
        session: receives the commands.
        status: the status board.
        parameter: the current value of a node parameter by name.
        now: the session's clock, seconds since ``epoch``.
        epoch: ROS time of the session clock's zero, seconds (message stamps minus this are session times).
        active: whether the node is in the active lifecycle state.
        warn: logs a warning (throttled by the node).
        record: ``record(topic, msgtype, data)`` when recording, else a no-op.
        robot_frames: link names a waypoint may name.
        joint_names: the robot's joints (URDF order).
    """

    session: CommandSession
    status: StatusBoard
    parameter: Callable[[str], object]
    now: Callable[[], float]
    epoch: float
    active: Callable[[], bool]
    warn: Callable[[str], None]
    record: Callable[[str, str, bytes], None]
    robot_frames: frozenset[str]
    joint_names: tuple[str, ...]


def type_name(message_type: type) -> str:
    """``package/msg/Name`` of a generated ROS message class."""
    package, kind = message_type.__module__.split(".")[:2]
    return f"{package}/{kind}/{message_type.__name__}"


class InputHandlers:
    """The subscription callbacks.

    Topics: ``~/command``, ``~/motion_command``, ``~/waypoints``, ``~/pelvis_path``, ``~/hand_target``
    and ``joint_states``.
    """

    def __init__(self, context: InputContext) -> None:
        self.context = context
        self._waypoints: OrderedDict[str, list[WaypointTarget]] = OrderedDict()
        self._arrived = 0.0  # time.monotonic() of the message being handled (one callback at a time)

    # -- helpers ------------------------------------------------------------------------------------
    def _decode(self, data: bytes, message_type: type, topic: str, command: bool) -> object | None:
        try:
            return deserialize_message(data, message_type)
        except Exception as error:
            self._reject(f"{topic}: cannot decode the message ({type(error).__name__}: {error})", count=command)
            return None

    def _reject(self, reason: str, count: bool = True) -> None:
        if count:
            self.context.session.note_rejected()
        self.context.status.warn(reason)
        self.context.warn(reason)

    def _defaults(self) -> dict[str, float]:
        parameter = self.context.parameter
        return {"duration": float(parameter("default_duration")), "blend_seconds": float(parameter("blend_seconds"))}

    def _submit(self, command: Command) -> None:
        """Validate and hand the command to the session; the planner's thread reads it.

        Reading a command (understood or refused) costs a MiniLM call (~7 ms); the executor must keep up
        with a flood of commands of which only the newest is planned. A refusal shows in the status as
        a failed command, and the running motion goes on.
        """
        try:
            waypoints = check_waypoints(list(command.waypoints), command.duration, self.context.robot_frames)
            self.context.session.submit(replace(command, waypoints=waypoints, received=self._arrived))
        except CommandError as error:
            self._reject(f"command {command.command_id!r} refused: {error}")

    def _guarded(
        self, topic: str, message_type: type, data: bytes, handle: Callable[[object], None], command: bool = True
    ) -> None:
        self._arrived = time.monotonic()
        self.context.record(topic, type_name(message_type), data)
        if not self.context.active():
            if command:
                self._reject(f"{topic}: ignored, the generator is not active", count=False)
            return
        message = self._decode(data, message_type, topic, command)
        if message is None:
            return
        try:
            handle(message)
        except CommandError as error:
            self._reject(f"{topic}: {error}", count=command)
        except Exception as error:
            self._reject(f"{topic}: internal error ({type(error).__name__}: {error})", count=command)

    # -- callbacks ----------------------------------------------------------------------------------
    def on_text(self, data: bytes) -> None:
        """``~/command`` (``std_msgs/String``): replace the motion now with this text."""
        from std_msgs.msg import String

        def handle(message: object) -> None:
            limit = int(self.context.parameter("max_text_length"))
            self._submit(messages.command_from_text(message.data, "", self._defaults(), limit))

        self._guarded("~/command", String, data, handle)

    def on_motion_command(self, data: bytes) -> None:
        """``~/motion_command`` (``motionlcm_msgs/MotionCommand``), with the waypoints sent for its id."""
        from motionlcm_msgs.msg import MotionCommand

        def handle(message: object) -> None:
            parameter = self.context.parameter
            limits = {
                "max_characters": int(parameter("max_text_length")),
                "max_ahead": float(parameter("max_schedule_ahead")),
                "max_behind": float(parameter("max_stamp_age")),
            }
            try:
                command = messages.command_from_message(
                    message, self.context.now(), self._defaults(), limits, self.context.epoch
                )
            except CommandError as error:  # name the command, so that its sender can tell the refusal is its own
                raise CommandError(error.code, f"command {str(message.command_id)[:80]!r} refused: {error}") from None
            targets = self._waypoints.pop(str(message.command_id), []) if message.command_id else []
            self._submit(replace(command, waypoints=tuple(targets)))

        self._guarded("~/motion_command", MotionCommand, data, handle)

    def on_waypoints(self, data: bytes) -> None:
        """``~/waypoints`` (``motionlcm_msgs/Waypoints``): kept for the command with the same id."""
        from motionlcm_msgs.msg import Waypoints

        def handle(message: object) -> None:
            targets = messages.waypoints_from_message(message, str(self.context.parameter("world_frame")))
            check_waypoints(targets, 9.8, self.context.robot_frames)  # names, values; times against the command later
            if not message.command_id:
                raise CommandError(ErrorCode.INVALID_WAYPOINTS, "waypoints need the command_id of their command")
            self._waypoints[str(message.command_id)] = targets
            while len(self._waypoints) > MAX_STORED_WAYPOINT_SETS:
                self._waypoints.popitem(last=False)
            self.context.status.update(message=f"{len(targets)} waypoint(s) for {message.command_id!r} accepted")

        self._guarded("~/waypoints", Waypoints, data, handle)

    def on_pelvis_path(self, data: bytes) -> None:
        """``~/pelvis_path`` (``nav_msgs/Path``): walk along it (pelvis targets)."""
        from nav_msgs.msg import Path

        def handle(message: object) -> None:
            duration = float(self.context.parameter("default_duration"))
            targets = messages.waypoints_from_path(message, str(self.context.parameter("world_frame")), duration)
            duration = max(duration, max(target.time for target in targets))
            command = messages.command_from_text(PATH_TEXT, "", self._defaults(), 300)
            self._submit(replace(command, duration=min(duration, 9.8), waypoints=tuple(targets)))

        self._guarded("~/pelvis_path", Path, data, handle)

    def on_hand_target(self, data: bytes) -> None:
        """``~/hand_target`` (``geometry_msgs/PointStamped``, RViz's "Publish Point"): reach for it."""
        from geometry_msgs.msg import PointStamped

        def handle(message: object) -> None:
            messages.check_frame(message.header.frame_id, str(self.context.parameter("world_frame")))
            hand = str(self.context.parameter("hand"))
            point = (float(message.point.x), float(message.point.y), float(message.point.z))
            target = WaypointTarget(
                TargetKind.HUMAN_JOINT,
                "r_wrist" if hand == "right" else "l_wrist",
                point,
                float(self.context.parameter("hand_target_time")),
            )
            command = messages.command_from_text(HAND_TEXT.format(hand=hand), "", self._defaults(), 300)
            self._submit(replace(command, waypoints=(target,)))

        self._guarded("~/hand_target", PointStamped, data, handle)

    def on_joint_state(self, data: bytes) -> None:
        """``joint_states`` (``sensor_msgs/JointState``): where the robot is, for motions that start idle."""
        from sensor_msgs.msg import JointState

        def handle(message: object) -> None:
            positions, velocities = messages.joint_state_arrays(message, self.context.joint_names)
            self.context.session.set_robot_state(positions, velocities)

        self._guarded("joint_states", JointState, data, handle, command=False)
