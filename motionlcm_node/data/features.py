"""SMPL-22 joint positions to HumanML3D's 263-d motion features (Guo et al. 2022 definition).

Per frame t of a clip with T frames (features have T - 1 frames; the last frame only supplies
velocities), in metres and radians, Y up:

====== ===========================================================================================
dims   content
====== ===========================================================================================
0      root yaw velocity as a half angle: ``(a[t+1] - a[t]) / 2``, where ``a`` rotates the facing
       direction onto +Z (true yaw = 2 x cumulative sum)
1:3    root XZ velocity ``p[t+1] - p[t]`` expressed in the facing frame of t + 1
3      root height
4:67   joints 1..21 relative to the root: XZ centred on the root, rotated by a[t], absolute Y
67:193 6D local rotations of joints 1..21 from an IK fit against ``smpl.REST_DIRECTIONS``
193:259 velocities ``x[t+1] - x[t]`` of all 22 joints in the facing frame of t
259:263 foot contacts (joints 7, 10 left; 8, 11 right): squared displacement < threshold (m^2)
====== ===========================================================================================

Canonicalisation follows HumanML3D: a uniform skeleton (bone lengths of ``UNIFORM_BONE_LENGTHS``,
root path scaled by the leg-length ratio), the lowest joint on the floor (y = 0), the root at the XZ
origin in the first frame, and the first frame facing +Z. One deliberate difference: HumanML3D
turns the first frame using the *raw* facing direction but fits the root rotation to a *smoothed*
one, so its recovered joints are off by that small angle; we use the smoothed direction for both,
which makes ``recover_joints(joints_to_features(x))`` reproduce ``x`` to float precision. The
feature definition itself (what each number means) is unchanged, so real HumanML3D data loads
and recovers with the same code.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from motionlcm_node.data import smpl
from motionlcm_node.data.layout import (
    FOOT_CONTACTS,
    LOCAL_POSITIONS,
    LOCAL_ROTATIONS,
    LOCAL_VELOCITIES,
    ROOT_YAW_VELOCITY,
)
from motionlcm_node.data.rotations import (
    heading_angle,
    quaternion_between,
    quaternion_to_6d,
    rotate_about_y,
    wrap_angle,
    yaw_quaternion,
)
from motionlcm_node.errors import MotionDataError

#: HumanML3D's contact threshold on the squared per-frame foot displacement at 20 fps, in m^2.
CONTACT_THRESHOLD = 0.002
#: Gaussian smoothing (frames) of the facing direction before fitting the root rotation.
FACING_SMOOTHING_SIGMA = 20.0

#: Bone lengths (metres, child joint order 1..21; index 0 unused) of the uniform skeleton: the
#: Bandai-Namco rig through ``skeletons/bandai.yaml``, measured on dataset-2_walk_normal_001 frame 0.
UNIFORM_BONE_LENGTHS = np.array(
    [0.0, 0.0683, 0.0683, 0.1574, 0.3908, 0.3908, 0.0899, 0.4099, 0.4099, 0.0573, 0.1175, 0.1175, 0.1065,
     0.0881, 0.0881, 0.1044, 0.0535, 0.0535, 0.2433, 0.2433, 0.2229, 0.2229],
)  # fmt: skip


def validate_joints(joints: np.ndarray, min_frames: int = 2) -> np.ndarray:
    """Check a joint array and return it as float64.

    Raises:
        MotionDataError: wrong shape, fewer than ``min_frames`` frames, or non-finite values.
    """
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (smpl.NUM_JOINTS, 3):
        raise MotionDataError(f"expected joints of shape [T, 22, 3], got {list(joints.shape)}")
    if joints.shape[0] < min_frames:
        raise MotionDataError(f"clip has {joints.shape[0]} frames, at least {min_frames} are needed")
    if not np.all(np.isfinite(joints)):
        raise MotionDataError("joint positions contain NaN or infinite values")
    return joints.astype(np.float64)


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Length of each bone (parent -> joint) in metres: [..., 22, 3] -> [..., 22] (root entry 0)."""
    parents = np.array([max(p, 0) for p in smpl.PARENTS])
    return np.linalg.norm(joints - joints[..., parents, :], axis=-1)


def to_uniform_skeleton(joints: np.ndarray, lengths: np.ndarray = UNIFORM_BONE_LENGTHS) -> np.ndarray:
    """Re-pose every frame on a skeleton with the given bone lengths, keeping bone directions.

    The root path is scaled by the ratio of leg lengths (right knee->ankle + ankle->foot as in
    HumanML3D), so a taller source subject walks proportionally shorter strides.

    Args:
        joints: [T, 22, 3] positions in metres.
        lengths: [22] target bone lengths in metres.

    Returns:
        [T, 22, 3] positions on the target skeleton.
    """
    source_lengths = bone_lengths(joints[0])
    leg = list(smpl.LEG_BONES)
    scale = lengths[leg].sum() / max(source_lengths[leg].sum(), 1e-9)
    out = np.empty_like(joints)
    out[:, 0] = joints[:, 0] * scale
    for chain in smpl.KINEMATIC_CHAINS:
        for parent, child in pairwise(chain):
            direction = joints[:, child] - joints[:, parent]
            norm = np.linalg.norm(direction, axis=-1, keepdims=True)
            out[:, child] = out[:, parent] + lengths[child] * direction / np.maximum(norm, 1e-9)
    return out


