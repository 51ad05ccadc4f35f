"""Robot retargeting configuration: typed dataclasses loaded from a strict YAML file.

A robot configuration names the URDF, maps SMPL joints to robot frames with task weights and offsets,
and sets the scaling, solver and limit parameters. It is read from YAML by
:func:`retargeting.yaml_config.load_robot_config`; the checks that need the URDF (frame and joint
names) are done when the robot is loaded (:func:`retargeting.robot_model.load_robot`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from retargeting.errors import RobotConfigError
from retargeting.human import SMPL_INDEX, SMPL_JOINT_NAMES, SMPL_PARENTS

Vector3 = tuple[float, float, float]
LEG_JOINTS = ("l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle")
"""SMPL joints whose robot bone lengths define the automatic root scale (leg-length ratio)."""
BUILTIN_ROBOTS_DIR = Path(__file__).resolve().parent / "robots"
"""Directory holding the robot YAML files shipped with the package (``g1.yaml``, ``talos.yaml``)."""


@dataclass(frozen=True)
class KeypointTask:
    """One SMPL joint tracked by one robot frame.

    Attributes:
        name: Unique label of the task (used in logs and metrics).
        smpl_joint: SMPL-22 joint name (see :data:`retargeting.human.SMPL_JOINT_NAMES`).
        frame: Name of the robot frame (URDF link or joint) that should follow the joint.
        position_weight: Weight of the 3-D position error (1/m^2 scale; 0 disables the position task).
        orientation_weight: Weight of the orientation error (1/rad^2 scale; 0 disables it). Only joints
            with a derived body orientation (pelvis, spine, neck, ankles, feet) may use it.
        position_offset: Point tracked, in the robot frame's own axes, metres.
        orientation_offset_deg: Roll, pitch, yaw (degrees, fixed X-Y-Z axes) of the robot frame relative
            to the derived human body frame: target rotation = human body rotation @ offset.
        attach: How the scaled target is placed relative to the parent keypoint: ``limb`` keeps the human
            bone direction and uses the robot's bone length, ``rigid`` keeps the robot's own offset from
            the parent frame (for bones that are rigid on the robot, e.g. pelvis to hip).
    """

    name: str
    smpl_joint: str
    frame: str
    position_weight: float = 1.0
    orientation_weight: float = 0.0
    position_offset: Vector3 = (0.0, 0.0, 0.0)
    orientation_offset_deg: Vector3 = (0.0, 0.0, 0.0)
    attach: Literal["limb", "rigid"] = "limb"


@dataclass(frozen=True)
class FootConfig:
    """Sole geometry of one foot, used for floor contact and penetration checks.

    Attributes:
        frame: Robot frame the sole points are attached to.
        sole_points: Points of the sole surface in that frame's axes, metres (at least one).
    """

    frame: str
    sole_points: tuple[Vector3, ...]


@dataclass(frozen=True)
class ScalingSettings:
    """Human-to-robot scaling.

    Attributes:
        method: ``limb_lengths`` rebuilds the skeleton with the robot's bone lengths; ``uniform``
            multiplies every human position by one factor.
        root_scale: Factor applied to the pelvis trajectory (and to everything for ``uniform``); ``None``
            uses the ratio of robot to human leg length.
    """

    method: Literal["limb_lengths", "uniform"] = "limb_lengths"
    root_scale: float | None = None


@dataclass(frozen=True)
class SolverSettings:
    """Damped least-squares IK parameters (see :mod:`retargeting.ik`).

    Attributes:
        iterations: Maximum Gauss-Newton steps per frame, warm-started from the previous frame.
        initial_iterations: Steps for the first frame, started from the reference posture.
        damping: Levenberg-Marquardt damping added to every diagonal entry of the normal matrix.
        velocity_weight: Weight of ``||q - q_prev||^2`` on the actuated joints (smoothness).
        acceleration_weight: Weight of ``||q - 2 q_prev + q_prev2||^2`` on the actuated joints.
        posture_weight: Weight pulling actuated joints towards the reference posture.
        step_tolerance: A frame stops iterating once a step is shorter than this (norm over the tangent
            vector, rad and m), so that slow frames take one step and fast ones up to ``iterations``.
    """

    iterations: int = 2
    initial_iterations: int = 15
    damping: float = 1.0e-4
    velocity_weight: float = 0.05
    acceleration_weight: float = 0.02
    posture_weight: float = 0.01
    step_tolerance: float = 0.02


@dataclass(frozen=True)
class LimitSettings:
    """Limits enforced on the output trajectory in addition to the URDF joint limits.

    Attributes:
        velocity_scale: Fraction (0, 1] of the URDF joint velocity limits actually used.
        default_joint_velocity: Velocity limit (rad/s or m/s) for joints whose URDF limit is 0 or missing.
        base_linear_speed: Maximum floating-base speed, m/s.
        base_angular_speed: Maximum floating-base angular speed, rad/s.
    """

    velocity_scale: float = 1.0
    default_joint_velocity: float = 2.0
    base_linear_speed: float = 4.0
    base_angular_speed: float = 8.0


@dataclass(frozen=True)
class RobotConfig:
    """Everything needed to retarget onto one robot.

    Attributes:
        name: Short robot name (e.g. ``g1``).
        urdf: Absolute path of the URDF file.
        keypoints: Tracked SMPL joints; exactly one must map the ``pelvis``.
        feet: Sole geometry of the ``left`` and ``right`` feet.
        reference_posture: Joint name to position (rad or m) of the reference posture; joints not
            listed use 0 clamped into their limits.
        scaling: Human-to-robot scaling settings.
        solver: IK settings.
        limits: Output limit settings.
        source: File the configuration was read from (for error messages).
    """

    name: str
    urdf: Path
    keypoints: tuple[KeypointTask, ...]
    feet: Mapping[str, FootConfig]
    reference_posture: Mapping[str, float] = field(default_factory=dict)
    scaling: ScalingSettings = ScalingSettings()
    solver: SolverSettings = SolverSettings()
    limits: LimitSettings = LimitSettings()
    source: str = "<memory>"


def builtin_robot_names() -> tuple[str, ...]:
    """Names of the robots shipped with the package (the YAML files in ``retargeting/robots``)."""
    return tuple(sorted(path.stem for path in BUILTIN_ROBOTS_DIR.glob("*.yaml")))


def example_robot_data_dir() -> Path:
    """Locate the robot description directory of the installed ``example-robot-data`` package.

    Returns:
        The ``share/example-robot-data/robots`` directory of the cmeel prefix.

    Raises:
        RobotConfigError: The package is not installed.
    """
    from importlib import metadata

    try:
        distribution = metadata.distribution("example-robot-data")
    except metadata.PackageNotFoundError as error:
        raise RobotConfigError(
            "the example-robot-data package is not installed (pip install example-robot-data)"
        ) from error
    directory = Path(str(distribution.locate_file("cmeel.prefix/share/example-robot-data/robots")))
    if not directory.is_dir():
        raise RobotConfigError(f"example-robot-data is installed but {directory} does not exist")
    return directory


EXAMPLE_ROBOT_DATA_SCHEME = "example-robot-data://"


def resolve_urdf_path(text: str, base_dir: Path) -> Path:
    """Resolve the ``urdf`` field: ``example-robot-data://relative/path``, absolute, or relative to the YAML."""
    if text.startswith(EXAMPLE_ROBOT_DATA_SCHEME):
        path = example_robot_data_dir() / text[len(EXAMPLE_ROBOT_DATA_SCHEME) :]
    else:
        path = Path(text).expanduser()
        path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise RobotConfigError(f"URDF file not found: {path}")
    return path.resolve()


def keypoint_parent(smpl_joint: str, keypoints: tuple[KeypointTask, ...]) -> KeypointTask | None:
    """The keypoint mapping the nearest SMPL ancestor of ``smpl_joint`` (``None`` for the root)."""
    by_joint = {task.smpl_joint: task for task in keypoints}
    index = SMPL_PARENTS[SMPL_INDEX[smpl_joint]]
    while index >= 0:
        if SMPL_JOINT_NAMES[index] in by_joint:
            return by_joint[SMPL_JOINT_NAMES[index]]
        index = SMPL_PARENTS[index]
    return None
