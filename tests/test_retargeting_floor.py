"""Sole heights and the base lift that removes floor penetration."""

from __future__ import annotations

import numpy as np
import pytest

from retargeting.floor import floor_lift, lowest_sole_heights, sole_points_world
from retargeting.robot_model import load_robot


@pytest.mark.parametrize("name", ["g1", "talos"])
def test_sole_points_match_frame_kinematics(name):
    robot = load_robot(name)
    q = robot.reference_q.copy()
    q[7:] = np.clip(q[7:] + 0.3, robot.lower, robot.upper)
    expected = np.concatenate(list(robot.sole_positions(q).values()))
    assert sole_points_world(robot, q[None])[0] == pytest.approx(expected)
    assert lowest_sole_heights(robot, robot.reference_q[None])[0] == pytest.approx(0.0, abs=1e-9)


def test_lift_covers_penetration_and_is_zero_without_it():
    rng = np.random.default_rng(0)
    lowest = rng.normal(0.02, 0.03, 400)
    lift = floor_lift(lowest, 50.0)
    assert np.all(lift >= np.maximum(-lowest, 0.0))
    assert np.all(lowest + lift >= 0.0)
    assert not floor_lift(np.full(10, 0.01), 50.0).any()
