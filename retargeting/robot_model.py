"""Robot kinematics: a Pinocchio model with a floating base, limits, and the frames the retargeter tracks.

Configuration vector ``q`` (Pinocchio layout, size ``nq = 7 + n``): base position in the robot world
frame (m), base orientation quaternion ``(x, y, z, w)`` (world from base), then the ``n`` actuated joint
positions (rad, or m for prismatic joints) in Pinocchio's depth-first order. Tangent vectors (size
``nv = 6 + n``) hold the base linear and angular velocity in the base frame, then the joint velocities.
:attr:`RobotModel.urdf_order` maps Pinocchio's joint order to the order of the joints in the URDF file.
"""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pinocchio as pin

from retargeting.config import RobotConfig
from retargeting.errors import RobotConfigError
from retargeting.yaml_config import load_robot_config

KEYPOINT_FRAME_PREFIX = "retargeting/keypoint/"
SOLE_FRAME_PREFIX = "retargeting/sole/"
BASE_Q = 7
"""Number of configuration entries of the floating base (position + quaternion)."""
BASE_V = 6
"""Number of tangent entries of the floating base (linear + angular velocity)."""


def urdf_joint_order(urdf: Path) -> list[str]:
    """Names of the movable joints (not ``fixed`` nor ``floating``) in the order the URDF file lists them."""
    try:
        root = ET.parse(urdf).getroot()
    except (OSError, ET.ParseError) as error:
        raise RobotConfigError(f"cannot parse URDF {urdf}: {error}") from error
    return [str(joint.get("name")) for joint in root.findall("joint") if joint.get("type") not in ("fixed", "floating")]


