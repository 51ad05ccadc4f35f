"""From a validated command to a robot plan: generate, retarget, place, blend, come to rest (no ROS).

:class:`CommandPlanner` holds the shipped student pipeline and the robot. For a command starting at
``start`` (seconds on the caller's clock) from the robot state ``(q0, v0)`` it

1. generates the human motion with the student (20 fps, metres, Y up) and retargets it onto the
   robot at the controller rate (``retargeting``);
2. places it where the robot is: the new floating-base path and the human skeleton are turned and
   moved so that they start at the current base position and heading (world frame, REP 103);
3. blends the joints from ``(q0, v0)`` into the new motion over ``blend_seconds`` with a quintic
   offset that is continuous in position, velocity and acceleration at both ends, then holds every
   sample inside the URDF position limits and every step inside the velocity limits;
4. comes to rest at the end (a linear velocity ramp to zero), so that the plan never ends moving.

The ROS 2 node is a thin shell over it; tests and scripts use it directly.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from motionlcm_node.commands.plan import RobotPlan, StartPose
from motionlcm_node.commands.requests import Command, CommandError, ErrorCode
from motionlcm_node.commands.shaping import blend_into, come_to_rest, place_motion, yaw_quaternion
from motionlcm_node.data.layout import FPS

#: ``progress(stage, fraction)``: stages "generating", "retargeting", "done".
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class PlannerSettings:
    """How motions are generated and timed.

    Attributes:
        rate: controller rate, Hz (samples of the plan per second).
        steps: consistency steps of the student (a key of its step table).
        guidance: guidance scale (None: the step table's).
        stabilize_feet: planted-foot root correction of the generated motion.
        seed: seed of the first command's noise (each command draws the next); None: fresh entropy.
    """

    rate: float = 50.0
    steps: int = 1
    guidance: float | None = None
    stabilize_feet: bool = True
    seed: int | None = 0


class CancelledError(Exception):
    """Raised inside :meth:`CommandPlanner.plan` when its ``cancelled`` callback says so."""


class CommandPlanner:
    """Commands to robot plans with the shipped student and a retargeting robot.

    Args:
        pipeline: a ``MotionLCMPipeline``.
        robot: a ``retargeting.RobotModel``.
        settings: generation settings.
    """

    def __init__(self, pipeline: object, robot: object, settings: PlannerSettings) -> None:
        from retargeting.scaling import scaling_reference

        self.pipeline, self.robot, self.settings = pipeline, robot, settings
        self.reference = scaling_reference(robot)
        order = robot.urdf_order
        self.joint_names = tuple(robot.urdf_joint_names)
        self.lower, self.upper = robot.lower[order], robot.upper[order]
        self.velocity_limits = robot.velocity_limits[order]
        self.rng = np.random.default_rng(settings.seed)
        self.rest_positions = robot.reference_q[7:][order].copy()
        self.rest_base_height = float(robot.reference_q[2])
        self.frame_names = frozenset(frame.name for frame in robot.model.frames)  # URDF links, joints, keypoints
        self._lock = threading.Lock()  # one plan at a time: the robot model's data is shared

    @classmethod
    def from_models(
        cls,
        models: Path | None,
        robot: str,
        settings: PlannerSettings,
        device: str = "cpu",
        backends: tuple[str, str, str] = ("auto", "auto", "auto"),
        threads: int = 2,
    ) -> CommandPlanner:
        """The shipped student (``models``: None for the shipped folder) and a built-in or YAML robot.

        ``backends`` are the text, denoiser and decoder backends (``MotionLCMPipeline.from_models``).
        """
        from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
        from retargeting import load_robot

        text, denoiser, decoder = backends
        pipeline = MotionLCMPipeline.from_models(
            models,
            device=device,
            text_backend=text,
            denoiser_backend=denoiser,
            decoder_backend=decoder,
            threads=threads,
        )
        return cls(pipeline, load_robot(robot), settings)

    def understand(self, command: Command) -> tuple[Command, str]:
        """``command`` with the caption the generator will be given, and what it was understood as.

        Raises:
            CommandError: ``REFUSED`` for a command the models cannot do (the message names the
                closest known actions).
        """
        interpreter = getattr(self.pipeline, "interpreter", None)
        if interpreter is None:
            return command, ""
        (reading,) = interpreter.understand([command.text])
        if reading.refused:
            raise CommandError(ErrorCode.REFUSED, reading.message)
        return replace(command, caption=reading.caption, understood=reading.message), reading.message

    def rest_pose(self) -> StartPose:
        """The robot's reference posture standing at the origin, facing +x."""
        zeros = np.zeros_like(self.rest_positions)
        return StartPose(self.rest_positions.copy(), zeros, np.array([0.0, 0.0, self.rest_base_height]), 0.0)

    def plan(
        self,
        command: Command,
        start: float,
        pose: StartPose,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
        first_seconds: float | None = None,
        on_first: Callable[[RobotPlan], None] | None = None,
    ) -> tuple[RobotPlan, dict[str, float]]:
        """The robot plan of ``command`` from ``start`` (seconds) and ``pose``, with stage timings (s).

        With ``first_seconds`` and ``on_first``, the IK first solves only the frames of the motion's
        first ``first_seconds`` and hands a plan of them to ``on_first`` (so that a caller can publish
        it), then solves the rest on from there (the IK result is the same as in one piece). The full
        plan equals that first plan on its samples except the last few (the resampling's end and the
        first plan's stop), so a caller should use it only well inside ``first_seconds``. Thread-safe:
        calls run one after the other.

        Raises:
            CommandError: ``GENERATION_FAILED`` when the model or the retargeter fails.
            CancelledError: ``cancelled()`` became true between stages.
        """
        with self._lock:
            return self._plan(
                command, start, pose, progress or (lambda stage, fraction: None), cancelled, first_seconds, on_first
            )

    def _plan(
        self,
        command: Command,
        start: float,
        pose: StartPose,
        report: Progress,
        cancelled: Callable[[], bool] | None,
        first_seconds: float | None,
        on_first: Callable[[RobotPlan], None] | None,
    ) -> tuple[RobotPlan, dict[str, float]]:
        from retargeting.human import sanitize_motion
        from retargeting.pipeline import slice_targets
        from retargeting.scaling import build_targets
        from retargeting.sequence import solve_sequence

        def check() -> None:
            if cancelled is not None and cancelled():
                raise CancelledError

        timings: dict[str, float] = {}
        check()
        mark = time.perf_counter()
        report("generating", 0.1)
        try:
            if not command.caption:
                command, _ = self.understand(command)
            output = self.pipeline(
                [command.caption or command.text],
                seconds=[command.duration],
                num_steps=self.settings.steps,
                guidance=self.settings.guidance,
                generator=self.rng,
                stabilize_feet=self.settings.stabilize_feet,
                understand=False,
            )
        except CommandError:
            raise
        except Exception as error:
            raise CommandError(ErrorCode.GENERATION_FAILED, f"generation failed: {error}") from error
        joints = output.joints[0, : int(output.lengths[0])]
        timings["generate"] = time.perf_counter() - mark
        # No cancel check here: a motion generated is at least started (its first part), so that a flood of
        # commands, each newer than the last one's generation time, cannot starve the robot of plans.
        report("retargeting", 0.5)
        mark = time.perf_counter()
        try:
            clean, _ = sanitize_motion(joints, FPS)
            targets = build_targets(clean, FPS, self.robot, self.reference)
            first = len(joints) if first_seconds is None or on_first is None else max(math.ceil(first_seconds * FPS), 2)
            configurations = solve_sequence(self.robot, slice_targets(targets, 0, min(first, len(joints))))
            if first < len(joints):
                on_first(self._assemble(command, start, pose, joints, configurations))
                timings["first"] = time.perf_counter() - mark
                check()
                rest = solve_sequence(
                    self.robot, slice_targets(targets, first, len(joints)), previous=configurations[-2:]
                )
                configurations = np.concatenate([configurations, rest])
            plan = self._assemble(command, start, pose, joints, configurations)
        except CancelledError:
            raise
        except Exception as error:
            raise CommandError(ErrorCode.GENERATION_FAILED, f"retargeting failed: {error}") from error
        timings["retarget"] = time.perf_counter() - mark
        report("done", 1.0)
        return plan, timings

    def _assemble(
        self, command: Command, start: float, pose: StartPose, joints: np.ndarray, configurations: np.ndarray
    ) -> RobotPlan:
        """The plan of IK ``configurations`` (at 20 fps) of the first frames of ``joints``."""
        from retargeting.trajectory import resample_configurations

        trajectory = resample_configurations(configurations, FPS, self.settings.rate, self.robot)
        base, orientations, human = place_motion(trajectory, joints[: len(configurations)], pose, self.settings.rate)
        positions = blend_into(
            trajectory.joint_positions, pose.positions, pose.velocities, command.blend_seconds, self.settings.rate
        )
        positions = self.within_limits(positions)
        positions, base, orientations, human = come_to_rest(
            positions, base, orientations, human, self.settings.rate, self.lower, self.upper
        )
        return self._robot_plan(command.command_id, start, positions, base, orientations, human)

    def stand(self, command_id: str, start: float, pose: StartPose, seconds: float = 2.0) -> RobotPlan:
        """A plan from ``pose`` to the reference posture (joints only; the base stays), ending at rest."""
        count = max(round(seconds * self.settings.rate), 1) + 1
        target = np.repeat(self.rest_positions[None], count, axis=0)
        positions = self.within_limits(blend_into(target, pose.positions, pose.velocities, seconds, self.settings.rate))
        positions = np.vstack([positions, positions[-1:]])
        base = np.repeat(pose.base_position[None], len(positions), axis=0)
        orientations = np.repeat(yaw_quaternion(pose.base_yaw)[None], len(positions), axis=0)
        human = None if pose.human_joints is None else np.repeat(pose.human_joints[None], len(positions), axis=0)
        return self._robot_plan(command_id, start, positions, base, orientations, human)

    def _robot_plan(
        self,
        command_id: str,
        start: float,
        positions: np.ndarray,
        base: np.ndarray,
        orientations: np.ndarray,
        human: np.ndarray | None,
    ) -> RobotPlan:
        return RobotPlan(command_id, self.joint_names, start, self.settings.rate, positions, self.lower, self.upper,
                         base, orientations, human)  # fmt: skip

    def within_limits(self, positions: np.ndarray) -> np.ndarray:
        """``positions`` [N, n] inside the position limits with every step inside the velocity limits."""
        from retargeting.trajectory import limit_joint_steps

        return limit_joint_steps(positions, self.velocity_limits / self.settings.rate, self.lower, self.upper)
