"""ONNX Runtime denoisers: export (CLI), equivalence with torch, stale exports, pipelines and the benchmark."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.denoiser_onnx import export_denoiser
from motionlcm_node.model_store import load_denoiser, load_teacher
from motionlcm_node.onnx_denoiser import (
    OnnxDenoiser,
    backend_of,
    denoiser_export_is_current,
    denoiser_onnx_path,
    load_denoiser_backend,
)
from motionlcm_node.onnx_runtime import session_options, set_spinning, spinning_policy
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.text_encoder import TextEncoder
from motionlcm_node.training.checkpoint import save_weights
from tests.tiny_models import write_tiny_models


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture(scope="module")
def onnx_models(prepared_fixture_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Tiny models and a folder with the exports of their student and teacher (made once for the module)."""
    root, onnx_dir = tmp_path_factory.mktemp("models"), tmp_path_factory.mktemp("onnx")
    write_tiny_models(root, prepared_fixture_dataset)
    for part in ("student", "teacher"):
        torch.manual_seed(7)  # untrained guidance projections are zero: give every weight a value
        net = load_denoiser(root / part)
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.add_(0.05 * torch.randn_like(parameter))
        save_weights(net, root / part / "model.safetensors")
        report = export_denoiser(root / part, onnx_dir=onnx_dir)
        assert report.onnx_path == denoiser_onnx_path(root / part, onnx_dir) and report.max_abs_error <= 1e-4
    return root, onnx_dir


def _inputs(batch: int, guided: bool) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(batch)
    inputs = [torch.randn(batch, 2, 4, generator=generator), torch.randint(0, 1000, (batch,), generator=generator),
              torch.randn(batch, 384, generator=generator)]  # fmt: skip
    return inputs + ([torch.full((batch,), 8.0)] if guided else [])


@pytest.mark.parametrize("part", ["student", "teacher"])
def test_onnx_noise_matches_torch_at_several_batches(onnx_models: tuple[Path, Path], part: str) -> None:
    root, onnx_dir = onnx_models
    net = load_denoiser(root / part)
    onnx = load_denoiser_backend(root / part, net, "onnx", threads=2, onnx_dir=onnx_dir)
    assert isinstance(onnx, OnnxDenoiser) and backend_of(onnx) == "onnx" and backend_of(net) == "torch"
    assert onnx.config == net.config and onnx.device == torch.device("cpu") and onnx.eval() is onnx
    for batch in (1, 3, 7):  # 1 and 3 run in the single-thread session, 7 in the two-thread one
        inputs = _inputs(batch, part == "student")
        with torch.no_grad():
            expected = net(*inputs)
        assert torch.allclose(onnx(*inputs), expected, atol=1e-5)
    scalar = _inputs(2, part == "student")
    scalar[1] = torch.tensor(500)
    with torch.no_grad():
        assert torch.allclose(onnx(*scalar), net(*scalar), atol=1e-5)


def test_bad_calls_are_refused(onnx_models: tuple[Path, Path]) -> None:
    root, onnx_dir = onnx_models
    student = load_denoiser_backend(root / "student", load_denoiser(root / "student"), "onnx", onnx_dir=onnx_dir)
    teacher = load_denoiser_backend(root / "teacher", load_denoiser(root / "teacher"), "onnx", onnx_dir=onnx_dir)
    with pytest.raises(MotionLCMError, match="needs a guidance scale"):
        student(*_inputs(1, guided=False))
    with pytest.raises(MotionLCMError, match="takes no guidance scale"):
        teacher(*_inputs(1, guided=True))
    latent, timesteps, text = _inputs(1, guided=False)
    with pytest.raises(MotionLCMError, match=r"latent must be \[B, 2, 4\]"):
        teacher(latent[:, :1], timesteps, text)


