"""End-to-end retargeting: human SMPL-22 joint positions to a robot trajectory at a controller rate.

Pipeline: :func:`~retargeting.human.sanitize_motion` (repair NaN frames) ->
:func:`~retargeting.scaling.build_targets` (scaling, contacts, floor) ->
:func:`~retargeting.sequence.solve_sequence` (warm-started IK at the input rate, optionally split across
processes) -> :func:`~retargeting.trajectory.resample_configurations` (controller rate, limits).
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retargeting.config import RobotConfig
from retargeting.human import sanitize_motion
from retargeting.robot_model import RobotModel, load_robot
from retargeting.scaling import KeypointTargets, ScalingReference, build_targets, scaling_reference
from retargeting.sequence import solve_sequence
from retargeting.trajectory import RobotTrajectory, resample_configurations

CHUNK_WARMUP_FRAMES = 10
"""Frames solved (and discarded) before each chunk after the first, so it joins the previous one smoothly."""
MIN_CHUNK_FRAMES = 100
"""Clips shorter than ``workers * MIN_CHUNK_FRAMES`` frames are solved in fewer chunks."""


@dataclass(frozen=True)
class RetargetResult:
    """Output of :func:`retarget` with the intermediate data used by metrics and rendering.

    Attributes:
        trajectory: The robot trajectory at the output rate.
        targets: The keypoint targets at the input rate (robot world frame).
        configurations: ``[T, nq]`` IK configurations at the input rate (before resampling).
        valid_frames: ``[T]`` ``True`` for input frames that were finite (others were interpolated).
        timings: Seconds spent per stage (``targets``, ``ik``, ``resample``).
    """

    trajectory: RobotTrajectory
    targets: KeypointTargets
    configurations: np.ndarray
    valid_frames: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


_WORKER_ROBOTS: dict[str, RobotModel] = {}


def _worker_robot(config: RobotConfig) -> RobotModel:
    """Robot model cached per worker process (keyed by configuration file and name)."""
    key = f"{config.source}:{config.name}"
    if key not in _WORKER_ROBOTS:
        _WORKER_ROBOTS[key] = RobotModel(config)
    return _WORKER_ROBOTS[key]


def _solve_chunk(config: RobotConfig, targets: KeypointTargets, start: int, stop: int, warmup: int) -> np.ndarray:
    """Solve frames ``[start - warmup, stop)`` in a worker and return the ``[start, stop)`` part."""
    first = max(0, start - warmup)
    chunk = slice_targets(targets, first, stop)
    return solve_sequence(_worker_robot(config), chunk)[start - first :]


def slice_targets(targets: KeypointTargets, start: int, stop: int) -> KeypointTargets:
    """Frames ``[start, stop)`` of ``targets`` (for solving a clip in pieces)."""
    return KeypointTargets(
        fps=targets.fps,
        positions=targets.positions[start:stop],
        rotations=targets.rotations[start:stop],
        position_weights=targets.position_weights,
        orientation_weights=targets.orientation_weights,
        contacts=targets.contacts[start:stop],
        ground_heights=targets.ground_heights,
        root_scale=targets.root_scale,
        human_joints=targets.human_joints[start:stop],
    )


def solve_in_chunks(
    robot: RobotModel, targets: KeypointTargets, workers: int, executor: Executor | None = None
) -> np.ndarray:
    """Solve the IK with the clip split into ``workers`` consecutive chunks solved in parallel processes.

    Each chunk after the first starts ``CHUNK_WARMUP_FRAMES`` early from a cold start so that it has
    converged onto the same solution when its own frames begin; the output-rate limiter smooths the
    remaining seam. Short clips use fewer chunks (at least ``MIN_CHUNK_FRAMES`` frames each).

    Args:
        robot: The robot (its configuration is sent to the workers).
        targets: Keypoint targets for the whole clip.
        workers: Number of chunks / processes.
        executor: Executor to use; a temporary process pool is created if ``None``.

    Returns:
        ``[T, nq]`` configurations.
    """
    frame_count = targets.frame_count
    chunks = max(1, min(workers, frame_count // MIN_CHUNK_FRAMES))
    if chunks == 1:
        return solve_sequence(robot, targets)
    bounds = np.linspace(0, frame_count, chunks + 1).astype(int)
    pool = executor or ProcessPoolExecutor(max_workers=chunks)
    try:
        futures = [
            pool.submit(_solve_chunk, robot.config, targets, int(a), int(b), CHUNK_WARMUP_FRAMES)
            for a, b in itertools.pairwise(bounds)
        ]
        return np.concatenate([future.result() for future in futures])
    finally:
        if executor is None:
            pool.shutdown()


def retarget(
    joints: np.ndarray,
    fps: float,
    robot: RobotModel | str | Path,
    rate: float = 50.0,
    workers: int = 1,
    reference: ScalingReference | None = None,
    executor: Executor | None = None,
) -> RetargetResult:
    """Retarget a human motion onto a robot and keep the intermediate results.

    Args:
        joints: ``[T, 22, 3]`` SMPL-22 joint positions, human world frame (Y up, floor at y = 0, facing
            +Z initially), metres. Non-finite frames are repaired by interpolation.
        fps: Frame rate of ``joints``, frames per second (20 for HumanML3D).
        robot: A loaded robot, a built-in robot name (``g1``, ``talos``) or a robot YAML path.
        rate: Output (controller) rate, Hz.
        workers: Processes for the IK (1 solves in this process).
        reference: Precomputed :func:`~retargeting.scaling.scaling_reference` of the robot (optional).
        executor: Process pool for ``workers > 1`` (optional; one is created per call otherwise).

    Returns:
        The trajectory plus targets, IK configurations and per-stage timings.

    Raises:
        RetargetingError: Bad motion array, frame rate, output rate or robot configuration.
    """
    model = robot if isinstance(robot, RobotModel) else load_robot(robot)
    clock = time.perf_counter()
    clean, valid = sanitize_motion(joints, fps)
    targets = build_targets(clean, fps, model, reference or scaling_reference(model))
    timings = {"targets": time.perf_counter() - clock}
    clock = time.perf_counter()
    configurations = (
        solve_sequence(model, targets) if workers <= 1 else solve_in_chunks(model, targets, workers, executor)
    )
    timings["ik"] = time.perf_counter() - clock
    clock = time.perf_counter()
    trajectory = resample_configurations(configurations, fps, rate, model)
    timings["resample"] = time.perf_counter() - clock
    return RetargetResult(trajectory, targets, configurations, valid, timings)


def retarget_motion(
    joints: np.ndarray, fps: float, robot: RobotModel | str | Path = "g1", rate: float = 50.0, workers: int = 1
) -> RobotTrajectory:
    """Retarget a human motion onto a robot; see :func:`retarget` for the arguments.

    Returns:
        The robot trajectory at ``rate`` Hz: joint positions, velocities and accelerations in URDF joint
        order, timestamps, and the floating-base pose and velocity trajectory (robot world frame).
    """
    return retarget(joints, fps, robot, rate=rate, workers=workers).trajectory
