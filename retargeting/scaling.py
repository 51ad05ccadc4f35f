"""Human-to-robot scaling: turn SMPL-22 joint positions into per-frame robot keypoint targets.

Targets are built top-down along the SMPL kinematic tree restricted to the mapped joints:

* the **root** (pelvis) follows the human pelvis trajectory multiplied by the root scale (robot leg length
  over human leg length, thigh + shank + ankle height), giving the floating-base trajectory;
* a ``limb`` keypoint sits at its parent's target plus the human bone *direction* times the robot bone
  *length* (measured between the two robot keypoints in the reference posture), so limb targets are at
  the robot's own distances and are reachable;
* a ``rigid`` keypoint keeps the robot's own offset from its parent frame, rotated by the parent's target
  orientation (for bones that are rigid on the robot, such as pelvis to hip);
* orientations are derived from positions (:func:`retargeting.human.body_orientations`) and composed with
  each task's orientation offset.

The whole target set is then shifted vertically so that the feet touch the floor where the human's do,
contact keypoints are locked (:mod:`retargeting.contacts`) and no foot target goes below its standing
height. Everything is in the robot world frame (Z up, metres).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from retargeting.config import keypoint_parent
from retargeting.contacts import CONTACT_JOINTS, detect_foot_contacts, lock_contacts
from retargeting.human import ORIENTATION_SOURCES, SMPL_INDEX, body_orientations, foot_pitch, human_to_robot_world
from retargeting.robot_model import RobotModel


@dataclass(frozen=True)
class ScalingReference:
    """Robot-side geometry the scaling needs, measured once in the reference posture.

    Attributes:
        smpl_indices: ``[K]`` SMPL joint index of each keypoint.
        parents: ``[K]`` index of each keypoint's parent keypoint, -1 for the root.
        positions: ``[K, 3]`` keypoint positions in the reference posture (robot world frame, m).
        rotations: ``[K, 3, 3]`` keypoint frame rotations in the reference posture.
        orientation_offsets: ``[K, 3, 3]`` rotation of each robot frame relative to its human body frame.
        ground_heights: ``[K]`` standing height of foot keypoints (m), ``-inf`` for the others.
        bone_lengths: ``[K]`` robot distance from each keypoint to its parent (m), 0 for the root.
    """

    smpl_indices: np.ndarray
    parents: np.ndarray
    positions: np.ndarray
    rotations: np.ndarray
    orientation_offsets: np.ndarray
    ground_heights: np.ndarray
    bone_lengths: np.ndarray


@dataclass(frozen=True)
class KeypointTargets:
    """Per-frame IK targets for every keypoint of a robot, in the robot world frame.

    Attributes:
        fps: Frame rate of the targets (that of the human motion), frames per second.
        positions: ``[T, K, 3]`` target positions, metres.
        rotations: ``[T, K, 3, 3]`` target rotations (world from frame); identity where not derivable.
        position_weights: ``[K]`` position task weights.
        orientation_weights: ``[K]`` orientation task weights.
        contacts: ``[T, K]`` ``True`` where a foot keypoint is locked on the floor.
        ground_heights: ``[K]`` standing height of foot keypoints, ``-inf`` for the others (m).
        root_scale: Factor applied to the human pelvis trajectory.
        human_joints: ``[T, 22, 3]`` the (sanitised) human joints in the robot world frame, unscaled, m.
    """

    fps: float
    positions: np.ndarray
    rotations: np.ndarray
    position_weights: np.ndarray
    orientation_weights: np.ndarray
    contacts: np.ndarray
    ground_heights: np.ndarray
    root_scale: float
    human_joints: np.ndarray

    @property
    def frame_count(self) -> int:
        """Number of frames ``T``."""
        return int(self.positions.shape[0])


_REFERENCES: weakref.WeakKeyDictionary[RobotModel, ScalingReference] = weakref.WeakKeyDictionary()


def scaling_reference(robot: RobotModel) -> ScalingReference:
    """Measure the robot geometry used by :func:`build_targets` in its reference posture (cached per robot)."""
    if robot in _REFERENCES:
        return _REFERENCES[robot]
    tasks = robot.config.keypoints
    names = [task.name for task in tasks]
    parents = np.array(
        [-1 if (p := keypoint_parent(t.smpl_joint, tasks)) is None else names.index(p.name) for t in tasks],
        dtype=np.intp,
    )
    positions, rotations = robot.keypoint_poses(robot.reference_q)
    bone_lengths = np.array(
        [0.0 if p < 0 else float(np.linalg.norm(positions[k] - positions[p])) for k, p in enumerate(parents)]
    )
    ground = np.array([positions[k, 2] if t.smpl_joint in CONTACT_JOINTS else -np.inf for k, t in enumerate(tasks)])
    offsets = np.array([pin.rpy.rpyToMatrix(np.deg2rad(np.asarray(t.orientation_offset_deg))) for t in tasks])
    reference = ScalingReference(
        smpl_indices=np.array([SMPL_INDEX[t.smpl_joint] for t in tasks], dtype=np.intp),
        parents=parents,
        positions=positions,
        rotations=rotations,
        orientation_offsets=offsets,
        ground_heights=ground,
        bone_lengths=bone_lengths,
    )
    _REFERENCES[robot] = reference
    return reference


def _median_length(joints: np.ndarray, a: str, b: str) -> float:
    """Median distance between two SMPL joints over the clip (m)."""
    return float(np.median(np.linalg.norm(joints[:, SMPL_INDEX[a]] - joints[:, SMPL_INDEX[b]], axis=-1)))


def automatic_root_scale(joints: np.ndarray, robot: RobotModel, reference: ScalingReference) -> float:
    """Robot over human leg length (thigh + shank + ankle height), averaged over both legs.

    Args:
        joints: ``[T, 22, 3]`` human joints in the robot world frame (floor at z = 0), metres.
        robot: The robot; its configuration must map both hips, knees and ankles.
        reference: Robot geometry from :func:`scaling_reference`.
    """
    by_joint = {task.smpl_joint: k for k, task in enumerate(robot.config.keypoints)}
    ratios = []
    for side in ("l", "r"):
        hip, knee, ankle = (by_joint[f"{side}_{part}"] for part in ("hip", "knee", "ankle"))
        robot_leg = (
            np.linalg.norm(reference.positions[hip] - reference.positions[knee])
            + np.linalg.norm(reference.positions[knee] - reference.positions[ankle])
            + reference.positions[ankle, 2]
        )
        ankle_height = float(np.quantile(joints[:, SMPL_INDEX[f"{side}_ankle"], 2], 0.05))
        human_leg = (
            _median_length(joints, f"{side}_hip", f"{side}_knee")
            + _median_length(joints, f"{side}_knee", f"{side}_ankle")
            + max(ankle_height, 0.0)
        )
        ratios.append(robot_leg / max(human_leg, 1e-3))
    return float(np.mean(ratios))


def _unit(vectors: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Unit vectors ``[T, 3]``; rows shorter than 1e-9 become ``fallback`` (a unit vector)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.where(norms > 1e-9, vectors / np.maximum(norms, 1e-12), fallback)


def flat_foot_pitches(joints: np.ndarray, contacts: np.ndarray) -> tuple[float, float]:
    """Pitch (rad) of each human foot when flat: median over frames where its ankle and toe both touch.

    Falls back to the median over the whole clip for a foot that never has both joints in contact.

    Args:
        joints: ``[T, 22, 3]`` human joints in the robot world frame, metres.
        contacts: ``[T, 22]`` human contact labels (:func:`retargeting.contacts.detect_foot_contacts`).
    """
    pitches = []
    for side in ("l", "r"):
        angles = foot_pitch(joints, side)
        flat = contacts[:, SMPL_INDEX[f"{side}_ankle"]] & contacts[:, SMPL_INDEX[f"{side}_foot"]]
        pitches.append(float(np.median(angles[flat] if flat.any() else angles)))
    return pitches[0], pitches[1]


def _target_rotations(
    joints: np.ndarray, robot: RobotModel, reference: ScalingReference, flat_pitches: tuple[float, float]
) -> np.ndarray:
    """``[T, K, 3, 3]`` target rotations: derived human body frame composed with each task's offset."""
    bodies = body_orientations(joints, flat_pitches)
    rotations = np.broadcast_to(np.eye(3), (joints.shape[0], len(robot.config.keypoints), 3, 3)).copy()
    for k, task in enumerate(robot.config.keypoints):
        source = ORIENTATION_SOURCES.get(task.smpl_joint)
        if source is not None:
            rotations[:, k] = bodies[source] @ reference.orientation_offsets[k]
    return rotations


