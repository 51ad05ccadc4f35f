"""Single-frame IK: convergence on reachable poses, joint limits under unreachable targets, the box QP."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest
from scipy.optimize import minimize

from retargeting.ik import IKSolver, solve_ik
from retargeting.robot_model import RobotModel, load_robot
from tests.retargeting_helpers import random_configuration


@pytest.fixture(scope="module", params=["g1", "talos"])
def robot(request) -> RobotModel:
    return load_robot(request.param)


def test_converges_on_reachable_poses(robot):
    rng = np.random.default_rng(7)
    for _ in range(5):
        goal = random_configuration(robot, rng, spread=0.4)
        positions, rotations = robot.keypoint_poses(goal)
        start = robot.reference_q.copy()
        start[:7] = goal[:7]  # base near the pelvis target, as the pipeline does
        solution = solve_ik(robot, positions, rotations, q_init=start, iterations=200)
        error = np.linalg.norm(robot.keypoint_poses(solution)[0] - positions, axis=-1)
        assert error.mean() < 0.005 and error.max() < 0.02
        assert np.all(solution[7:] >= robot.lower) and np.all(solution[7:] <= robot.upper)


def test_unreachable_targets_keep_joints_inside_limits(robot):
    positions, rotations = robot.keypoint_poses(robot.reference_q)
    far = positions * 25.0 + np.array([10.0, -10.0, 5.0])
    solution = solve_ik(robot, far, rotations, iterations=100)
    assert np.all(np.isfinite(solution))
    assert np.all(solution[7:] >= robot.lower) and np.all(solution[7:] <= robot.upper)


def test_box_step_is_feasible_and_near_the_qp_optimum():
    robot = load_robot("g1")
    solver = IKSolver(robot, np.ones(len(robot.config.keypoints)), np.zeros(len(robot.config.keypoints)))
    rng = np.random.default_rng(5)
    for _ in range(5):
        factor = rng.normal(size=(60, robot.nv))
        hessian = factor.T @ factor + 1e-3 * np.eye(robot.nv)
        gradient = rng.normal(size=robot.nv) * 5.0
        low, high = -rng.uniform(0.0, 0.5, robot.nv), rng.uniform(0.0, 0.5, robot.nv)
        step = solver._box_step(hessian, gradient, low, high)
        assert np.all(step >= low) and np.all(step <= high)

        def objective(x, h=hessian, g=gradient):
            return 0.5 * x @ h @ x - g @ x

        reference = minimize(
            objective,
            np.zeros(robot.nv),
            jac=lambda x, h=hessian, g=gradient: h @ x - g,
            bounds=list(zip(low, high, strict=True)),
            method="L-BFGS-B",
            options={"maxiter": 5000},
        )
        unconstrained = objective(np.clip(np.linalg.solve(hessian, gradient), low, high))
        assert objective(step) <= reference.fun + 1e-3 * abs(reference.fun)
        assert objective(step) <= unconstrained + 1e-9


def test_rotation_errors_match_pinocchio_log3_including_near_pi():
    from scipy.spatial.transform import Rotation

    from retargeting.ik import rotation_errors

    vectors = np.concatenate(
        [Rotation.random(200, random_state=2).as_rotvec(), [[0.0, 0.0, np.pi - 0.01], [0.0, 0.0, 0.0]]]
    )
    rotations = Rotation.from_rotvec(vectors).as_matrix()
    expected = np.array([pin.log3(rotation) for rotation in rotations])
    assert rotation_errors(rotations) == pytest.approx(expected, abs=1e-9)
