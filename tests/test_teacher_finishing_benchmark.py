"""Smoke test of `benchmarks/teacher_finishing.py` on the fixture dataset with tiny untrained models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.teacher_finishing import run
from tests.tiny_models import write_tiny_models


def test_rows_share_crops_and_start_from_the_reconstruction(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    write_tiny_models(tmp_path / "models", prepared_fixture_dataset, student=False)
    report = run(prepared_fixture_dataset, tmp_path / "models", "train", count=4, starts=(1, 999), seed=0)
    rows = report["rows"]
    assert list(rows) == ["0", "1", "999"]
    assert rows["0"]["latent_distance"] == 0.0
    assert rows["1"]["latent_distance"] < rows["999"]["latent_distance"]
    assert rows["1"]["mpjpe_cm"] == pytest.approx(rows["0"]["mpjpe_cm"], rel=0.2)  # barely noised: same crops
    assert 0.0 <= report["real_foot_skating"] <= 1.0 and report["crops"] == 4
    json.dumps(report)