def test_backend_choice_and_stale_exports(onnx_models: tuple[Path, Path], tmp_path: Path) -> None:
    root, onnx_dir = onnx_models
    net = load_denoiser(root / "student")
    assert load_denoiser_backend(root / "student", net, "torch", onnx_dir=onnx_dir) is net
    assert load_denoiser_backend(root / "student", net, "auto", onnx_dir=tmp_path) is net  # nothing exported there
    with pytest.raises(MotionLCMError, match="run `motionlcm export denoiser --model"):
        load_denoiser_backend(root / "student", net, "onnx", onnx_dir=tmp_path)
    with pytest.raises(MotionLCMError, match="denoiser backend must be"):
        load_denoiser_backend(root / "student", net, "tensorrt", onnx_dir=onnx_dir)
    with pytest.raises(MotionLCMError, match="threads must be at least 1"):
        load_denoiser_backend(root / "student", net, "auto", threads=0, onnx_dir=onnx_dir)

    copy = tmp_path / "student"
    shutil.copytree(root / "student", copy)
    assert denoiser_export_is_current(copy, onnx_dir)  # same bytes, same digest, same export
    config = json.loads((copy / "config.json").read_text())
    config["latent_scale"] = 0.5  # any change to weights or config names another export
    (copy / "config.json").write_text(json.dumps(config))
    assert not denoiser_export_is_current(copy, onnx_dir)
    assert load_denoiser_backend(copy, net, "auto", onnx_dir=onnx_dir) is net
    metadata = denoiser_onnx_path(root / "student", onnx_dir).with_suffix(".json")
    stale = json.loads(metadata.read_text())
    (tmp_path / "other").mkdir()
    other = denoiser_onnx_path(copy, tmp_path / "other")
    shutil.copy(denoiser_onnx_path(root / "student", onnx_dir), other)
    other.with_suffix(".json").write_text(json.dumps(stale))  # right name, but metadata of the old weights
    with pytest.raises(MotionLCMError, match="exported from other weights"):
        load_denoiser_backend(copy, net, "onnx", onnx_dir=tmp_path / "other")


