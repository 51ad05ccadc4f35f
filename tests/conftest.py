"""Shared fixtures: paths to the committed real clips and a small prepared dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

FIXTURES = Path(__file__).parent / "fixtures"
BANDAI_FIXTURES = FIXTURES / "bandai"


def fixture_bvh(name: str) -> Path:
    """Path of a committed Bandai clip by name."""
    matches = sorted(BANDAI_FIXTURES.glob(f"*/data/{name}.bvh"))
    assert matches, f"fixture {name} missing"
    return matches[0]


@pytest.fixture(scope="session")
def prepared_fixture_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed clips (and mirrors) converted into the HumanML3D layout, once per session."""
    from motionlcm_node.data.prepare import prepare_dataset
    from motionlcm_node.data.skeleton_map import SkeletonMap
    from motionlcm_node.data.sources import bandai_clips

    out = tmp_path_factory.mktemp("prepared")
    clips = bandai_clips(BANDAI_FIXTURES, out / "source")
    # Fixed, hand-chosen split so that every split has clips.
    owner = {clip.name: "train" for clip in clips}
    owner["dataset-2_wave-left-hand_normal_024"] = "test"
    owner["dataset-1_run_normal_001"] = "val"
    report = prepare_dataset(clips, owner, SkeletonMap.builtin("bandai"), out, workers=1, progress=False)
    assert report.converted == len(clips) - 1  # one fixture is deliberately too short
    return out


@pytest.fixture(scope="session")
def g1():
    """The Unitree G1 robot model (loaded once)."""
    from retargeting.robot_model import load_robot

    return load_robot("g1")


@pytest.fixture(scope="session")
def talos():
    """The Talos robot model (loaded once)."""
    from retargeting.robot_model import load_robot

    return load_robot("talos")


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
