"""Losses on recovered joints (metres, Y up, floor at y = 0, ``FPS`` frames per second) for the VAE stage.

* ``masked_mean``: a mean over the valid frames of padded sequences.
* ``acceleration_error``: world-frame joint accelerations against the data's (jitter).
* ``foot_contact_velocity_error``: the feet's pelvis-relative velocity against the data's where the
  data labels a foot in contact.
* ``low_foot_sliding``: a target-free penalty for motions with no ground truth (decoded samples of
  a generator): horizontal foot speed above a tolerance while the foot is at the floor. It is the
  geometric foot-contact loss of MDM (Tevet et al. 2023), gated by foot height rather than by
  predicted contact labels, with the thresholds of the foot-skating ratio (``motion_metrics.py``).
"""

from __future__ import annotations

import torch
from torch.nn import functional

from motionlcm_node.data.layout import FPS
from motionlcm_node.data.smpl import LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS

CONTACT_HEIGHT_M = 0.05  # the foot-skating ratio's contact height
CONTACT_SOFTNESS_M = 0.01  # width of the sigmoid that gates the penalty by height
SLIDING_TOLERANCE_M_S = 0.25  # half the foot-skating ratio's 0.5 m/s: slower feet are left alone


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` [B, T, ...] over valid frames (``mask`` [B, T] True = valid)."""
    weights = mask.to(values.dtype).reshape(*mask.shape, *([1] * (values.ndim - 2)))
    return (values * weights).sum() / (weights.sum() * values[0, 0].numel()).clamp_min(1.0)


def acceleration_error(joints: torch.Tensor, target: torch.Tensor, both_valid: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 (beta 1 m/s^2) between world-frame joint accelerations at ``FPS``.

    Args:
        joints: [B, T, 22, 3] recovered joints (m).
        target: [B, T, 22, 3] the data's joints (m).
        both_valid: [B, T - 1] True where frames t and t + 1 are both valid.

    Returns:
        The mean over joints, axes and frames t whose neighbours t - 1 and t + 1 are valid.
    """

    def acceleration(positions: torch.Tensor) -> torch.Tensor:
        return (positions[:, 2:] - 2.0 * positions[:, 1:-1] + positions[:, :-2]) * FPS**2

    error = functional.smooth_l1_loss(acceleration(joints), acceleration(target), reduction="none", beta=1.0)
    return masked_mean(error, both_valid[:, 1:] & both_valid[:, :-1])


def foot_contact_velocity_error(
    joints: torch.Tensor, target: torch.Tensor, contact: torch.Tensor, both_valid: torch.Tensor
) -> torch.Tensor:
    """Smooth-L1 (beta 0.1 m/s) of the feet's pelvis-relative velocity where the data says contact.

    Args:
        joints: [B, T, 22, 3] recovered joints (m).
        target: [B, T, 22, 3] the data's joints (m).
        contact: [B, T - 1, 4] the data's contact labels at frame t (order: left ankle, left toe,
            right ankle, right toe).
        both_valid: [B, T - 1] True where frames t and t + 1 are both valid.
    """
    feet = [*LEFT_FOOT_JOINTS, *RIGHT_FOOT_JOINTS]  # the order of the four contact labels
    relative, relative_target = joints[:, :, feet] - joints[:, :, :1], target[:, :, feet] - target[:, :, :1]
    velocity = (relative[:, 1:] - relative[:, :-1]) * FPS
    velocity_target = (relative_target[:, 1:] - relative_target[:, :-1]) * FPS
    error = functional.smooth_l1_loss(velocity, velocity_target, reduction="none", beta=0.1)  # [B, T-1, 4, 3]
    weights = (both_valid[..., None] & contact).to(error.dtype)[..., None]
    return (error * weights).sum() / (3.0 * weights.sum()).clamp_min(1.0)


def low_foot_sliding(joints: torch.Tensor, both_valid: torch.Tensor) -> torch.Tensor:
    """Mean horizontal foot speed above ``SLIDING_TOLERANCE_M_S`` (m/s) while the foot is at the floor.

    For each foot joint (ankles, toes) and pair of adjacent valid frames, the excess speed
    ``max(|dx_xz| * FPS - tolerance, 0)`` is weighted by how surely the foot is below
    ``CONTACT_HEIGHT_M`` in both frames (a sigmoid of width ``CONTACT_SOFTNESS_M``). Neither the
    weight nor the pelvis trajectory carries gradient, so the penalty can only be lowered by moving a
    low foot against the pelvis (planting it), not by lifting it or by stopping the body (a first
    version without the pelvis detached stopped the trajectory).

    Args:
        joints: [B, T, 22, 3] joints (m), Y up, floor at y = 0.
        both_valid: [B, T - 1] True where frames t and t + 1 are both valid.

    Returns:
        The weighted mean excess speed (m/s); 0 when no foot is low.
    """
    feet = joints[:, :, [*LEFT_FOOT_JOINTS, *RIGHT_FOOT_JOINTS]]  # [B, T, 4, 3]
    pelvis = joints[:, :, :1].detach()  # the trajectory is given: only the feet may move to plant
    relative = feet - joints[:, :, :1]
    step = (pelvis[:, 1:] - pelvis[:, :-1] + relative[:, 1:] - relative[:, :-1])[..., [0, 2]]
    speed = (step.square().sum(dim=-1) + 1e-12).sqrt() * FPS  # [B, T-1, 4]; the epsilon keeps the gradient finite
    low = torch.sigmoid((CONTACT_HEIGHT_M - feet[..., 1].detach()) / CONTACT_SOFTNESS_M)
    weights = low[:, 1:] * low[:, :-1] * both_valid[..., None].to(low.dtype)
    excess = functional.relu(speed - SLIDING_TOLERANCE_M_S)
    return (excess * weights).sum() / weights.sum().clamp_min(1.0)
