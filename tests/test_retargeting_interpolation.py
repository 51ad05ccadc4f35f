"""Catmull-Rom and quaternion helpers against scipy's reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from retargeting.interpolation import (
    catmull_rom,
    from_rotation_vectors,
    multiply,
    relative_rotation_vectors,
    slerp,
    to_rotation_vectors,
)


def test_catmull_rom_passes_through_samples_and_is_exact_on_lines():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(12, 4))
    times = np.arange(12) / 20.0
    assert catmull_rom(values, 20.0, times) == pytest.approx(values)
    line = np.outer(np.arange(12), [0.5, -2.0])
    queries = np.linspace(0.0, 11 / 20.0, 97)
    assert catmull_rom(line, 20.0, queries) == pytest.approx(np.outer(queries * 20.0, [0.5, -2.0]))


def test_catmull_rom_tracks_a_smooth_signal():
    times = np.linspace(0.0, 2.0, 301)
    samples = np.sin(3.0 * np.arange(41) / 20.0)[:, None]
    assert catmull_rom(samples, 20.0, times)[:, 0] == pytest.approx(np.sin(3.0 * times), abs=2e-3)


def test_quaternion_helpers_match_scipy():
    a, b = Rotation.random(50, random_state=1), Rotation.random(50, random_state=2)
    assert Rotation.from_quat(multiply(a.as_quat(), b.as_quat())).approx_equal(a * b).all()
    vectors = Rotation.random(50, random_state=3).as_rotvec()
    assert to_rotation_vectors(from_rotation_vectors(vectors)) == pytest.approx(vectors)
    sequence = Rotation.random(6, random_state=4)
    expected = (sequence[1:] * sequence[:-1].inv()).as_rotvec()
    assert relative_rotation_vectors(sequence.as_quat()) == pytest.approx(expected)


def test_slerp_matches_scipy():
    keys = Rotation.random(8, random_state=5)
    times = np.linspace(0.0, 7 / 20.0, 60)
    expected = Slerp(np.arange(8) / 20.0, keys)(times)
    assert Rotation.from_quat(slerp(keys.as_quat(), 20.0, times)).approx_equal(expected, atol=1e-9).all()
