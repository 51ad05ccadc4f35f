"""Contact-consistent root trajectory: stop planted feet from sliding by moving the root instead.

A generated motion carries its own foot-contact labels (features 259-262). Where the model says a
foot is planted but the decoded foot still slides, this pass changes the root's XZ step between
the two frames by minus the mean slide of the planted feet, so those feet stand still in the world
frame. Only the root trajectory changes: the pelvis-relative pose (and with it every bone length,
the 6D rotations and the contact labels) is untouched, and the features stay self-consistent (the
root velocity and the world-frame joint velocities get the same correction), so the result can be
decoded, scored and retargeted like any other motion.

Each frame pair is corrected independently: shifting every frame after ``t`` by the same vector
changes no other pair's displacement. Feet that slide in different directions while both are
planted (turning on the spot) keep the part of their slide that the mean cannot remove.

We write this pass ourselves because it has to act on HumanML3D features, batched and in torch,
inside the pipeline; the foot-locking tools we know of work on rigs or joint positions and would
lose the feature consistency the evaluator and the retargeter rely on.
"""

from __future__ import annotations

import torch

from motionlcm_node.data.features import FOOT_CONTACTS, LOCAL_VELOCITIES, ROOT_LINEAR_VELOCITY
from motionlcm_node.data.recovery import recover_joints, recover_root
from motionlcm_node.data.smpl import LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS
from motionlcm_node.errors import MotionLCMError

#: The joints the four contact labels describe, in label order (left ankle, left toe, right ankle,
#: right toe).
CONTACT_JOINTS = (*LEFT_FOOT_JOINTS, *RIGHT_FOOT_JOINTS)


def _rotate_xz(vectors: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate [..., 2] XZ vectors about +Y by ``angles`` (same convention as ``recovery``)."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    x, z = vectors.unbind(-1)
    return torch.stack([x * cos + z * sin, -x * sin + z * cos], dim=-1)


def contact_root_correction(features: torch.Tensor, lengths: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """World-frame XZ change of each root step that holds the planted feet still.

    Args:
        features: [B, T, 263] un-normalised features.
        lengths: [B] valid frames per motion.
        threshold: a contact label above this counts as planted.

    Returns:
        [B, T - 1, 2] metres to add to the root's XZ displacement from frame t to t + 1 (zero
        where no foot is planted or t + 1 is past the motion's length).
    """
    joints = recover_joints(features)
    feet = joints[:, :, list(CONTACT_JOINTS)][..., [0, 2]]  # [B, T, 4, 2]
    slide = feet[:, 1:] - feet[:, :-1]  # [B, T-1, 4, 2]
    frames = torch.arange(features.shape[1] - 1, device=features.device)
    pair_valid = frames[None, :] + 1 < lengths.to(features.device)[:, None]  # [B, T-1]
    planted = (features[:, :-1, FOOT_CONTACTS] > threshold) & pair_valid[..., None]  # [B, T-1, 4]
    weights = planted.to(features.dtype)[..., None]
    return -(slide * weights).sum(dim=2) / weights.sum(dim=2).clamp(min=1.0)


def stabilize_foot_contacts(features: torch.Tensor, lengths: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Features whose root trajectory keeps the planted feet still (see the module docstring).

    Args:
        features: [B, T, 263] un-normalised features, zero past each length.
        lengths: [B] valid frames per motion.
        threshold: a contact label above this counts as planted.

    Returns:
        [B, T, 263] corrected features (a new tensor; the input is not modified).

    Raises:
        MotionLCMError: wrong shapes, or non-finite features.
    """
    if features.ndim != 3 or lengths.shape != features.shape[:1]:
        raise MotionLCMError(f"need features [B, T, 263] and lengths [B], got {list(features.shape)}, "
                             f"{list(lengths.shape)}")  # fmt: skip
    if not torch.isfinite(features).all():
        raise MotionLCMError("features contain NaN or infinite values")
    if features.shape[1] < 2:
        return features.clone()
    correction = contact_root_correction(features, lengths, threshold)  # [B, T-1, 2], world frame
    angles, _ = recover_root(features)
    out = features.clone()
    # Root step t -> t + 1 is stored at frame t in the facing frame of t + 1 (features.py).
    out[:, :-1, ROOT_LINEAR_VELOCITY] += _rotate_xz(correction, angles[:, 1:])
    # Joint velocities at frame t are x[t + 1] - x[t] in the facing frame of t; every joint moves
    # with the root.
    velocities = out[:, :-1, LOCAL_VELOCITIES].reshape(*correction.shape[:2], 22, 3)
    velocities[..., [0, 2]] += _rotate_xz(correction, angles[:, :-1])[:, :, None, :]
    out[:, :-1, LOCAL_VELOCITIES] = velocities.reshape(*correction.shape[:2], 66)
    return out
