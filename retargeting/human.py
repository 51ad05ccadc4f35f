"""Human motion input: the SMPL-22 skeleton, the human-to-robot world transform and input sanitising.

Input contract (from the MotionLCM data pipeline): an array ``[T, 22, 3]`` of SMPL-22 joint positions in
metres, **human world frame**: Y up, floor at ``y = 0``, the character initially facing +Z with its left
at +X, sampled at ``fps`` (20 for HumanML3D).

The **robot world frame** used everywhere else in this package follows the URDF/ROS convention: Z up,
X forward, Y left, floor at ``z = 0``. The two are related by a fixed rotation (a cyclic permutation
of the axes, determinant +1, no reflection)::

    x_robot = z_human   (forward)
    y_robot = x_human   (left)
    z_robot = y_human   (up)

so a character initially facing +Z (human) faces +X (robot), its left at +Y.
"""

from __future__ import annotations

import numpy as np

from retargeting.errors import MotionInputError

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "l_hip",
    "r_hip",
    "spine1",
    "l_knee",
    "r_knee",
    "spine2",
    "l_ankle",
    "r_ankle",
    "spine3",
    "l_foot",
    "r_foot",
    "neck",
    "l_collar",
    "r_collar",
    "head",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_wrist",
    "r_wrist",
)
"""SMPL-22 joint names, in the order of the second axis of the input array."""

SMPL_PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
"""Index of each SMPL joint's parent in the kinematic tree (-1 for the pelvis, the root)."""

SMPL_INDEX: dict[str, int] = {name: index for index, name in enumerate(SMPL_JOINT_NAMES)}
"""SMPL joint name to its index in :data:`SMPL_JOINT_NAMES`."""

HUMAN_TO_ROBOT_WORLD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
"""Rotation taking a vector from the human world frame (Y up) to the robot world frame (Z up)."""

MAX_ABS_COORDINATE_M = 1.0e4
"""Joint coordinates beyond this magnitude (metres) are treated as corrupt, like NaN."""


def human_to_robot_world(joints: np.ndarray) -> np.ndarray:
    """Express human joint positions in the robot world frame.

    Args:
        joints: ``[..., 3]`` positions in the human world frame (Y up), metres.

    Returns:
        ``[..., 3]`` float64 positions in the robot world frame (Z up, X forward, Y left), metres.
    """
    return np.asarray(joints, dtype=np.float64) @ HUMAN_TO_ROBOT_WORLD.T


