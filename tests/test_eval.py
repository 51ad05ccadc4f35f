"""`motionlcm eval` end to end with tiny untrained models on the committed clips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from motionlcm_node.cli.main import main
from tests.tiny_models import write_tiny_models


def test_eval_writes_a_table_with_every_row_and_metric(prepared_fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    out = tmp_path / "eval.md"
    args = ["eval", "--data", str(prepared_fixture_dataset), "--models", str(models), "--out", str(out),
            "--repeats", "2", "--steps", "2", "--pool-size", "2", "--timing-sentences", "2"]  # fmt: skip
    assert main(args) == 0
    table = out.read_text()
    assert table == capsys.readouterr().out.split("\n\n")[0] + "\n"
    lines = table.strip().splitlines()
    assert lines[0].startswith("| source | FID | R@1 | R@2 | R@3 |")
    fid, r1 = lines[3].split("|")[2:4]  # the reconstruction row: FID at 4 decimals, the rest at 3
    assert re.fullmatch(r" \d+\.\d{4} ± \d+\.\d{4} ", fid) and re.fullmatch(r" \d\.\d{3} ± \d\.\d{3} ", r1)
    fixed = " + planted-foot root fix"
    assert [line.split("|")[1].strip() for line in lines[2:]] == [
        "Real data", "VAE reconstruction", "Teacher (DDIM 2, w = 7.5)", "Teacher (DDIM 2, w = 7.5)" + fixed,
        "MotionLCM (1 step, w = 7.5)", "MotionLCM (1 step, w = 7.5)" + fixed,
        "MotionLCM (2 steps, w = 7.5)", "MotionLCM (2 steps, w = 7.5)" + fixed,
        "MotionLCM (4 steps, w = 7.5)", "MotionLCM (4 steps, w = 7.5)" + fixed,
    ]  # fmt: skip
    summary = json.loads(out.with_suffix(".json").read_text())
    assert "MPJPE (m)" in summary["rows"]["VAE reconstruction"] and "MPJPE (m)" not in summary["rows"]["Real data"]
    for row in ("Teacher (DDIM 2, w = 7.5)", "MotionLCM (1 step, w = 7.5)"):
        assert float(summary["extra"][row]["s / sentence (batch 1, 196 frames)"]) > 0
    assert set(summary["rows"]["MotionLCM (4 steps, w = 7.5)"]) >= {"FID", "R@2", "Foot skating", "Jitter (m/s^3)"}
    real = summary["rows"]["Real data"]
    assert 0.0 <= real["R@1"][0] <= real["R@2"][0] <= 1.0
    # No denoiser exports for the tiny models: "auto" runs both on torch, and the report says so.
    backends = summary["backends"]
    teacher = backends["Teacher (DDIM 2, w = 7.5)"]
    assert teacher["denoiser"] == "TorchDenoiser" and teacher["vae_decoder"] == "TorchFeatureDecoder"
    assert backends["MotionLCM (1 step, w = 7.5)"]["denoiser"] == "TorchDenoiser"


def test_eval_with_chosen_rows_and_split(prepared_fixture_dataset: Path, tmp_path: Path, capsys) -> None:
    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    args = ["eval", "--data", str(prepared_fixture_dataset), "--models", str(models),
            "--repeats", "1", "--pool-size", "2", "--timing-sentences", "0", "--no-teacher",
            "--student-steps", "2", "--student-guidance", "6", "--no-stabilized-rows"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = [line.split("|")[1].strip() for line in out.split("\n\n")[0].strip().splitlines()[2:]]
    assert rows == ["Real data", "VAE reconstruction", "MotionLCM (2 steps, w = 6)"]
    assert "s / sentence" not in out  # no sentences timed: no timing column
    assert "test.txt" in out
    # The fixture's val split holds one clip shorter than the protocol's 24 frames: a clear error.
    assert main([*args, "--split", "val"]) == 2
    assert "split 'val'" in capsys.readouterr().err
    assert main([*args, "--pool-size", "1"]) == 2
    assert "--pool-size must be at least 2" in capsys.readouterr().err
    assert main([*args, "--timing-sentences", "-1"]) == 2
    assert "--timing-sentences must be 0" in capsys.readouterr().err
    assert main([*args, "--denoiser-backend", "onnx"]) == 2  # asked for, but never exported: a clear error
    assert "run `motionlcm export denoiser --model" in capsys.readouterr().err


def test_eval_without_an_evaluator_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["eval", "--models", str(tmp_path)]) == 2
    assert "train one with" in capsys.readouterr().err


def test_statistics_note_flags_a_dataset_prepared_differently(tmp_path: Path) -> None:
    from motionlcm_node.cli.eval_command import statistics_note

    trained = np.linspace(-1.0, 1.0, 263).astype(np.float32)
    assert statistics_note(tmp_path, trained) is None  # no Mean.npy: the loader reports that
    np.save(tmp_path / "Mean.npy", trained.astype(np.float64))
    assert statistics_note(tmp_path, trained) is None  # same statistics (float32 of the same values)
    shifted = trained.astype(np.float64)
    shifted[172] += 7e-4
    np.save(tmp_path / "Mean.npy", shifted)
    note = statistics_note(tmp_path, trained)
    assert note is not None and "max |difference| 7.0e-04" in note and "prepared differently" in note
    np.save(tmp_path / "Mean.npy", trained[:100])
    assert "has (100,) features" in statistics_note(tmp_path, trained)


def test_a_student_of_another_text_model_is_a_clear_error(
    prepared_fixture_dataset: Path, tmp_path: Path, capsys
) -> None:
    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset)
    config = json.loads((models / "student" / "config.json").read_text())
    (models / "student" / "config.json").write_text(json.dumps({**config, "text_model": "clip-vit-0123abcd"}))
    args = ["eval", "--data", str(prepared_fixture_dataset), "--models", str(models), "--repeats", "1",
            "--pool-size", "2", "--timing-sentences", "0", "--no-teacher"]  # fmt: skip
    assert main(args) == 2
    assert "clip-vit-0123abcd" in capsys.readouterr().err
