"""The running state of a generator: the plan being executed, the pending command and the queue (no ROS).

Threads: the ROS 2 node (or any caller) hands commands in with :meth:`CommandSession.submit` from its
callbacks, one worker thread runs :meth:`CommandSession.run_next` (the only place that generates),
and a timer cuts messages with :meth:`CommandSession.window`. A command that replaces the running
motion (``REPLACE_NOW``, ``AT_STAMP``) sits in a one-slot mailbox: a newer one supersedes it before
it is generated (the newest command wins, and a flood of commands costs one generation at a time).
``AFTER_CURRENT`` commands wait in a bounded queue and start when the plan before them ends.

Times are seconds on the caller's clock (the node's ROS clock). A new plan takes over at
``now + switch_delay`` on the running plan's sample grid, so the controller's copy of the old plan
and the new one agree up to the switch.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from motionlcm_node.commands.plan import RobotPlan, Window
from motionlcm_node.commands.planner import CancelledError, CommandPlanner, StartPose
from motionlcm_node.commands.requests import BlendMode, Command, CommandError, ErrorCode
from motionlcm_node.commands.shaping import yaw_of

#: Longest queue of ``AFTER_CURRENT`` commands.
MAX_QUEUED = 8


@dataclass
class SessionStats:
    """Counters since the session started (for the status message and diagnostics)."""

    received: int = 0
    rejected: int = 0
    superseded: int = 0
    planned: int = 0
    failed: int = 0
    last_latency_ms: float = 0.0
    last_timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What became of one command that the worker took.

    Attributes:
        command: the command.
        switch_time: when its plan takes over (seconds), or None when it failed.
        error: the failure, or None.
        notes: warnings to pass on (e.g. waypoints not honoured yet).
    """

    command: Command
    switch_time: float | None
    error: CommandError | None = None
    notes: tuple[str, ...] = ()


