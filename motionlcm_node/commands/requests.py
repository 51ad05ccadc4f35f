"""What a motion command is, and how every field of one is checked before anything is generated.

Commands reach the generator from ROS 2 topics, an action or Python; whatever the source, they are
turned into a :class:`Command` by the functions here, which refuse bad input with a
:class:`CommandError` naming the field and the problem (the node reports it as a warning and a status,
the action as its error code). Nothing here imports ROS.

Frames: waypoint positions are metres in the generator's world frame (REP 103: x forward, y left,
z up; the robot starts at the origin facing +x), or in the robot's root link frame at the command's
start; times are seconds from the start of the command.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from motionlcm_node.data.smpl import JOINT_NAMES
from motionlcm_node.errors import MotionLCMError

#: Longest motion the model generates in one piece, seconds (196 frames at 20 fps).
MAX_DURATION_S = 9.8
#: Shortest motion worth generating, seconds.
MIN_DURATION_S = 0.5
#: Whitespace that is folded into single spaces (other control characters are refused).
FOLDED_WHITESPACE = "\t\n\r"


class ErrorCode(Enum):
    """Why a command was not executed; the values match ``GenerateMotion.action``'s result codes."""

    SUCCESS = 0
    INVALID_TEXT = 1
    INVALID_WAYPOINTS = 2
    INVALID_DURATION = 3
    REFUSED = 4
    CANCELED = 5
    GENERATION_FAILED = 6
    NOT_ACTIVE = 7