def sanitize_motion(joints: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Validate a human motion array and repair frames with non-finite or absurd values.

    A frame is invalid when any coordinate is NaN, infinite or larger than :data:`MAX_ABS_COORDINATE_M`.
    Invalid frames are replaced by linear interpolation between the nearest valid frames (held constant
    before the first and after the last valid frame), so downstream stages only ever see finite input.

    Args:
        joints: ``[T, 22, 3]`` SMPL-22 joint positions, human world frame (Y up), metres.
        fps: Frame rate of ``joints`` in frames per second.

    Returns:
        A ``[T, 22, 3]`` float64 copy with invalid frames repaired, and the ``[T]`` boolean mask of the
        frames that were valid in the input.

    Raises:
        MotionInputError: Wrong shape, fewer than 2 frames, a non-positive frame rate, or no valid frame.
    """
    array = np.asarray(joints)
    if array.ndim != 3 or array.shape[1:] != (len(SMPL_JOINT_NAMES), 3):
        raise MotionInputError(f"human motion must have shape [T, 22, 3] (SMPL-22 joints), got {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise MotionInputError(f"human motion must be numeric, got dtype {array.dtype}")
    if array.shape[0] < 2:
        raise MotionInputError(f"human motion needs at least 2 frames, got {array.shape[0]}")
    if not (np.isfinite(fps) and fps > 0):
        raise MotionInputError(f"frame rate must be a positive number of frames per second, got {fps}")
    clean = array.astype(np.float64)
    with np.errstate(invalid="ignore"):
        valid = np.all(np.isfinite(clean) & (np.abs(clean) < MAX_ABS_COORDINATE_M), axis=(1, 2))
    if not valid.any():
        raise MotionInputError("human motion has no frame with finite joint positions")
    if not valid.all():
        frames = np.arange(clean.shape[0])
        good = frames[valid]
        flat = clean.reshape(clean.shape[0], -1)
        for column in range(flat.shape[1]):
            flat[~valid, column] = np.interp(frames[~valid], good, flat[valid, column])
    return clean, valid


def _normalized(vectors: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Normalise ``[..., 3]`` vectors, using ``fallback`` where a vector is (nearly) zero."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    safe = np.where(norms > 1e-9, vectors / np.maximum(norms, 1e-12), fallback)
    return safe


def frames_from_y_and_z(y_hint: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Build right-handed rotation matrices whose Y axis is ``y_hint`` and Z axis is close to ``z_hint``.

    Args:
        y_hint: ``[T, 3]`` direction of the frame's Y (left) axis; need not be unit length.
        z_hint: ``[T, 3]`` approximate direction of the frame's Z (up) axis, orthogonalised against Y.

    Returns:
        ``[T, 3, 3]`` rotation matrices whose columns are the frame's X, Y, Z axes in the world frame.
        Degenerate inputs fall back to the world axes instead of producing NaN.
    """
    y_axis = _normalized(y_hint, np.array([0.0, 1.0, 0.0]))
    z_raw = z_hint - np.sum(z_hint * y_axis, axis=-1, keepdims=True) * y_axis
    z_fallback = np.cross(np.array([1.0, 0.0, 0.0]), y_axis)
    z_axis = _normalized(z_raw, _normalized(z_fallback, np.array([0.0, 0.0, 1.0])))
    x_axis = np.cross(y_axis, z_axis)
    return np.stack([x_axis, y_axis, z_axis], axis=-1)


ORIENTATION_SOURCES: dict[str, str] = {
    "pelvis": "pelvis",
    "spine1": "torso",
    "spine2": "torso",
    "spine3": "torso",
    "neck": "torso",
    "l_ankle": "left_foot",
    "l_foot": "left_foot",
    "r_ankle": "right_foot",
    "r_foot": "right_foot",
}
"""SMPL joints whose orientation can be derived from positions alone, and the body frame used for it."""


def foot_pitch(joints: np.ndarray, side: str) -> np.ndarray:
    """Downward pitch (rad) of the ankle-to-foot vector of one foot, ``side`` ``l`` or ``r``.

    Args:
        joints: ``[T, 22, 3]`` joint positions in the robot world frame (Z up), metres.
        side: ``l`` for the left foot, ``r`` for the right foot.

    Returns:
        ``[T]`` angles, positive when the foot joint is lower than the ankle.
    """
    vector = joints[:, SMPL_INDEX[f"{side}_foot"]] - joints[:, SMPL_INDEX[f"{side}_ankle"]]
    return np.arctan2(-vector[:, 2], np.linalg.norm(vector[:, :2], axis=-1))


def _pitch_matrix(angle: float) -> np.ndarray:
    """Rotation about the Y axis by ``angle`` (rad); a positive angle tips the X axis down."""
    cosine, sine = np.cos(angle), np.sin(angle)
    return np.array([[cosine, 0.0, sine], [0.0, 1.0, 0.0], [-sine, 0.0, cosine]])


def foot_frames(joints: np.ndarray, side: str, flat_pitch: float) -> np.ndarray:
    """Orientation of one foot from its knee, ankle and foot joints.

    The foot's Y (left) axis is the ankle's pitch axis, normal to the plane of the shank and the
    ankle-to-foot vector; X points along the ankle-to-foot vector raised by ``flat_pitch`` (the pitch
    that vector has when the foot is flat), so a flat foot gives a level frame. When the shank and the
    foot are aligned, the Y axis falls back to the horizontal normal of the ankle-to-foot vector.

    Args:
        joints: ``[T, 22, 3]`` joint positions in the robot world frame (Z up), metres.
        side: ``l`` or ``r``.
        flat_pitch: Pitch of the ankle-to-foot vector of a flat foot, rad (see :func:`foot_pitch`).

    Returns:
        ``[T, 3, 3]`` rotation matrices (world from foot; columns X forward, Y left, Z up).
    """
    ankle = joints[:, SMPL_INDEX[f"{side}_ankle"]]
    along = _normalized(joints[:, SMPL_INDEX[f"{side}_foot"]] - ankle, np.array([1.0, 0.0, 0.0]))
    pitch_axis = np.cross(joints[:, SMPL_INDEX[f"{side}_knee"]] - ankle, along)
    level_axis = np.cross(np.array([0.0, 0.0, 1.0]), along)
    left = _normalized(pitch_axis, _normalized(level_axis, np.array([0.0, 1.0, 0.0])))
    tilted = np.stack([along, left, np.cross(along, left)], axis=-1)
    return tilted @ _pitch_matrix(-flat_pitch)


def body_orientations(joints: np.ndarray, flat_foot_pitch: tuple[float, float] = (0.0, 0.0)) -> dict[str, np.ndarray]:
    """Derive body orientations from joint positions (SMPL-22 carries no rotations in this pipeline).

    Frames follow the robot convention (X forward, Y left, Z up), so that a person standing upright and
    facing the robot's +X axis gives identity matrices (up to the skeleton's rest-pose tilt):

    * ``pelvis``: Y from the right hip to the left hip, Z from the pelvis towards spine1.
    * ``torso``: Y from the right to the left shoulder girdle (collar + shoulder), Z from spine1 to neck.
    * ``left_foot`` / ``right_foot``: see :func:`foot_frames`.

    Args:
        joints: ``[T, 22, 3]`` joint positions in the robot world frame (Z up), metres.
        flat_foot_pitch: Pitch (rad, see :func:`foot_pitch`) of the left and right foot when flat.

    Returns:
        Mapping from body name to ``[T, 3, 3]`` rotation matrices (world from body).
    """
    index = SMPL_INDEX
    left_girdle = joints[:, index["l_collar"]] + joints[:, index["l_shoulder"]]
    right_girdle = joints[:, index["r_collar"]] + joints[:, index["r_shoulder"]]
    return {
        "pelvis": frames_from_y_and_z(
            joints[:, index["l_hip"]] - joints[:, index["r_hip"]],
            joints[:, index["spine1"]] - joints[:, index["pelvis"]],
        ),
        "torso": frames_from_y_and_z(left_girdle - right_girdle, joints[:, index["neck"]] - joints[:, index["spine1"]]),
        "left_foot": foot_frames(joints, "l", flat_foot_pitch[0]),
        "right_foot": foot_frames(joints, "r", flat_foot_pitch[1]),
    }