def _scaled_positions(
    joints: np.ndarray, robot: RobotModel, reference: ScalingReference, rotations: np.ndarray, root_scale: float
) -> np.ndarray:
    """``[T, K, 3]`` keypoint targets before floor calibration (see the module docstring)."""
    tasks = robot.config.keypoints
    human = joints[:, reference.smpl_indices]
    if robot.config.scaling.method == "uniform":
        return root_scale * human
    positions = np.empty_like(human)
    for k in np.argsort(reference.smpl_indices, kind="stable"):
        parent = reference.parents[k]
        if parent < 0:
            positions[:, k] = root_scale * human[:, k]
        elif tasks[k].attach == "rigid":
            local = reference.rotations[parent].T @ (reference.positions[k] - reference.positions[parent])
            positions[:, k] = positions[:, parent] + rotations[:, parent] @ local
        else:
            fallback = _unit(reference.positions[k] - reference.positions[parent], np.array([0.0, 0.0, -1.0]))
            direction = _unit(human[:, k] - human[:, parent], fallback)
            positions[:, k] = positions[:, parent] + reference.bone_lengths[k] * direction
    return positions


def _floor_offset(positions: np.ndarray, contacts: np.ndarray, ground: np.ndarray) -> float:
    """Vertical shift (m) putting the foot keypoints at their standing height where the human is in contact."""
    feet = np.isfinite(ground)
    if not feet.any():
        return 0.0
    if contacts.any():
        gaps = ground[None, :] - positions[:, :, 2]
        return float(np.median(gaps[contacts]))
    lowest = np.quantile(positions[:, feet, 2], 0.05, axis=0)
    return float(np.max(ground[feet] - lowest))


