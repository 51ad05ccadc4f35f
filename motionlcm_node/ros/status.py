"""What the generator reports about itself: the ``~/status`` message and the ``/diagnostics`` entry.

:class:`StatusBoard` is written by every thread of the node (callbacks, worker, timer) and read by the
publishers; a lock keeps each update whole.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from motionlcm_node.commands.session import SessionStats
from motionlcm_node.ros.messages import diagnostics_message, to_time

OK, WARN, ERROR = 0, 1, 2
DIAGNOSTIC_NAME = "motionlcm_node: motion_generator"


@dataclass
class Snapshot:
    """The parts of a status that are not counters."""

    state: str = "unconfigured"
    command_id: str = ""
    command_text: str = ""
    level: int = OK
    message: str = ""
    trajectory_stamp: float = 0.0


class StatusBoard:
    """The node's current status, updated from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = Snapshot()

    def update(self, **fields: object) -> None:
        """Set some fields of the status (``state``, ``command_id``, ``level``, ``message`` ...)."""
        with self._lock:
            for name, value in fields.items():
                setattr(self._snapshot, name, value)

    def warn(self, message: str) -> None:
        """A warning: the level becomes WARN (unless it is ERROR) and the message is shown."""
        with self._lock:
            self._snapshot.level = max(self._snapshot.level, WARN)
            self._snapshot.message = message

    def ok(self, message: str = "") -> None:
        """Back to OK."""
        with self._lock:
            self._snapshot.level, self._snapshot.message = OK, message

    @property
    def snapshot(self) -> Snapshot:
        """A copy of the current fields."""
        with self._lock:
            return Snapshot(**vars(self._snapshot))

    def status_message(
        self, stats: SessionStats, queued: int, queued_seconds: float, lookahead: float, published: int, stamp: float
    ) -> object:
        """The ``motionlcm_msgs/GeneratorStatus`` message."""
        from motionlcm_msgs.msg import GeneratorStatus

        now = self.snapshot
        message = GeneratorStatus(
            state=now.state,
            command_id=now.command_id,
            command_text=now.command_text,
            level=now.level,
            message=now.message,
            commands_received=stats.received,
            commands_rejected=stats.rejected,
            trajectories_published=published,
            last_latency_ms=float(stats.last_latency_ms),
            trajectory_stamp=to_time(now.trajectory_stamp),
            queue_length=queued,
            queued_seconds=float(queued_seconds),
            lookahead_seconds=float(lookahead),
        )
        message.header.stamp = to_time(stamp)
        return message

    def diagnostics(self, stats: SessionStats, published: int, stamp: float) -> object:
        """The ``diagnostic_msgs/DiagnosticArray`` of this node."""
        now = self.snapshot
        values = {
            "state": now.state,
            "command_id": now.command_id,
            "commands_received": stats.received,
            "commands_rejected": stats.rejected,
            "commands_superseded": stats.superseded,
            "plans_generated": stats.planned,
            "generation_failures": stats.failed,
            "trajectories_published": published,
            "last_latency_ms": f"{stats.last_latency_ms:.1f}",
            **{f"last_{stage}_ms": f"{ms:.1f}" for stage, ms in stats.last_timings_ms.items()},
        }
        return diagnostics_message(DIAGNOSTIC_NAME, now.level, now.message or "ok", values, stamp)