class CommandSession:
    """Pending command, queue and current plan of one generator.

    Args:
        planner: generates plans.
        clock: seconds on the caller's clock.
        switch_delay: how far after "now" a replacing plan takes over, seconds (covers generation
            and transport, so that the first message reaches the controller before the switch).
        idle: what to do after the last plan ends: "hold" (keep the last pose) or "stand" (return
            to the reference posture).
        first_seconds: a new plan is spliced in (and announced) once its first ``first_seconds`` are
            retargeted, before the rest; keep it above the look-ahead of the published windows.
    """

    def __init__(
        self,
        planner: CommandPlanner,
        clock: Callable[[], float],
        switch_delay: float = 0.05,
        idle: str = "hold",
        first_seconds: float = 1.5,
    ) -> None:
        self.planner, self.clock, self.switch_delay, self.idle = planner, clock, switch_delay, idle
        self.first_seconds = first_seconds
        self.stats = SessionStats()
        self.plan: RobotPlan | None = None
        self.current: Command | None = None
        self.robot_state: tuple[np.ndarray, np.ndarray] | None = None
        self._pending: Command | None = None
        self._queue: deque[Command] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopped = False
        self._idle_done = True

    # -- input side (any thread) ------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Hand a validated command in; replacing commands supersede a pending one.

        Raises:
            CommandError: ``REFUSED`` when the queue of ``AFTER_CURRENT`` commands is full.
        """
        with self._lock:
            self.stats.received += 1
            if command.blend_mode is BlendMode.AFTER_CURRENT:
                if len(self._queue) >= MAX_QUEUED:
                    self.stats.rejected += 1
                    raise CommandError(ErrorCode.REFUSED, f"{MAX_QUEUED} commands are queued already")
                self._queue.append(command)
            else:
                if self._pending is not None:
                    self.stats.superseded += 1
                self._pending = command
                self._queue.clear()
            self._wake.notify_all()

    def note_rejected(self) -> None:
        """Count a command that failed validation before it reached ``submit``."""
        with self._lock:
            self.stats.received += 1
            self.stats.rejected += 1

    def set_robot_state(self, positions: np.ndarray, velocities: np.ndarray) -> None:
        """The robot's measured joint state (URDF order), used when no plan is running."""
        with self._lock:
            self.robot_state = (positions.copy(), velocities.copy())

    def stop(self) -> None:
        """Wake and end ``wait_for_work`` (the worker thread exits)."""
        with self._lock:
            self._stopped = True
            self._wake.notify_all()

    def clear(self) -> None:
        """Drop the plan, the pending command and the queue (deactivation)."""
        with self._lock:
            self.plan, self.current, self._pending = None, None, None
            self._queue.clear()
            self._idle_done = True

    @property
    def queued(self) -> list[Command]:
        """The waiting ``AFTER_CURRENT`` commands, in order."""
        with self._lock:
            return list(self._queue)

    # -- worker side ------------------------------------------------------------------------------
    def wait_for_work(self, timeout: float) -> bool:
        """Block until a command is pending, a queued one is due, or ``timeout`` s passed; False once stopped."""
        with self._lock:
            if not self._stopped and self._next_command_locked() is None:
                self._wake.wait(timeout)
            return not self._stopped

    def _next_command_locked(self) -> Command | None:
        if self._pending is not None:
            return self._pending
        if self._queue and (self.plan is None or self.plan.end <= self.clock() + 2 * self.switch_delay + 0.2):
            return self._queue[0]
        return None

    def run_next(
        self, progress: Callable[[str, float], None] | None = None, on_plan: Callable[[Command], None] | None = None
    ) -> Outcome | None:
        """Generate the next due command and splice its plan in; None when nothing was due.

        ``on_plan(command)`` runs as soon as the first ``first_seconds`` of the new plan are spliced in
        (the caller publishes then), before the rest is retargeted. Also starts the idle behaviour once
        the last plan has ended.
        """
        with self._lock:
            command = self._next_command_locked()
            if command is None:
                return self._idle_locked()
            if command is self._pending:
                self._pending = None
            else:
                self._queue.popleft()
            received = self.clock()
            switch, pose = self._switch_locked(command, received)

        def splice(plan: RobotPlan) -> None:
            with self._lock:
                self.plan = plan if self.plan is None else self.plan.trimmed_before(received).spliced(plan)
                self.current, self._idle_done = command, False

        def first(plan: RobotPlan) -> None:
            splice(plan)
            if on_plan is not None:
                on_plan(command)

        announced = on_plan is not None
        try:
            plan, timings = self.planner.plan(
                command,
                switch,
                pose,
                progress,
                self._superseded(command),
                self.first_seconds if announced else None,
                first,
            )
        except CancelledError:
            return None
        except CommandError as error:
            with self._lock:
                self.stats.failed += 1
            return Outcome(command, None, error)
        splice(plan)
        if announced and "first" not in timings:  # the whole motion fitted in the first part
            on_plan(command)
        with self._lock:
            self.stats.planned += 1
            self.stats.last_timings_ms = {stage: 1000 * seconds for stage, seconds in timings.items()}
        notes = ()
        if command.waypoints:
            notes = (
                f"{len(command.waypoints)} waypoint(s) validated; spatial control comes with the motion "
                "ControlNet, not built yet: this motion follows the text only",
            )
        return Outcome(command, switch, None, notes)

    def _superseded(self, command: Command) -> Callable[[], bool]:
        """A cancel check: true once a newer replacing command is pending."""
        return lambda: self._pending is not None and self._pending is not command

    def _switch_locked(self, command: Command, now: float) -> tuple[float, StartPose]:
        """When the command's plan takes over and from which pose."""
        earliest = now + self.switch_delay
        wanted = earliest
        if command.blend_mode is BlendMode.AT_STAMP and command.start_time is not None:
            wanted = max(command.start_time, earliest)
        elif command.blend_mode is BlendMode.AFTER_CURRENT and self.plan is not None:
            wanted = max(self.plan.end, earliest)
        if self.plan is None:
            return wanted, self._pose_without_plan()
        switch = self.plan.grid_time_at_or_after(wanted)
        return switch, self._plan_pose_locked(switch)

    def _plan_pose_locked(self, time: float) -> StartPose:
        positions, velocities = self.plan.state_at(time)
        index = round(self.plan.index_at(time))
        human = None if self.plan.human_joints is None else self.plan.human_joints[index]
        return StartPose(
            positions, velocities, self.plan.base_positions[index], yaw_of(self.plan.base_orientations[index]), human
        )

    def _pose_without_plan(self) -> StartPose:
        rest = self.planner.rest_pose()
        if self.robot_state is None:
            return rest
        positions, velocities = self.robot_state
        return StartPose(positions, velocities, rest.base_position, rest.base_yaw)

    def _idle_locked(self) -> None:
        """Once the last plan has ended with nothing queued: "stand" blends to the reference posture."""
        if self._idle_done or self.plan is None or self.plan.end > self.clock() or self._queue:
            return None
        self._idle_done = True
        if self.idle != "stand":
            return None
        end = self.plan.end
        pose = self._plan_pose_locked(end)
        start = self.plan.grid_time_at_or_after(max(end, self.clock() + self.switch_delay))
        self.plan = self.plan.trimmed_before(self.clock()).spliced(self.planner.stand("idle", start, pose))
        return None

    def pose_at(self, time: float) -> StartPose:
        """The robot pose the plan commands at ``time`` (else the measured state, else the rest pose)."""
        with self._lock:
            return self._pose_without_plan() if self.plan is None else self._plan_pose_locked(time)

    # -- output side (timer thread) -----------------------------------------------------------------
    def window(self, now: float, horizon: float) -> Window | None:
        """The message to publish at ``now`` (None when no plan reaches ``now``)."""
        with self._lock:
            if self.plan is None:
                return None
            return self.plan.window(now, horizon)

    def human_pose(self, now: float) -> np.ndarray | None:
        """The human skeleton [22, 3] (world frame) the plan shows at ``now``, or None."""
        with self._lock:
            if self.plan is None or self.plan.human_joints is None:
                return None
            return self.plan.human_joints[round(self.plan.index_at(now))].copy()

    def base_pose(self, now: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The floating base at ``now``: position [3] (m) and quaternion [4] (x, y, z, w), world frame; or None."""
        with self._lock:
            if self.plan is None:
                return None
            index = round(self.plan.index_at(now))
            return self.plan.base_positions[index].copy(), self.plan.base_orientations[index].copy()

    def commanded_state(self, now: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Joint positions and velocities the plan commands at ``now``, or None."""
        with self._lock:
            return None if self.plan is None else self.plan.state_at(now)

    def lookahead(self, now: float) -> float:
        """How far the plan reaches beyond ``now``, seconds (0 without a plan)."""
        with self._lock:
            return 0.0 if self.plan is None else max(self.plan.end - now, 0.0)