class RobotModel:
    """A humanoid loaded from URDF with a free-flyer root and the retargeting frames added.

    Attributes:
        config: The robot configuration the model was built from.
        model: Pinocchio model; keypoint and sole frames are appended as operational frames.
        data: Pinocchio data of ``model`` (not thread-safe: one ``RobotModel`` per thread or process).
        joint_names: Actuated joint names in Pinocchio order (``q[7:]``).
        urdf_order: Index array such that ``q[7:][urdf_order]`` lists joints in URDF file order.
        lower: ``[n]`` lower joint position limits (rad or m).
        upper: ``[n]`` upper joint position limits (rad or m).
        velocity_limits: ``[n]`` joint speed limits (rad/s or m/s), URDF values times the configured scale.
        keypoint_frame_ids: ``[K]`` frame ids of the keypoint points, in ``config.keypoints`` order.
        sole_frame_ids: Side (``left``/``right``) to ``[P]`` frame ids of that foot's sole points.
        reference_q: ``[nq]`` reference configuration: reference posture, base upright at the origin, soles
            on the floor (``z = 0``).
        keypoint_support: ``[K, nv]`` 1.0 where a tangent entry moves keypoint ``k`` (its ancestor joints).
    """

    def __init__(self, config: RobotConfig) -> None:
        """Load the URDF named by ``config`` and check every frame and joint name against it.

        Raises:
            RobotConfigError: The URDF cannot be parsed, has unsupported joints, or lacks a frame or
                joint named in the configuration.
        """
        self.config = config
        try:
            model = pin.buildModelFromUrdf(str(config.urdf), pin.JointModelFreeFlyer())
        except (RuntimeError, ValueError) as error:
            raise RobotConfigError(f"cannot load URDF {config.urdf}: {error}") from error
        self.model = model
        self._check_joints()
        self.joint_names = tuple(model.names[2:])
        order = urdf_joint_order(config.urdf)
        if sorted(order) != sorted(self.joint_names):
            raise RobotConfigError(f"URDF {config.urdf}: movable joints differ between the file and Pinocchio")
        self.urdf_order = np.array([self.joint_names.index(name) for name in order], dtype=np.intp)
        self.lower = model.lowerPositionLimit[BASE_Q:].copy()
        self.upper = model.upperPositionLimit[BASE_Q:].copy()
        urdf_velocity = model.velocityLimit[BASE_V:].copy()
        urdf_velocity[~(urdf_velocity > 0)] = config.limits.default_joint_velocity
        self.velocity_limits = urdf_velocity * config.limits.velocity_scale
        self.keypoint_frame_ids = np.array(
            [
                self._add_point_frame(
                    KEYPOINT_FRAME_PREFIX + task.name, task.frame, task.position_offset, f"keypoint '{task.name}'"
                )
                for task in config.keypoints
            ],
            dtype=np.intp,
        )
        self.sole_frame_ids = {
            side: np.array(
                [
                    self._add_point_frame(f"{SOLE_FRAME_PREFIX}{side}/{i}", foot.frame, point, f"feet.{side}")
                    for i, point in enumerate(foot.sole_points)
                ],
                dtype=np.intp,
            )
            for side, foot in config.feet.items()
        }
        self.data = self.model.createData()
        self.reference_q = self._reference_configuration()
        self.keypoint_support = np.array([self.support_mask(int(i)) for i in self.keypoint_frame_ids])

    @property
    def name(self) -> str:
        """Short robot name from the configuration."""
        return self.config.name

    @property
    def nq(self) -> int:
        """Size of the configuration vector (7 + number of actuated joints)."""
        return int(self.model.nq)

    @property
    def nv(self) -> int:
        """Size of the tangent vector (6 + number of actuated joints)."""
        return int(self.model.nv)

    @property
    def urdf_joint_names(self) -> tuple[str, ...]:
        """Actuated joint names in URDF file order."""
        return tuple(self.joint_names[i] for i in self.urdf_order)

    def _check_joints(self) -> None:
        """Reject joints whose configuration and velocity sizes differ (continuous, spherical, planar)."""
        for joint_id in range(2, self.model.njoints):
            joint = self.model.joints[joint_id]
            if joint.nq != 1 or joint.nv != 1:
                raise RobotConfigError(
                    f"URDF {self.config.urdf}: joint '{self.model.names[joint_id]}' has nq={joint.nq}, nv={joint.nv}; "
                    "only revolute and prismatic joints with position limits are supported"
                )
        lower, upper = self.model.lowerPositionLimit[BASE_Q:], self.model.upperPositionLimit[BASE_Q:]
        unbounded = [
            self.model.names[i + 2]
            for i in np.flatnonzero(~(np.isfinite(lower) & np.isfinite(upper) & (lower <= upper)))
        ]
        if unbounded:
            raise RobotConfigError(f"URDF {self.config.urdf}: joints without finite position limits: {unbounded}")

    def _frame_id(self, frame: str, owner: str) -> int:
        """Id of an existing URDF frame, or a :class:`RobotConfigError` naming the closest matches."""
        if not self.model.existFrame(frame):
            names = [f.name for f in self.model.frames]
            close = difflib.get_close_matches(frame, names, n=3)
            raise RobotConfigError(
                f"{self.config.source}: {owner} uses unknown frame '{frame}' (not in URDF {self.config.urdf.name}); "
                f"closest frames: {close}"
            )
        return int(self.model.getFrameId(frame))

    def _add_point_frame(self, name: str, frame: str, offset: tuple[float, float, float], owner: str) -> int:
        """Append an operational frame at ``offset`` (metres, in ``frame``'s axes) from an existing frame."""
        parent_id = self._frame_id(frame, owner)
        parent = self.model.frames[parent_id]
        placement = parent.placement * pin.SE3(np.eye(3), np.asarray(offset, dtype=np.float64))
        return int(
            self.model.addFrame(pin.Frame(name, parent.parentJoint, parent_id, placement, pin.FrameType.OP_FRAME))
        )

    def _reference_configuration(self) -> np.ndarray:
        """Reference posture from the configuration with the base lifted so that the soles touch z = 0."""
        q = pin.neutral(self.model)
        for joint, value in self.config.reference_posture.items():
            if joint not in self.joint_names:
                close = difflib.get_close_matches(joint, self.joint_names, n=3)
                raise RobotConfigError(
                    f"{self.config.source}: reference_posture names joint '{joint}' that is missing from URDF "
                    f"{self.config.urdf.name}; closest joints: {close}"
                )
            q[BASE_Q + self.joint_names.index(joint)] = value
        q[BASE_Q:] = np.clip(q[BASE_Q:], self.lower, self.upper)
        lowest = min(points[:, 2].min() for points in self.sole_positions(q).values())
        q[2] -= lowest
        return q

    def support_mask(self, frame_id: int) -> np.ndarray:
        """``[nv]`` 1.0 on the tangent entries of the joints that move frame ``frame_id`` (its ancestors)."""
        mask = np.zeros(self.model.nv)
        for joint_id in self.model.supports[self.model.frames[frame_id].parentJoint]:
            joint = self.model.joints[joint_id]
            if joint_id > 0:
                mask[joint.idx_v : joint.idx_v + joint.nv] = 1.0
        return mask

    def clamp(self, q: np.ndarray) -> np.ndarray:
        """Copy of ``q`` with the actuated joints clamped into their position limits."""
        clamped = np.array(q, dtype=np.float64)
        clamped[BASE_Q:] = np.clip(clamped[BASE_Q:], self.lower, self.upper)
        return clamped

    def keypoint_poses(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoint positions ``[K, 3]`` (m) and rotations ``[K, 3, 3]`` in the robot world frame at ``q``."""
        pin.framesForwardKinematics(self.model, self.data, q)
        placements = [self.data.oMf[int(i)] for i in self.keypoint_frame_ids]
        return np.array([p.translation for p in placements]), np.array([p.rotation for p in placements])

    def keypoint_positions(self, configurations: np.ndarray) -> np.ndarray:
        """Keypoint positions ``[T, K, 3]`` (m, robot world frame) for configurations ``[T, nq]``."""
        out = np.empty((len(configurations), len(self.keypoint_frame_ids), 3))
        for t, q in enumerate(configurations):
            pin.framesForwardKinematics(self.model, self.data, q)
            out[t] = [self.data.oMf[int(i)].translation for i in self.keypoint_frame_ids]
        return out

    def sole_positions(self, q: np.ndarray) -> dict[str, np.ndarray]:
        """Sole point positions per foot, ``[P, 3]`` each (m, robot world frame), at configuration ``q``."""
        pin.framesForwardKinematics(self.model, self.data, q)
        return {
            side: np.array([self.data.oMf[int(i)].translation for i in ids])
            for side, ids in self.sole_frame_ids.items()
        }


def load_robot(robot: str | Path | RobotConfig) -> RobotModel:
    """Load a robot by built-in name (``g1``, ``talos``), YAML path, or an already parsed configuration.

    Raises:
        RobotConfigError: Unknown robot, invalid YAML, or a YAML that does not match its URDF.
    """
    config = robot if isinstance(robot, RobotConfig) else load_robot_config(robot)
    return RobotModel(config)
