"""Per-frame inverse kinematics: box-constrained damped least squares, warm-started frame to frame.

Each Gauss-Newton step minimises, over the tangent step ``dq`` (size ``nv``)::

    sum_k w_k ||J_k dq - e_k||^2                       position and orientation tasks
    + w_vel ||q_j + dq_j - q_prev_j||^2                 smoothness (velocity)
    + w_acc ||q_j + dq_j - (2 q_prev_j - q_prev2_j)||^2  smoothness (acceleration)
    + w_post ||q_j + dq_j - q_ref_j||^2                 posture
    + damping ||dq||^2                                  Levenberg-Marquardt damping

subject to the box ``max(lower, q_prev - v_max dt) <= q_j + dq_j <= min(upper, q_prev + v_max dt)`` on
every actuated joint ``j``: joint position limits are hard, and so are the URDF velocity limits between
consecutive frames. ``e_k`` is ``p_target - p`` for positions (world frame, m) and
``log3(R_target R^T)`` for orientations (world frame, rad); ``J_k`` are the ``LOCAL_WORLD_ALIGNED``
Jacobians of the keypoints, built from one Pinocchio ``computeJointJacobians`` call. The normal equations
(``nv x nv``) are solved by Cholesky (LAPACK ``dpotrf``/``dpotrs``); the box is handled by a primal
active set on that factor, and the result is clamped, so the returned configurations satisfy the box
exactly. Clip-level solving (warm start, cold start) is in :mod:`retargeting.sequence`.
"""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
from scipy.linalg import blas, lapack

from retargeting.config import SolverSettings
from retargeting.robot_model import BASE_Q, BASE_V, RobotModel

