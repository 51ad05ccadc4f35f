"""The synthetic skeleton used by tests and examples keeps its bone lengths and stands on the floor."""

from __future__ import annotations

import numpy as np
import pytest

from retargeting.human import SMPL_INDEX, SMPL_PARENTS
from retargeting.synthetic import REST_OFFSETS, standing_motion, walking_motion, waving_motion


@pytest.mark.parametrize("motion", [standing_motion(5), walking_motion(30), waving_motion(30)])
def test_bone_lengths_are_constant(motion):
    assert motion.shape[1:] == (22, 3) and np.all(np.isfinite(motion))
    for child, parent in enumerate(SMPL_PARENTS):
        if parent >= 0:
            lengths = np.linalg.norm(motion[:, child] - motion[:, parent], axis=-1)
            assert lengths == pytest.approx(np.linalg.norm(REST_OFFSETS[child]))


def test_standing_feet_touch_the_floor_and_face_forward():
    joints = standing_motion(1)[0]
    assert joints[SMPL_INDEX["l_foot"], 1] == pytest.approx(0.02, abs=0.01)
    assert joints[SMPL_INDEX["l_foot"], 2] > joints[SMPL_INDEX["l_ankle"], 2]  # toes point to +Z
    assert joints[SMPL_INDEX["l_hip"], 0] > 0 > joints[SMPL_INDEX["r_hip"], 0]  # left at +X


def test_walking_moves_forward_at_the_requested_speed():
    motion = walking_motion(41, fps=20.0, speed=1.2)
    assert motion[-1, 0, 2] - motion[0, 0, 2] == pytest.approx(2.4)
