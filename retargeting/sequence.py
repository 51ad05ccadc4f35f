"""Solving a whole clip: cold start of the first frame, then warm-started IK frame after frame.

Each frame after the first starts from a constant-velocity prediction of the joints and from the base
pose that puts the root keypoint on its target, runs ``solver.iterations`` box-constrained Gauss-Newton
steps (:class:`~retargeting.ik.IKSolver`) inside the joint position limits and within
``velocity_limit / fps`` of the previous frame, and is regularised towards the previous frames
(smoothness) and the reference posture.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial.transform import Rotation

from retargeting.config import keypoint_parent
from retargeting.ik import CONVERGED_STEP, IKSolver
from retargeting.robot_model import BASE_Q, RobotModel
from retargeting.scaling import KeypointTargets


def root_keypoint_index(robot: RobotModel) -> int:
    """Index of the keypoint that maps the SMPL pelvis (the configuration guarantees there is one)."""
    return next(k for k, task in enumerate(robot.config.keypoints) if task.smpl_joint == "pelvis")


def base_guesses(robot: RobotModel, targets: KeypointTargets) -> np.ndarray | None:
    """``[T, 7]`` base poses (position, quaternion x y z w) that put the root keypoint on its targets.

    Used as the initial guess of the floating base in every frame, so that the IK does not have to
    catch up with fast root motion (running moves the pelvis 0.2 m between 20 fps frames). Returns
    ``None`` when the root keypoint's frame is not rigidly attached to the floating base.
    """
    frame = robot.model.frames[int(robot.keypoint_frame_ids[root_keypoint_index(robot)])]
    if frame.parentJoint != 1:
        return None
    offset = frame.placement
    root = root_keypoint_index(robot)
    rotations = targets.rotations[:, root] @ offset.rotation.T
    positions = targets.positions[:, root] - rotations @ offset.translation
    return np.concatenate([positions, Rotation.from_matrix(rotations).as_quat()], axis=1)


def initial_configuration(robot: RobotModel, targets: KeypointTargets, frame: int = 0) -> np.ndarray:
    """Reference posture with the floating base placed on the root keypoint's target pose at ``frame``."""
    q = robot.reference_q.copy()
    guesses = base_guesses(robot, targets)
    if guesses is not None:
        q[:BASE_Q] = guesses[frame]
    return q


def keypoint_depths(robot: RobotModel) -> np.ndarray:
    """``[K]`` depth of each keypoint in the mapped SMPL tree (0 for the pelvis, 1 for hips and chest...)."""
    tasks = robot.config.keypoints
    depths = []
    for task in tasks:
        depth, parent = 0, keypoint_parent(task.smpl_joint, tasks)
        while parent is not None:
            depth, parent = depth + 1, keypoint_parent(parent.smpl_joint, tasks)
        depths.append(depth)
    return np.array(depths)


