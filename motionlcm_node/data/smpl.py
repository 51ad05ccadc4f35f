"""The SMPL-22 joint layout used by HumanML3D (Y up, the body faces +Z, its left side at +X)."""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2", "l_ankle", "r_ankle", "spine3",
    "l_foot", "r_foot", "neck", "l_collar", "r_collar", "head", "l_shoulder", "r_shoulder", "l_elbow",
    "r_elbow", "l_wrist", "r_wrist",
)  # fmt: skip
NUM_JOINTS = len(JOINT_NAMES)

#: Kinematic chains from the pelvis outwards (right leg, left leg, spine/head, right arm, left arm).
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

#: Parent of each joint (-1 for the pelvis), derived from the chains.
PARENTS: tuple[int, ...] = tuple(
    next((chain[k - 1] for chain in KINEMATIC_CHAINS for k in range(1, len(chain)) if chain[k] == joint), -1)
    for joint in range(NUM_JOINTS)
)

#: Unit direction of each bone in the rest pose (T-pose with arms down), expressed in the parent
#: frame; the IK fit measures local rotations against these, as HumanML3D does.
REST_DIRECTIONS = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0],
        [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1],
        [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
    ],
    dtype=np.float64,
)  # fmt: skip

#: Joints whose positions define the facing direction: right hip, left hip, right and left shoulder.
FACING_JOINTS = (2, 1, 17, 16)
LEFT_FOOT_JOINTS = (7, 10)
RIGHT_FOOT_JOINTS = (8, 11)
#: Legs used to scale a skeleton to the uniform one (knee->ankle plus hip->knee of the right leg).
LEG_BONES = (5, 8)

#: Index of each joint's mirror image (left <-> right).
MIRROR_INDEX: tuple[int, ...] = tuple(
    JOINT_NAMES.index(name.replace("l_", "#").replace("r_", "l_").replace("#", "r_"))
    if name[:2] in ("l_", "r_")
    else index
    for index, name in enumerate(JOINT_NAMES)
)


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Mirror a motion left-to-right: negate X and swap left/right joints.

    Args:
        joints: [..., 22, 3] positions, Y up.

    Returns:
        [..., 22, 3] the mirrored motion (a left-hand wave becomes a right-hand wave).
    """
    mirrored = joints[..., MIRROR_INDEX, :].copy()
    mirrored[..., 0] *= -1.0
    return mirrored