def test_pipelines_give_the_same_motion_on_both_backends(
    onnx_models: tuple[Path, Path], encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, onnx_dir = onnx_models
    monkeypatch.setenv("MOTIONLCM_ONNX_DIR", str(onnx_dir))
    outputs = {}
    for backend in ("torch", "onnx"):
        pipeline = MotionLCMPipeline.from_models(root, encoder, denoiser_backend=backend, threads=1)
        assert backend_of(pipeline.student) == backend
        outputs[backend] = pipeline(["a person waves", "a person runs"], [40, 23], num_steps=2,
                                    generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert np.allclose(outputs["onnx"].joints, outputs["torch"].joints, atol=1e-4)

    pipeline = MotionLCMPipeline.from_models(root, encoder, threads=1)  # auto
    vae, normalizer, bundle = pipeline.vae, pipeline.normalizer, load_teacher(root / "teacher")
    teachers = {}
    for backend in ("torch", "onnx"):
        net = load_denoiser_backend(root / "teacher", bundle.denoiser, backend)
        teacher = LatentDiffusionPipeline(vae, net, encoder, normalizer, 1.0, ddim_scheduler())
        teachers[backend] = teacher(["a person jumps"], [30], 5, 7.5, torch.Generator().manual_seed(1))
    assert np.allclose(teachers["onnx"].joints, teachers["torch"].joints, atol=1e-4)


def test_cli_exports_and_skips_current_exports(
    onnx_models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root, _ = onnx_models
    monkeypatch.setenv("MOTIONLCM_ONNX_DIR", str(tmp_path / "onnx"))
    command = ["export", "denoiser", "--model", str(root / "student"), "--model", str(root / "teacher"), "--if-stale"]
    assert main(command) == 0
    assert capsys.readouterr().out.count("max abs error to torch") == 2
    assert denoiser_export_is_current(root / "student") and denoiser_export_is_current(root / "teacher")
    assert main(command) == 0
    assert capsys.readouterr().out.count("is current") == 2
    assert main(["export", "denoiser", "--model", str(tmp_path / "missing")]) != 0


def test_latency_benchmark_times_both_denoiser_backends(
    onnx_models: tuple[Path, Path], encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.latency import Settings, run

    root, onnx_dir = onnx_models
    monkeypatch.setenv("MOTIONLCM_ONNX_DIR", str(onnx_dir))
    settings = Settings(repeats=1, warmup=0, batch_sizes=(2,), throughput_repeats=1, frames=20, teacher_steps=2,
                        reference=False, decoder_backend="torch")  # fmt: skip
    report = run(root, settings, threads=1, device="cpu", encoder=encoder)
    backends = {row["label"]: row["denoiser_backend"] for row in report["rows"]}
    assert backends == {"student, 1 step": "onnx", "student, 2 steps": "onnx", "student, 4 steps": "onnx",
                        "teacher, DDIM 2 (w 7.5)": "onnx", "student, 1 step + planted-foot fix": "onnx",
                        "student (torch denoiser), 1 step": "torch",
                        "teacher (torch denoiser), DDIM 2 (w 7.5)": "torch"}  # fmt: skip
    assert set(report["teacher_over_student_1_step_by_denoiser_backend"]) == {"onnx denoisers", "torch denoisers"}
    assert set(report["targets"]) == {"student_1_step_end_to_end_ms", "teacher_over_student_1_step",
                                      "teacher_over_student_1_step_torch_denoisers"}  # fmt: skip
    assert report["denoisers"] == ["onnx", "torch"]
    rows = {row["label"]: row for row in report["rows"]}
    torch_teacher = rows["teacher (torch denoiser), DDIM 2 (w 7.5)"]  # compared with the torch student
    assert rows["student (torch denoiser), 1 step"]["end_to_end_vs_student_1_step"] == 1.0
    assert torch_teacher["end_to_end_vs_student_1_step"] == pytest.approx(
        report["teacher_over_student_1_step_by_denoiser_backend"]["torch denoisers"]
    )
    assert set(report["teacher_over_student_1_step_denoise_stage"]) == {"onnx denoisers", "torch denoisers"}
    torch_only = run(root, Settings(**{**settings.__dict__, "denoiser_backend": "torch"}), threads=1, device="cpu",
                     encoder=encoder)  # fmt: skip
    assert torch_only["denoisers"] == ["torch"] and len(torch_only["rows"]) == 5
    assert set(torch_only["targets"]) == {"student_1_step_end_to_end_ms", "teacher_over_student_1_step"}


def test_spinning_policy_reaches_new_sessions_and_rejects_unknown_names() -> None:
    assert spinning_policy() == "off"  # the default
    assert session_options(2).get_session_config_entry("session.intra_op.allow_spinning") == "0"
    try:
        set_spinning("during-runs")
        options = session_options(2)
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
        assert options.get_session_config_entry("session.force_spinning_stop") == "1"
        with pytest.raises(MotionLCMError, match="spinning policy"):
            set_spinning("always")
        assert spinning_policy() == "during-runs"  # a refused name changes nothing
    finally:
        set_spinning("off")


def test_spinning_benchmark_times_every_arm_side_by_side(
    onnx_models: tuple[Path, Path], encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from benchmarks.latency import Settings
    from benchmarks.ort_spinning import ARMS, BASELINE, print_report, run

    root, onnx_dir = onnx_models
    monkeypatch.setenv("MOTIONLCM_ONNX_DIR", str(onnx_dir))
    settings = Settings(repeats=1, warmup=0, batch_sizes=(), frames=20, teacher_steps=2, reference=False,
                        decoder_backend="torch")  # fmt: skip
    report = run(root, settings, "cpu", encoder)
    labels = ["student, 1 step", "teacher, DDIM 2 (w 7.5)", "student (torch denoiser), 1 step",
              "teacher (torch denoiser), DDIM 2 (w 7.5)"]  # fmt: skip
    assert [(row["arm"], row["label"]) for row in report["rows"]] == [(arm, label) for arm in ARMS for label in labels]
    assert all(row["end_to_end_vs_baseline"] == 1.0 for row in report["rows"] if row["arm"] == BASELINE)
    for arm, ratios in report["teacher_over_student_1_step"].items():
        rows = {row["label"]: row["end_to_end_ms"] for row in report["rows"] if row["arm"] == arm}
        assert ratios["onnx denoisers"] == pytest.approx(rows[labels[1]] / rows[labels[0]])
    assert spinning_policy() == "off" and OnnxDenoiser.SINGLE_THREAD_BATCH == 2  # both restored
    print_report(report)
    assert "teacher / 1-step student, off, 1 thread up to batch 2:" in capsys.readouterr().out