def cold_start(robot: RobotModel, targets: KeypointTargets, frame: int, q: np.ndarray, iterations: int) -> np.ndarray:
    """Solve one frame without a previous solution, adding keypoints by depth in the SMPL tree.

    A single Gauss-Newton run from the reference posture can settle in a wrong basin when a limb is far
    from straight (a running leg: the ankle target behind the body pulls the knee backwards, although
    the knee target is in front). Solving first for the keypoints up to depth 2 (pelvis, hips, chest,
    knees, shoulders) orients the thighs and upper arms; the deeper keypoints (ankles, elbows, then toes
    and wrists) are added in later stages, each starting from the previous stage's solution.

    Args:
        robot: The robot.
        targets: Keypoint targets.
        frame: Frame to solve.
        q: ``[nq]`` initial configuration (joints within limits).
        iterations: Total Gauss-Newton steps, split evenly over the stages.

    Returns:
        ``[nq]`` configuration with the joints within their position limits.
    """
    depths = keypoint_depths(robot)
    stages = range(min(2, int(depths.max())), int(depths.max()) + 1)
    posture = robot.reference_q[BASE_Q:]
    weight = robot.config.solver.posture_weight
    for depth in stages:
        shallow = depths <= depth
        solver = IKSolver(robot, targets.position_weights * shallow, targets.orientation_weights * shallow)
        q = solver.solve_frame(
            q,
            targets.positions[frame],
            targets.rotations[frame],
            robot.lower,
            robot.upper,
            posture,
            weight,
            max(1, iterations // len(stages)),
            tolerance=CONVERGED_STEP,
        )
    return q


def _hold_non_finite(positions: np.ndarray, rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Replace frames with non-finite targets by the previous finite frame (the first finite one at the start).

    Returns the repaired copies and whether any frame was finite at all.
    """
    finite = np.isfinite(positions).all(axis=(1, 2)) & np.isfinite(rotations).all(axis=(1, 2, 3))
    if finite.all() or not finite.any():
        return positions, rotations, bool(finite.any())
    source = np.maximum.accumulate(np.where(finite, np.arange(len(finite)), -1))
    source[source < 0] = np.flatnonzero(finite)[0]
    return positions[source], rotations[source], True


def solve_sequence(
    robot: RobotModel, targets: KeypointTargets, q_start: np.ndarray | None = None, previous: np.ndarray | None = None
) -> np.ndarray:
    """Solve the IK for every frame, warm-starting each frame from the previous one.

    The first frame starts from ``q_start`` (default: :func:`initial_configuration`) and runs
    ``initial_iterations`` steps with position limits only; every later frame runs at most ``iterations``
    steps from a constant-velocity prediction, inside the joint position limits and within
    ``velocity_limits / fps`` of the previous frame. With ``previous`` (the solutions of the two
    frames before ``targets``' first), the first frame is solved like any later one: a clip solved in
    pieces this way gives exactly the configurations of the clip solved at once.

    Args:
        robot: The robot.
        targets: Keypoint targets, ``T`` frames at ``targets.fps``.
        q_start: Optional ``[nq]`` initial configuration for the first frame.
        previous: Optional ``[2, nq]`` solutions of the two frames before the first (continuation).

    Returns:
        ``[T, nq]`` configurations (finite, joints within limits, per-frame joint steps within the
        velocity limits).
    """
    settings = robot.config.solver
    positions, rotations, usable = _hold_non_finite(targets.positions, targets.rotations)
    if not usable:
        return np.tile(robot.reference_q if q_start is None else robot.clamp(q_start), (targets.frame_count, 1))
    targets = dataclasses.replace(targets, positions=positions, rotations=rotations)
    solver = IKSolver(robot, targets.position_weights, targets.orientation_weights)
    max_step = robot.velocity_limits / targets.fps
    reference_joints = robot.reference_q[BASE_Q:]
    result = np.empty((targets.frame_count + 2, robot.nq))  # two rows of history, then the frames
    if previous is not None:
        result[:2] = previous
        first = 2
    else:
        q = robot.clamp(initial_configuration(robot, targets) if q_start is None else q_start)
        result[1] = result[2] = cold_start(robot, targets, 0, q, settings.initial_iterations)
        first = 3
    weight_sum = settings.velocity_weight + settings.acceleration_weight + settings.posture_weight
    # Regularisation centre (w_vel q_prev + w_acc (2 q_prev - q_prev2) + w_post q_ref) / sum, expanded.
    previous_factor = (settings.velocity_weight + 2.0 * settings.acceleration_weight) / weight_sum
    previous2_factor = -settings.acceleration_weight / weight_sum
    reference_term = settings.posture_weight / weight_sum * reference_joints
    bases = base_guesses(robot, targets)
    for row in range(first, targets.frame_count + 2):
        t = row - 2
        previous, previous2 = result[row - 1, BASE_Q:], result[row - 2, BASE_Q:]
        low = np.maximum(robot.lower, previous - max_step)
        high = np.minimum(robot.upper, previous + max_step)
        predicted = 2.0 * previous - previous2
        centre = previous_factor * previous + previous2_factor * previous2 + reference_term
        q = result[row - 1].copy()
        if bases is not None:
            q[:BASE_Q] = bases[t]
        q[BASE_Q:] = np.minimum(np.maximum(predicted, low), high)
        result[row] = solver.solve_frame(
            q, targets.positions[t], targets.rotations[t], low, high, centre, weight_sum, settings.iterations
        )
    return result[2:]
