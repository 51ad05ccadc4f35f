"""Smoke test of `benchmarks/latency.py` with tiny models and tiny settings (structure, not speed)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.latency import FreshSentences, Settings, print_report, run
from benchmarks.latency_report import shared_stage_budget
from motionlcm_node.text_encoder import TextEncoder
from tests.tiny_models import write_tiny_models

SMALL = Settings(repeats=2, warmup=1, batch_sizes=(2, 3), throughput_repeats=1, frames=40)


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


def test_latency_report_on_tiny_models(prepared_fixture_dataset: Path, tmp_path: Path, encoder, capsys) -> None:
    write_tiny_models(tmp_path / "models", prepared_fixture_dataset)
    report = run(tmp_path / "models", SMALL, threads=1, device="cpu", encoder=encoder)
    labels = [row["label"] for row in report["rows"]]
    assert labels == ["student, 1 step", "student, 2 steps", "student, 4 steps", "teacher, DDIM 50 (w 7.5)",
                      "student, 1 step + planted-foot fix", "reference (MotionLCM-V2 sizes), 1 step"]  # fmt: skip
    assert report["mode"] == "trained weights" and report["torch_threads"] == 1 and report["device"] == "cpu"
    assert report["rows"][0]["weights"].startswith("trained") and report["rows"][3]["weights"].startswith("trained")
    assert "timing only" in report["rows"][5]["weights"] and report["rows"][2]["timesteps"] == [999, 759, 499, 259]
    for row in report["rows"]:
        for key in ("text_ms", "denoise_ms", "decode_ms", "joints_ms", "end_to_end_ms", "end_to_end_cached_text_ms"):
            assert row[key] > 0, (row["label"], key)
        assert set(row["sequences_per_second"]) == {"2", "3"} and min(row["sequences_per_second"].values()) > 0
    assert report["rows"][0]["end_to_end_vs_student_1_step"] == 1.0
    teacher = report["rows"][3]
    assert report["teacher_over_student_1_step_end_to_end"] == pytest.approx(teacher["end_to_end_vs_student_1_step"])
    assert report["teacher_over_student_1_step_end_to_end"] > 1.0  # 50 guided steps against one
    assert set(report["targets"]) == {"student_1_step_end_to_end_ms", "teacher_over_student_1_step"}
    assert report["vae_decoder_batch1"] is None  # no ONNX export in the tiny models
    json.dumps(report)  # serialisable

    print_report(report)
    printed = capsys.readouterr().out
    assert "| configuration | weights | denoiser | text ms |" in printed and "Machine:" in printed
    assert "torch threads 1" in printed and "Target teacher_over_student_1_step: >= 15x" in printed
    assert set(report["shared_stage_budget"]["by_denoiser_backend"]) == {"torch denoisers"}
    assert "For 15x end to end, the 1-step student's stages besides denoising" in printed


def test_without_a_student_it_times_random_cpu_size_networks(tmp_path: Path, encoder) -> None:
    settings = Settings(repeats=1, warmup=0, batch_sizes=(2,), throughput_repeats=1, frames=20, teacher_steps=2,
                        reference=False)  # fmt: skip
    report = run(tmp_path / "no_models", replace(settings, decoder_backend="torch"), threads=1, device="cpu",
                 encoder=encoder)  # fmt: skip
    # Random networks are exported to ONNX Runtime in a temporary folder, and timed on torch as well.
    assert report["mode"] == "random weights" and len(report["rows"]) == 7
    assert all("CPU config sizes" in row["weights"] for row in report["rows"])
    assert report["rows"][3]["label"] == "teacher, DDIM 2 (w 7.5)" and report["rows"][3]["denoiser_backend"] == "onnx"
    assert [row["denoiser_backend"] for row in report["rows"][-2:]] == ["torch", "torch"]


def test_sentences_are_never_repeated() -> None:
    source = FreshSentences()
    sentences = source.take(3) + source.take(40)
    assert len(set(sentences)) == 43 and all(len(s.split()) >= 10 for s in sentences)


def test_shared_stage_budget_is_where_the_ratio_meets_the_target() -> None:
    rows = [
        {"label": "student, 1 step", "denoiser_backend": "onnx", "denoise_ms": 2.0, "end_to_end_ms": 12.0},
        {"label": "student, 1 step + planted-foot fix", "denoiser_backend": "onnx", "denoise_ms": 9.0,
         "end_to_end_ms": 99.0},
        {"label": "teacher, DDIM 50 (w 7.5)", "denoiser_backend": "onnx", "denoise_ms": 100.0, "end_to_end_ms": 110.0},
        {"label": "student (torch denoiser), 1 step", "denoiser_backend": "torch", "denoise_ms": 4.0,
         "end_to_end_ms": 10.0},
    ]  # fmt: skip
    budget = shared_stage_budget(rows, 15.0)
    assert set(budget) == {"onnx denoisers"}  # no torch teacher row: no torch pair
    assert budget["onnx denoisers"]["measured_ms"] == pytest.approx(10.0)
    allowed = budget["onnx denoisers"]["allowed_ms"]
    assert allowed == pytest.approx(5.0)
    assert (100.0 + allowed) / (2.0 + allowed) == pytest.approx(15.0)  # the ratio exactly at the target there
    assert budget["onnx denoisers"]["teacher_extra_ms"] == pytest.approx(0.0)
    rows[2]["end_to_end_ms"] = 116.0  # the teacher's text encoder costs 6 ms more than the student's
    budget = shared_stage_budget(rows, 15.0)["onnx denoisers"]
    assert budget["teacher_extra_ms"] == pytest.approx(6.0)
    assert (100.0 + 6.0 + budget["allowed_ms"]) / (2.0 + budget["allowed_ms"]) == pytest.approx(15.0)