def facing_angles(joints: np.ndarray, sigma: float = FACING_SMOOTHING_SIGMA) -> np.ndarray:
    """Per-frame yaw ``a`` (radians) that rotates the body's facing direction onto +Z.

    The facing direction is ``up x across`` with ``across = (r_hip - l_hip) + (r_shoulder - l_shoulder)``,
    smoothed over time with a Gaussian of ``sigma`` frames (0 disables smoothing).
    """
    r_hip, l_hip, r_shoulder, l_shoulder = smpl.FACING_JOINTS
    across = joints[:, r_hip] - joints[:, l_hip] + joints[:, r_shoulder] - joints[:, l_shoulder]
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)
    if sigma > 0 and len(forward) > 1:
        forward = gaussian_filter1d(forward, sigma, axis=0, mode="nearest")
    return -heading_angle(forward)


def canonicalize(joints: np.ndarray, lengths: np.ndarray | None = UNIFORM_BONE_LENGTHS) -> np.ndarray:
    """Uniform skeleton, floor at y = 0, root at the XZ origin and facing +Z in the first frame.

    Args:
        joints: [T, 22, 3] positions in metres, Y up.
        lengths: target bone lengths, or None to keep the source skeleton.

    Returns:
        [T, 22, 3] canonical positions in metres.
    """
    joints = validate_joints(joints)
    if lengths is not None:
        joints = to_uniform_skeleton(joints, lengths)
    joints = joints.copy()
    joints[..., 1] -= joints[..., 1].min()
    joints[..., [0, 2]] -= joints[0, 0, [0, 2]]
    return rotate_about_y(joints, facing_angles(joints)[0])


def fit_local_rotations(joints: np.ndarray, root_angles: np.ndarray) -> np.ndarray:
    """Local joint rotations that turn ``smpl.REST_DIRECTIONS`` onto the observed bones.

    Args:
        joints: [T, 22, 3] positions.
        root_angles: [T] root yaw (radians) from ``facing_angles``.

    Returns:
        [T, 22, 4] local quaternions (x, y, z, w); entry 0 is the root rotation ``yaw(a)``.
    """
    local = np.zeros((*joints.shape[:2], 4))
    local[..., 3] = 1.0
    root = yaw_quaternion(root_angles)
    local[:, 0] = root
    for chain in smpl.KINEMATIC_CHAINS:
        parent_to_world = Rotation.from_quat(root)
        for parent, child in pairwise(chain):
            rest = np.broadcast_to(smpl.REST_DIRECTIONS[child], joints[:, child].shape)
            swing = Rotation.from_quat(quaternion_between(rest, joints[:, child] - joints[:, parent]))
            local[:, child] = (parent_to_world.inv() * swing).as_quat()
            parent_to_world = swing  # parent_to_world * local == swing by construction
    return local


def joints_to_features(joints: np.ndarray, contact_threshold: float = CONTACT_THRESHOLD) -> np.ndarray:
    """HumanML3D features of canonical joints (see ``canonicalize``).

    Args:
        joints: [T, 22, 3] canonical positions in metres at 20 fps.
        contact_threshold: squared per-frame foot displacement (m^2) below which a foot is in contact.

    Returns:
        [T - 1, 263] float32 features.
    """
    joints = validate_joints(joints)
    angles = np.unwrap(facing_angles(joints))
    root = joints[:, 0]
    num = joints.shape[0] - 1

    yaw_velocity = 0.5 * wrap_angle(angles[1:] - angles[:-1])
    root_velocity = rotate_about_y(root[1:] - root[:-1], angles[1:])[:, [0, 2]]
    centred = joints - root[:, None] * np.array([1.0, 0.0, 1.0])
    local_positions = rotate_about_y(centred, angles[:, None])[:-1, 1:]
    rotations_6d = quaternion_to_6d(fit_local_rotations(joints, angles))[:-1, 1:]
    local_velocities = rotate_about_y(joints[1:] - joints[:-1], angles[:-1, None])
    displacement = np.sum((joints[1:] - joints[:-1]) ** 2, axis=-1)
    contacts_left = displacement[:, list(smpl.LEFT_FOOT_JOINTS)] < contact_threshold
    contacts_right = displacement[:, list(smpl.RIGHT_FOOT_JOINTS)] < contact_threshold

    features = np.concatenate(
        [
            yaw_velocity[:, None],
            root_velocity,
            root[:-1, 1:2],
            local_positions.reshape(num, -1),
            rotations_6d.reshape(num, -1),
            local_velocities.reshape(num, -1),
            contacts_left,
            contacts_right,
        ],
        axis=-1,
    )
    return features.astype(np.float32)


def mirror_features(features: np.ndarray) -> np.ndarray:
    """Mirror features left-to-right, equal to ``joints_to_features(mirror_joints(x))``.

    Args:
        features: [..., 263] un-normalised features.

    Returns:
        [..., 263] features of the mirrored motion.
    """
    out = np.array(features, copy=True)
    lead = features.shape[:-1]
    body = list(smpl.MIRROR_INDEX[1:])
    body = [index - 1 for index in body]
    out[..., ROOT_YAW_VELOCITY] *= -1.0
    out[..., 1] *= -1.0
    positions = features[..., LOCAL_POSITIONS].reshape(*lead, 21, 3)[..., body, :] * np.array([-1.0, 1.0, 1.0])
    out[..., LOCAL_POSITIONS] = positions.reshape(*lead, 63)
    rot = features[..., LOCAL_ROTATIONS].reshape(*lead, 21, 6)[..., body, :]
    out[..., LOCAL_ROTATIONS] = (rot * np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0])).reshape(*lead, 126)
    velocities = features[..., LOCAL_VELOCITIES].reshape(*lead, 22, 3)[..., list(smpl.MIRROR_INDEX), :]
    out[..., LOCAL_VELOCITIES] = (velocities * np.array([-1.0, 1.0, 1.0])).reshape(*lead, 66)
    out[..., FOOT_CONTACTS] = features[..., [261, 262, 259, 260]]
    return out
