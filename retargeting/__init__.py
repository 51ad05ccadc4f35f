"""Retarget human motion (SMPL-22 joint positions) onto humanoid robots with Pinocchio.

Typical use::

    from retargeting import load_robot, retarget_motion

    trajectory = retarget_motion(joints, fps=20.0, robot="g1", rate=50.0)
    trajectory.save_npz("traj.npz")

Frames: the input is in the human world frame (Y up, facing +Z); everything produced is in the robot
world frame (Z up, X forward, Y left), see :mod:`retargeting.human`. The package depends on numpy,
scipy, pinocchio and pyyaml (MuJoCo, imageio and matplotlib only for videos); it imports neither torch
nor ROS.
"""

from retargeting.config import (
    FootConfig,
    KeypointTask,
    LimitSettings,
    RobotConfig,
    ScalingSettings,
    SolverSettings,
    builtin_robot_names,
)
from retargeting.errors import MotionInputError, RenderError, RetargetingError, RobotConfigError
from retargeting.ik import IKSolver, solve_ik
from retargeting.metrics import RetargetMetrics, evaluate
from retargeting.pipeline import RetargetResult, retarget, retarget_motion
from retargeting.render import render_video
from retargeting.robot_model import RobotModel, load_robot
from retargeting.scaling import KeypointTargets, build_targets
from retargeting.sequence import solve_sequence
from retargeting.trajectory import RobotTrajectory, resample_configurations
from retargeting.yaml_config import load_robot_config

__all__ = [
    "FootConfig",
    "IKSolver",
    "KeypointTargets",
    "KeypointTask",
    "LimitSettings",
    "MotionInputError",
    "RenderError",
    "RetargetMetrics",
    "RetargetResult",
    "RetargetingError",
    "RobotConfig",
    "RobotConfigError",
    "RobotModel",
    "RobotTrajectory",
    "ScalingSettings",
    "SolverSettings",
    "build_targets",
    "builtin_robot_names",
    "evaluate",
    "load_robot",
    "load_robot_config",
    "render_video",
    "resample_configurations",
    "retarget",
    "retarget_motion",
    "solve_ik",
    "solve_sequence",
]
