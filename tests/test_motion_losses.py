"""The target-free foot-sliding penalty on cases with known answers."""

from __future__ import annotations

import pytest
import torch

from motionlcm_node.training.motion_losses import SLIDING_TOLERANCE_M_S, low_foot_sliding

FEET = [7, 10, 8, 11]


def standing(frames: int = 10, foot_height: float = 0.0) -> torch.Tensor:
    """[1, frames, 22, 3] joints: body 1 m up, feet at ``foot_height`` (m), nothing moving."""
    joints = torch.zeros(1, frames, 22, 3)
    joints[..., 1] = 1.0
    joints[:, :, FEET, 1] = foot_height
    return joints


def sliding(speed: float, foot_height: float = 0.0, frames: int = 10) -> torch.Tensor:
    """Standing joints whose feet move along X at ``speed`` m/s (20 fps)."""
    joints = standing(frames, foot_height)
    joints[:, :, FEET, 0] += torch.arange(frames, dtype=torch.float32)[None, :, None] * speed / 20.0
    return joints


def all_valid(frames: int = 10) -> torch.Tensor:
    return torch.ones(1, frames - 1, dtype=torch.bool)


def test_still_or_slow_feet_on_the_floor_cost_nothing() -> None:
    assert low_foot_sliding(standing(), all_valid()).item() == pytest.approx(0.0, abs=1e-5)
    assert low_foot_sliding(sliding(0.8 * SLIDING_TOLERANCE_M_S), all_valid()).item() == pytest.approx(0.0, abs=1e-5)


def test_a_foot_sliding_on_the_floor_costs_its_speed_above_the_tolerance() -> None:
    assert low_foot_sliding(sliding(1.0), all_valid()).item() == pytest.approx(1.0 - SLIDING_TOLERANCE_M_S, rel=1e-3)


def test_a_fast_foot_in_the_air_costs_nothing() -> None:
    assert low_foot_sliding(sliding(1.0, foot_height=0.2), all_valid()).item() == pytest.approx(0.0, abs=1e-5)


def test_padding_does_not_count() -> None:
    joints = standing()
    joints[:, 6:, FEET, 0] += torch.arange(4, dtype=torch.float32)[None, :, None] * 0.1  # slides from frame 6 on
    valid = all_valid()
    valid[:, 5:] = False
    assert low_foot_sliding(joints, valid).item() == pytest.approx(0.0, abs=1e-5)
    assert low_foot_sliding(joints, all_valid()).item() > 0.5


def test_the_penalty_slows_feet_and_never_lifts_them() -> None:
    joints = sliding(1.0, foot_height=0.02).requires_grad_(True)
    low_foot_sliding(joints, all_valid()).backward()
    assert torch.isfinite(joints.grad).all()
    assert joints.grad[..., 1].abs().max() == 0.0  # no gradient on height
    assert joints.grad[:, 1:-1, FEET, 0].abs().sum() == pytest.approx(0.0, abs=1e-6)  # interior frames cancel
    assert joints.grad[:, -1, FEET, 0].gt(0).all() and joints.grad[:, 0, FEET, 0].lt(0).all()  # ends pulled together
    still = standing().requires_grad_(True)
    low_foot_sliding(still, all_valid()).backward()
    assert torch.isfinite(still.grad).all()


def test_the_penalty_plants_feet_without_stopping_the_body() -> None:
    pose = sliding(0.5).requires_grad_(True)  # feet slide forward against the pelvis ...
    trajectory = torch.arange(10, dtype=torch.float32)[None, :, None, None] * torch.tensor([0.025, 0.0, 0.0])
    trajectory.requires_grad_(True)  # ... while the whole body moves forward at 0.5 m/s too: 1 m/s in the world
    assert low_foot_sliding(pose + trajectory, all_valid()).item() == pytest.approx(0.75, rel=1e-3)
    low_foot_sliding(pose + trajectory, all_valid()).backward()
    assert trajectory.grad.abs().max() < 1e-6 < pose.grad[:, :, FEET].abs().max()
