"""Smoke test of `benchmarks/vae_skating.py` on the fixture dataset with a tiny untrained VAE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.vae_skating import run
from tests.tiny_models import write_tiny_models


def test_variants_and_contact_statistics(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    write_tiny_models(tmp_path / "models", prepared_fixture_dataset, student=False)
    report = run(prepared_fixture_dataset, tmp_path / "models" / "vae", "train", seed=0, sigmas=(1.0,))
    rows = report["rows"]
    assert list(rows) == [
        "real data",
        "reconstruction",
        "reconstruction smoothed (sigma 1 frames)",
        "reconstruction with the true root",
        "true local pose with the reconstructed root",
    ]
    assert rows["real data"]["mpjpe_cm"] == pytest.approx(0.0, abs=1e-4)
    assert rows["real data"]["global_mpjpe_cm"] == pytest.approx(0.0, abs=1e-4)
    # An untrained VAE is far from the data; with the true root its global error equals its local one.
    assert rows["reconstruction"]["mpjpe_cm"] > 1.0
    assert rows["reconstruction with the true root"]["global_mpjpe_cm"] == pytest.approx(
        rows["reconstruction with the true root"]["mpjpe_cm"], rel=1e-4
    )
    assert 0.0 <= report["contact_labels_on"]["real"] <= 1.0 and report["crops"] > 0
    assert set(report["toe_speed_on_true_contact_frames_m_per_s"]) == {"real", "reconstruction"}
    json.dumps(report)
