"""Smoke test of `benchmarks/student_fidelity.py` on the fixture dataset with tiny untrained models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.student_fidelity import run
from tests.tiny_models import write_tiny_models


def test_every_step_count_is_scored_against_teacher_samples(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    report = run(prepared_fixture_dataset, models, [models / "student"], "train", count=6, seed=0)
    rows = report["rows"]
    assert list(rows) == [f"{models / 'student'} | {steps}" for steps in (1, 2, 4)]
    for row in rows.values():
        assert row["distance"] > 0 and row["mean_square"] > 0
        assert row["relative"] == pytest.approx(row["distance"] / report["unrelated_distance"])
    again = run(prepared_fixture_dataset, models, [models / "student"], "train", count=6, seed=0)
    assert again["rows"] == rows  # seeded: the same noise and captions
    json.dumps(report)