_CROSS_AXES = np.array(
    [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]],
        [[0.0, 0.0, -1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
        [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
    ]
)
"""``_CROSS_AXES[k] @ w`` is ``w x e_k`` (the cross product of ``w`` with the k-th unit axis)."""

CONVERGED_STEP = 1.0e-6
"""Step length (rad, m) at which single-frame solves (:func:`solve_ik`, cold starts) stop."""
ACTIVE_SET_PASSES = 12
"""Maximum active-set passes of the box QP (each adds or releases bounds; typical frames need 0 or 1)."""


def rotation_errors(rotations: np.ndarray) -> np.ndarray:
    """Rotation vectors ``log3(R)`` (rad, world axes) of ``[N, 3, 3]`` rotation matrices, vectorised.

    ``angle = atan2(|v| / 2, (trace - 1) / 2)`` with ``v`` the vee of ``R - R^T`` (``2 sin(angle)`` times
    the axis); the few rotations within 0.1 rad of pi, where ``v`` vanishes, use :func:`pinocchio.log3`.
    """
    flat = rotations.reshape(-1, 9)
    vee = flat[:, (7, 2, 3)] - flat[:, (5, 6, 1)]
    twice_sine = np.sqrt(np.einsum("ij,ij->i", vee, vee))
    angle = np.arctan2(0.5 * twice_sine, 0.5 * (flat[:, 0] + flat[:, 4] + flat[:, 8] - 1.0))
    vectors = vee * np.where(twice_sine > 1e-9, angle / np.maximum(twice_sine, 1e-12), 0.5)[:, None]
    for index in np.flatnonzero(angle > np.pi - 0.1):
        vectors[index] = pin.log3(rotations[index])
    return vectors


class IKSolver:
    """Warm-started IK for one robot and one set of task weights (reusable across frames and clips).

    Attributes:
        robot: The robot model (its Pinocchio data is used as scratch space).
        settings: Solver settings (iterations, damping, regularisation weights).
    """

    def __init__(self, robot: RobotModel, position_weights: np.ndarray, orientation_weights: np.ndarray) -> None:
        """Precompute the task layout.

        Args:
            robot: The robot to solve for.
            position_weights: ``[K]`` position weights of the robot's keypoints (0 disables a task).
            orientation_weights: ``[K]`` orientation weights of the robot's keypoints (0 disables a task).
        """
        self.robot = robot
        self.settings: SolverSettings = robot.config.solver
        self.position_keypoints = np.flatnonzero(position_weights > 0)
        self.orientation_keypoints = np.flatnonzero(orientation_weights > 0)
        tracked = np.union1d(self.position_keypoints, self.orientation_keypoints)
        self._frame_ids = [int(robot.keypoint_frame_ids[k]) for k in tracked]
        self._tracked = tracked
        self._position_slots = np.searchsorted(tracked, self.position_keypoints)
        self._orientation_slots = np.searchsorted(tracked, self.orientation_keypoints)
        self._support = robot.keypoint_support[tracked]
        self._position_rows = 3 * len(self.position_keypoints)
        self.row_count = self._position_rows + 3 * len(self.orientation_keypoints)
        # Square roots of the task weights are folded into the Jacobian rows and errors.
        position_scale = np.sqrt(position_weights[self.position_keypoints])[:, None, None]
        orientation_scale = np.sqrt(orientation_weights[self.orientation_keypoints])[:, None, None]
        self._position_support = self._support[self._position_slots, None, :] * position_scale
        self._orientation_support = self._support[self._orientation_slots, None, :] * orientation_scale
        self._row_scale = np.concatenate(
            [np.repeat(position_scale.ravel(), 3), np.repeat(orientation_scale.ravel(), 3)]
        )
        # References into the Pinocchio data, updated in place by every kinematics call.
        self._frames = robot.data.oMf
        self._world_jacobian = robot.data.J
        self._jacobian = np.zeros((self.row_count, robot.nv))
        self._error = np.zeros(self.row_count)
        split = self._position_rows
        # Views of the rows of each task type, written in place by _linearise.
        self._position_jacobian = self._jacobian[:split].reshape(-1, 3, robot.nv)
        self._orientation_jacobian = self._jacobian[split:].reshape(-1, 3, robot.nv)
        self._position_error = self._error[:split].reshape(-1, 3)
        self._orientation_error = self._error[split:].reshape(-1, 3)
        self._diag = np.arange(robot.nv) * (robot.nv + 1)
        self._diagonal_offset = np.full(robot.nv, self.settings.damping)
        self._identity = np.eye(robot.nv)
        self._low = np.full(robot.nv, -np.inf)
        self._high = np.full(robot.nv, np.inf)

    def _linearise(self, q: np.ndarray, positions: np.ndarray, rotations: np.ndarray) -> None:
        """Fill the weighted task Jacobian and error at ``q`` (rows scaled by the square-root weights).

        One Pinocchio call computes the world-frame joint Jacobian ``data.J`` (columns ``(v_o, w)``: the
        velocity of the point at the world origin and the angular velocity); the ``LOCAL_WORLD_ALIGNED``
        Jacobian of a point ``p`` is then ``v_o + w x p`` on the joints supporting it,
        computed for all tracked frames with two numpy products instead of one Pinocchio call per frame.
        """
        pin.computeJointJacobians(self.robot.model, self.robot.data, q)
        pin.updateFramePlacements(self.robot.model, self.robot.data)
        frames = self._frames
        placements = np.array([frames[frame_id].homogeneous for frame_id in self._frame_ids])
        points = placements[:, :3, 3]
        world_jacobian = self._world_jacobian
        # w x p = sum_k p_k (w x e_k): one small product per axis, then one product for all points.
        axis_cross = (_CROSS_AXES @ world_jacobian[3:]).reshape(3, -1)
        point_jacobian = (points[self._position_slots] @ axis_cross).reshape(-1, 3, self.robot.nv)
        point_jacobian += world_jacobian[:3]
        np.multiply(point_jacobian, self._position_support, out=self._position_jacobian)
        np.multiply(world_jacobian[3:], self._orientation_support, out=self._orientation_jacobian)
        np.subtract(positions[self.position_keypoints], points[self._position_slots], out=self._position_error)
        current = placements[self._orientation_slots, :3, :3]
        self._orientation_error[:] = rotation_errors(rotations[self.orientation_keypoints] @ current.transpose(0, 2, 1))
        self._error *= self._row_scale

    def _box_step(self, hessian: np.ndarray, gradient: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Minimise ``0.5 dq^T H dq - g^T dq`` subject to ``low <= dq <= high`` (primal active set).

        Works on the Cholesky factor of ``H`` (only its upper triangle is read). With the unconstrained
        minimiser ``x = H^-1 g``, pinning a set ``F`` of variables on bounds ``b_F`` gives
        ``dq = x - H^-1 E_F lambda`` with ``(H^-1)_FF lambda = x_F - b_F``: triangular solves with the
        existing factor plus a ``|F| x |F|`` system. Each pass adds the variables that leave the box or,
        when none does, releases the bound whose multiplier has the wrong sign. Returns a zero step if
        ``H`` is not positive definite or the solution is not finite; the final clamp makes the box exact.
        """
        factor, info = lapack.dpotrf(hessian)
        unconstrained, _ = lapack.dpotrs(factor, gradient)
        if info != 0 or not math.isfinite(float(unconstrained @ unconstrained)):
            return np.zeros_like(gradient)
        step = unconstrained
        if np.array_equal(np.minimum(np.maximum(step, low), high), step):
            return step  # the common case: no bound is active
        fixed = np.zeros(step.shape, dtype=bool)
        bound = np.zeros_like(step)
        indices, multipliers = np.zeros(0, dtype=np.intp), np.zeros(0)
        for _ in range(ACTIVE_SET_PASSES):
            outside = ~fixed & ((step < low) | (step > high))
            if outside.any():
                bound[outside] = np.minimum(np.maximum(step[outside], low[outside]), high[outside])
                fixed |= outside
            elif fixed.any():
                # Multiplier sign: a variable pinned at its lower bound must want to go lower (lambda <= 0).
                wrong = np.where(bound[indices] <= low[indices], multipliers, -multipliers)
                if wrong.max() <= 1e-12:
                    break
                fixed[indices[int(np.argmax(wrong))]] = False
            else:
                break
            indices = np.flatnonzero(fixed)
            if indices.size == 0:
                step = unconstrained
                continue
            inverse_columns, _ = lapack.dpotrs(factor, self._identity[:, indices])
            _, multipliers, info = lapack.dposv(inverse_columns[indices], unconstrained[indices] - bound[indices])
            if info != 0:
                break
            step = unconstrained - inverse_columns @ multipliers
        return np.minimum(np.maximum(step, low), high)

    def solve_frame(
        self,
        q: np.ndarray,
        positions: np.ndarray,
        rotations: np.ndarray,
        joint_low: np.ndarray,
        joint_high: np.ndarray,
        regularisation_target: np.ndarray,
        regularisation_weight: float,
        iterations: int,
        tolerance: float | None = None,
    ) -> np.ndarray:
        """Run box-constrained Gauss-Newton steps on one frame.

        Args:
            q: ``[nq]`` initial configuration; its joints must lie inside ``[joint_low, joint_high]``.
            positions: ``[K, 3]`` target positions (robot world frame, m).
            rotations: ``[K, 3, 3]`` target rotations (world from frame).
            joint_low: ``[n]`` lower bound of the actuated joints for this frame.
            joint_high: ``[n]`` upper bound of the actuated joints for this frame.
            regularisation_target: ``[n]`` weighted mean of the smoothness and posture targets.
            regularisation_weight: Sum of the smoothness and posture weights.
            iterations: Maximum number of steps.
            tolerance: Stop once a step is shorter than this (rad, m); default ``settings.step_tolerance``.

        Returns:
            ``[nq]`` configuration with the joints inside ``[joint_low, joint_high]``.
        """
        low, high, diagonal = self._low, self._high, self._diagonal_offset
        tolerance = (self.settings.step_tolerance if tolerance is None else tolerance) ** 2
        diagonal[BASE_V:] = self.settings.damping + regularisation_weight
        for _ in range(iterations):
            self._linearise(q, positions, rotations)
            hessian = blas.dsyrk(1.0, self._jacobian, trans=1)
            hessian.flat[self._diag] += diagonal
            gradient = self._jacobian.T @ self._error
            joints = q[BASE_Q:]
            gradient[BASE_V:] += regularisation_weight * (regularisation_target - joints)
            np.subtract(joint_low, joints, out=low[BASE_V:])
            np.subtract(joint_high, joints, out=high[BASE_V:])
            step = self._box_step(hessian, gradient, low, high)
            q = pin.integrate(self.robot.model, q, step)
            q[BASE_Q:] = np.minimum(np.maximum(q[BASE_Q:], joint_low), joint_high)
            if float(step @ step) < tolerance:
                break
        return q


def solve_ik(
    robot: RobotModel,
    positions: np.ndarray,
    rotations: np.ndarray | None = None,
    q_init: np.ndarray | None = None,
    iterations: int | None = None,
) -> np.ndarray:
    """Solve the IK for a single set of keypoint targets (no smoothness term, position limits only).

    Args:
        robot: The robot.
        positions: ``[K, 3]`` keypoint target positions (robot world frame, m), in ``config.keypoints`` order.
        rotations: ``[K, 3, 3]`` target rotations; ``None`` disables the orientation tasks.
        q_init: ``[nq]`` initial configuration (default: the reference configuration).
        iterations: Maximum steps (default: ``initial_iterations`` from the settings).

    Returns:
        ``[nq]`` configuration with every actuated joint inside its position limits.
    """
    tasks = robot.config.keypoints
    orientation_weights = np.array([task.orientation_weight for task in tasks])
    if rotations is None:
        rotations, orientation_weights = np.broadcast_to(np.eye(3), (len(tasks), 3, 3)), np.zeros(len(tasks))
    solver = IKSolver(robot, np.array([task.position_weight for task in tasks]), orientation_weights)
    q = robot.clamp(robot.reference_q if q_init is None else q_init)
    settings = robot.config.solver
    return solver.solve_frame(
        q,
        np.asarray(positions, dtype=np.float64),
        np.asarray(rotations, dtype=np.float64),
        robot.lower,
        robot.upper,
        robot.reference_q[BASE_Q:],
        settings.posture_weight,
        iterations or settings.initial_iterations,
        tolerance=CONVERGED_STEP,
    )