class CommandError(MotionLCMError):
    """A command that cannot be executed, with the code that says why.

    Args:
        code: the reason, as an ``ErrorCode``.
        message: what was wrong, for people.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class BlendMode(Enum):
    """How a new command takes over (``MotionCommand.BLEND_*``)."""

    REPLACE_NOW = 0
    AFTER_CURRENT = 1
    AT_STAMP = 2


class TargetKind(Enum):
    """What a waypoint names (``Waypoint.HUMAN_JOINT`` / ``ROBOT_FRAME``)."""

    HUMAN_JOINT = 0
    ROBOT_FRAME = 1


@dataclass(frozen=True)
class WaypointTarget:
    """One position a human joint or a robot frame should reach.

    Attributes:
        kind: a human joint (SMPL-22 name) or a robot frame (URDF link name).
        name: the joint or link name.
        position: [3] metres, generator world frame (REP 103).
        time: seconds from the start of the command.
    """

    kind: TargetKind
    name: str
    position: tuple[float, float, float]
    time: float


@dataclass(frozen=True)
class Command:
    """A validated motion command.

    Attributes:
        command_id: caller's identifier (never empty: the generator assigns one when the caller did not).
        text: the command, cleaned (single spaces, no control characters).
        duration: length of the motion, seconds.
        blend_mode: how it takes over from the running motion.
        blend_seconds: length of the transition into it, seconds.
        start_time: with ``AT_STAMP``, when it takes over (seconds on the node's clock), else None.
        waypoints: spatial targets (validated; honoured once the motion ControlNet exists).
        received: ``time.monotonic()`` when the command arrived (0: unknown), for latency reports.
        caption: the sentence the generator is given: what the interpreter read ``text`` as
            (``CommandPlanner.understand``); empty: ``text`` itself.
        understood: the interpreter's one-line report of that reading (for status messages).
    """

    command_id: str
    text: str
    duration: float
    blend_mode: BlendMode = BlendMode.REPLACE_NOW
    blend_seconds: float = 0.5
    start_time: float | None = None
    waypoints: tuple[WaypointTarget, ...] = field(default_factory=tuple)
    received: float = 0.0
    caption: str = ""
    understood: str = ""


def clean_text(text: str | bytes, max_characters: int) -> str:
    """The command text with whitespace folded, checked for emptiness, length and control characters.

    Raises:
        CommandError: ``INVALID_TEXT`` for bytes that are not UTF-8, text that is empty after
            stripping, longer than ``max_characters``, or holding control or unassigned characters.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(
                ErrorCode.INVALID_TEXT, f"text is not valid UTF-8 ({error.reason} at byte {error.start})"
            ) from None
    if "\ufffd" in text:  # what a ROS string field holds where its bytes were not UTF-8
        raise CommandError(ErrorCode.INVALID_TEXT, "text is not valid UTF-8 (it holds U+FFFD replacement characters)")
    if len(text) > max_characters:
        raise CommandError(
            ErrorCode.INVALID_TEXT, f"text is {len(text)} characters long; the limit is {max_characters}"
        )
    folded = "".join(" " if character in FOLDED_WHITESPACE else character for character in text)
    for character in folded:
        category = unicodedata.category(character)
        if category in ("Cc", "Cs", "Cn") or (category == "Cf" and character not in "\u200d"):
            raise CommandError(ErrorCode.INVALID_TEXT, f"text holds the control character U+{ord(character):04X}")
    cleaned = " ".join(folded.split())
    if not cleaned:
        raise CommandError(ErrorCode.INVALID_TEXT, "text is empty")
    return cleaned


def check_duration(duration: float, default: float) -> float:
    """Seconds of motion to generate: ``default`` for 0, else ``duration`` if the model can make it.

    Raises:
        CommandError: ``INVALID_DURATION`` for a non-finite, negative, too short or too long duration.
    """
    if not math.isfinite(duration) or duration < 0:
        raise CommandError(
            ErrorCode.INVALID_DURATION, f"duration must be a finite number of seconds >= 0, got {duration}"
        )
    value = default if duration == 0 else float(duration)
    value = min(value, MAX_DURATION_S) if value <= MAX_DURATION_S + 1e-4 else value  # float32 fields: 9.8000002
    if not MIN_DURATION_S <= value <= MAX_DURATION_S:
        raise CommandError(
            ErrorCode.INVALID_DURATION,
            f"duration {value:g} s is outside {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s (the model's range)",
        )
    return value


def check_blend_seconds(value: float, default: float) -> float:
    """The transition length: ``default`` for 0, else ``value`` within 0.05-3 s.

    Raises:
        CommandError: ``INVALID_DURATION`` for a non-finite or out-of-range value.
    """
    if not math.isfinite(value) or value < 0:
        raise CommandError(ErrorCode.INVALID_DURATION, f"blend_seconds must be >= 0, got {value}")
    seconds = default if value == 0 else float(value)
    if not 0.05 <= seconds <= 3.0:
        raise CommandError(ErrorCode.INVALID_DURATION, f"blend_seconds {seconds:g} is outside 0.05-3 s")
    return seconds


def check_start_time(stamp: float | None, now: float, max_ahead: float, max_behind: float) -> float | None:
    """When an ``AT_STAMP`` command takes over: None (now) for a zero or slightly past stamp.

    Args:
        stamp: requested start, seconds on the node's clock (None or 0: now).
        now: the node's clock, seconds.
        max_ahead: the furthest future start accepted, seconds.
        max_behind: how far in the past a stamp may be and still count as "now", seconds.

    Raises:
        CommandError: ``INVALID_DURATION`` for a stamp further ahead than ``max_ahead`` or further
            behind than ``max_behind`` (a clock mismatch between sender and generator).
    """
    if stamp is None or stamp == 0:
        return None
    if not math.isfinite(stamp):
        raise CommandError(ErrorCode.INVALID_DURATION, f"stamp must be finite, got {stamp}")
    if stamp > now + max_ahead:
        raise CommandError(
            ErrorCode.INVALID_DURATION, f"stamp is {stamp - now:.1f} s in the future; the limit is {max_ahead:g} s"
        )
    if stamp < now - max_behind:
        raise CommandError(
            ErrorCode.INVALID_DURATION,
            f"stamp is {now - stamp:.1f} s in the past (clocks out of step?); the limit is {max_behind:g} s",
        )
    return stamp if stamp > now else None


def check_waypoints(
    targets: list[WaypointTarget], duration: float, robot_frames: frozenset[str], max_reach: float = 20.0
) -> tuple[WaypointTarget, ...]:
    """The targets if every one is usable, sorted by time.

    Args:
        targets: waypoints in the generator's world frame.
        duration: the command's length, seconds (every time must fall inside it).
        robot_frames: the link names a ``ROBOT_FRAME`` target may name.
        max_reach: the furthest a target may be from the origin, metres (a unit mix-up, not a walk).

    Raises:
        CommandError: ``INVALID_WAYPOINTS`` naming the first bad target: a non-finite or unreachable
            position, an unknown joint or frame, or a time outside the command.
    """
    human = frozenset(JOINT_NAMES)
    for index, target in enumerate(targets):
        where = f"waypoint {index} ({target.name!r})"
        names = human if target.kind is TargetKind.HUMAN_JOINT else robot_frames
        if target.name not in names:
            kind = "human joint" if target.kind is TargetKind.HUMAN_JOINT else "robot frame"
            raise CommandError(
                ErrorCode.INVALID_WAYPOINTS, f"{where}: unknown {kind}; known: {', '.join(sorted(names))}"
            )
        position = np.asarray(target.position, dtype=np.float64)
        if position.shape != (3,) or not np.isfinite(position).all():
            raise CommandError(ErrorCode.INVALID_WAYPOINTS, f"{where}: position must be 3 finite numbers")
        if float(np.linalg.norm(position)) > max_reach:
            raise CommandError(
                ErrorCode.INVALID_WAYPOINTS,
                f"{where}: {np.linalg.norm(position):.1f} m from the origin (limit {max_reach:g} m)",
            )
        if not (math.isfinite(target.time) and 0 <= target.time <= duration):
            raise CommandError(
                ErrorCode.INVALID_WAYPOINTS, f"{where}: time {target.time} s is outside the command's 0-{duration:g} s"
            )
    return tuple(sorted(targets, key=lambda target: target.time))