def build_targets(
    joints: np.ndarray, fps: float, robot: RobotModel, reference: ScalingReference | None = None
) -> KeypointTargets:
    """Scale a sanitised human motion onto a robot and return per-frame IK targets.

    Args:
        joints: ``[T, 22, 3]`` finite SMPL-22 joint positions, **human** world frame (Y up), metres (see
            :func:`retargeting.human.sanitize_motion`).
        fps: Frame rate of ``joints``, frames per second.
        robot: The target robot.
        reference: Precomputed :func:`scaling_reference` of ``robot`` (computed if ``None``).

    Returns:
        The keypoint targets in the robot world frame.
    """
    reference = reference or scaling_reference(robot)
    world = human_to_robot_world(joints)
    configured = robot.config.scaling.root_scale
    root_scale = configured if configured is not None else automatic_root_scale(world, robot, reference)
    human_contacts = detect_foot_contacts(world, fps)
    rotations = _target_rotations(world, robot, reference, flat_foot_pitches(world, human_contacts))
    positions = _scaled_positions(world, robot, reference, rotations, root_scale)
    contacts = human_contacts[:, reference.smpl_indices] & np.isfinite(reference.ground_heights)
    positions[:, :, 2] += _floor_offset(positions, contacts, reference.ground_heights)
    positions = lock_contacts(positions, contacts, reference.ground_heights)
    tasks = robot.config.keypoints
    return KeypointTargets(
        fps=float(fps),
        positions=positions,
        rotations=rotations,
        position_weights=np.array([task.position_weight for task in tasks]),
        orientation_weights=np.array([task.orientation_weight for task in tasks]),
        contacts=contacts,
        ground_heights=reference.ground_heights,
        root_scale=float(root_scale),
        human_joints=world,
    )
