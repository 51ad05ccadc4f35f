"""`benchmarks/latency.py` on tiny models with tiny settings (the report's structure, not speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.latency import FreshSentences, Settings, main, run
from motionlcm_node.export.denoiser_onnx import export_denoiser
from motionlcm_node.export.vae_onnx import export_vae_decoder
from tests.tiny_models import write_tiny_models

SMALL = Settings(repeats=2, warmup=1, batch_sizes=(2, 3), throughput_repeats=1, frames=40, teacher_steps=3)


@pytest.fixture(scope="module")
def exported_models(prepared_fixture_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    write_tiny_models(models, prepared_fixture_dataset)
    for part in ("student", "teacher"):
        export_denoiser(models / part)
    export_vae_decoder(models / "vae")
    return models


def test_latency_report_on_tiny_models(exported_models: Path) -> None:
    report = run(exported_models, SMALL, threads=1)
    labels = [(row["label"], row["backend"]) for row in report["rows"]]
    assert labels == [
        ("student, 1 step", "onnx"), ("student, 2 steps", "onnx"), ("student, 4 steps", "onnx"),
        ("student, 1 step + planted-foot fix", "onnx"), ("teacher, DDIM 3 (w 7.5)", "onnx"),
        ("student, 1 step (PyTorch)", "torch"), ("teacher, DDIM 3 (w 7.5) (PyTorch)", "torch"),
    ]  # fmt: skip
    for row in report["rows"]:
        for stage in ("text", "denoise", "decode", "joints", "total"):
            assert row[f"{stage}_ms"] > 0, (row["label"], stage)
        assert row["end_to_end_max_ms"] >= row["total_ms"]
    plain = [row for row in report["rows"] if row["label"].startswith("student, 1 step") and "fix" not in row["label"]]
    assert all(row["vs_student_1_step"] == 1.0 and set(row["sequences_per_second"]) == {"2", "3"} for row in plain)
    teachers = [row for row in report["rows"] if row["label"].startswith("teacher")]
    assert report["teacher_over_student_1_step"] == {row["backend"]: row["vs_student_1_step"] for row in teachers}
    assert set(report["targets"]) == {"student_1_step_ms"}
    assert report["threads"] == 1 and report["machine"]["logical_cores"] >= 1


def test_the_command_prints_json_then_a_table(exported_models: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "latency.json"
    main(["--models", str(exported_models), "--repeats", "1", "--warmup", "0", "--batch-sizes", "2",
          "--throughput-repeats", "1", "--threads", "1", "--no-torch", "--json", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["torch_rows"] is False
    assert "| configuration | backend | text ms |" in printed and "seq/s @ batch 2" in printed
    assert "student_1_step_ms:" in printed and "Machine:" in printed
    assert len([line for line in printed.splitlines() if line.startswith("| student")]) == 4


def test_fresh_sentences_never_repeat() -> None:
    sentences = FreshSentences()
    taken = sentences.take(7) + sentences.take(5)
    assert len(set(taken)) == 12


def test_the_timed_sentences_are_commands_the_shipped_models_accept() -> None:
    from motionlcm_node.language.interpreter import CommandInterpreter

    readings = CommandInterpreter.from_models().understand(FreshSentences().take(10))
    assert not [reading.text for reading in readings if reading.refused]
