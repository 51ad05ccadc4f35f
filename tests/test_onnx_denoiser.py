"""ONNX Runtime denoisers: export (CLI), equivalence with torch, stale exports, and the pipelines on both backends."""

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
from motionlcm_node.loading.models import load_denoiser
from motionlcm_node.runtime.denoiser import (
    DENOISER_FILE,
    DENOISER_METADATA,
    OnnxDenoiser,
    TorchDenoiser,
    denoiser_export_is_current,
    load_denoiser_backend,
)
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline
from motionlcm_node.text.sentence_transformer import TextEncoder
from motionlcm_node.training.checkpoint import save_weights
from tests.tiny_models import write_tiny_models


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture(scope="module")
def onnx_models(prepared_fixture_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny models whose student and teacher carry their exports (made once for the module)."""
    root = tmp_path_factory.mktemp("models")
    write_tiny_models(root, prepared_fixture_dataset)
    for part in ("student", "teacher"):
        torch.manual_seed(7)  # untrained guidance projections are zero: give every weight a value
        net = load_denoiser(root / part)
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.add_(0.05 * torch.randn_like(parameter))
        save_weights(net, root / part / "model.safetensors")
        report = export_denoiser(root / part)
        assert report.onnx_path == root / part / DENOISER_FILE and report.max_abs_error <= 1e-4
    return root


def _inputs(batch: int, guided: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(batch)
    inputs = [rng.standard_normal((batch, 2, 4), dtype=np.float32), rng.integers(0, 1000, batch),
              rng.standard_normal((batch, 384), dtype=np.float32)]  # fmt: skip
    return inputs + ([np.full(batch, 8.0, np.float32)] if guided else [])


@pytest.mark.parametrize("part", ["student", "teacher"])
def test_onnx_noise_matches_torch_at_several_batches(onnx_models: Path, part: str) -> None:
    onnx = load_denoiser_backend(onnx_models / part, "onnx", threads=2)
    reference = load_denoiser_backend(onnx_models / part, "torch")
    assert isinstance(onnx, OnnxDenoiser) and onnx.backend == "onnx"
    assert isinstance(reference, TorchDenoiser) and reference.backend == "torch"
    assert onnx.config == reference.config
    for batch in (1, 3, 7):  # 1 and 3 run in the single-thread session, 7 in the two-thread one
        inputs = _inputs(batch, part == "student")
        found = onnx(*inputs)
        assert found.dtype == np.float32 and found.shape == (batch, 2, 4)
        np.testing.assert_allclose(found, reference(*inputs), atol=1e-5)
    scalar = _inputs(2, part == "student")
    scalar[1] = np.array(500)  # one timestep for the whole batch
    np.testing.assert_allclose(onnx(*scalar), reference(*scalar), atol=1e-5)


def test_bad_calls_are_refused(onnx_models: Path) -> None:
    for backend in ("onnx", "torch"):
        student = load_denoiser_backend(onnx_models / "student", backend)
        teacher = load_denoiser_backend(onnx_models / "teacher", backend)
        with pytest.raises(MotionLCMError, match="needs a guidance scale"):
            student(*_inputs(1, guided=False))
        with pytest.raises(MotionLCMError, match="takes no guidance scale"):
            teacher(*_inputs(1, guided=True))
        latent, timesteps, text = _inputs(1, guided=False)
        with pytest.raises(MotionLCMError, match=r"latent must be \[B, 2, 4\]"):
            teacher(latent[:, :1], timesteps, text)


def test_backend_choice_and_stale_exports(onnx_models: Path, tmp_path: Path) -> None:
    assert isinstance(load_denoiser_backend(onnx_models / "student", "torch"), TorchDenoiser)
    with pytest.raises(MotionLCMError, match="denoiser backend must be"):
        load_denoiser_backend(onnx_models / "student", "tensorrt")
    with pytest.raises(MotionLCMError, match="threads must be at least 1"):
        load_denoiser_backend(onnx_models / "student", "auto", threads=0)

    copy = tmp_path / "student"
    shutil.copytree(onnx_models / "student", copy)
    assert denoiser_export_is_current(copy)  # same weights and sizes, same export
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "latent_scale": 0.5}))
    assert denoiser_export_is_current(copy)  # the network is unchanged: the export stays valid
    weights = load_denoiser(copy)
    with torch.no_grad():
        weights.text_input.bias.add_(1.0)
    save_weights(weights, copy / "model.safetensors")
    assert not denoiser_export_is_current(copy)  # other weights: a stale export
    assert isinstance(load_denoiser_backend(copy, "auto"), TorchDenoiser)  # auto falls back to torch
    with pytest.raises(MotionLCMError, match="exported from other weights"):
        load_denoiser_backend(copy, "onnx")
    (copy / DENOISER_METADATA).unlink()
    with pytest.raises(MotionLCMError, match="run `motionlcm export denoiser --model"):
        load_denoiser_backend(copy, "onnx")


def test_pipelines_give_the_same_motion_on_both_backends(onnx_models: Path, encoder: TextEncoder) -> None:
    outputs = {}
    for backend in ("torch", "onnx"):
        pipeline = MotionLCMPipeline.from_models(onnx_models, encoder, denoiser_backend=backend, threads=1)
        assert pipeline.student.backend == backend
        outputs[backend] = pipeline(["a person waves", "a person runs"], [40, 23], num_steps=2, generator=0)
    np.testing.assert_allclose(outputs["onnx"].joints, outputs["torch"].joints, atol=1e-4)
    teachers = {}
    for backend in ("torch", "onnx"):
        teacher = LatentDiffusionPipeline.from_models(onnx_models, encoder, denoiser_backend=backend, threads=1)
        assert teacher.denoiser.backend == backend
        teachers[backend] = teacher(["a person jumps"], [30], 5, 7.5, generator=1)
    np.testing.assert_allclose(teachers["onnx"].joints, teachers["torch"].joints, atol=1e-4)


def test_cli_exports_and_skips_current_exports(onnx_models: Path, tmp_path: Path, capsys) -> None:
    models = tmp_path / "models"
    shutil.copytree(onnx_models, models)
    for part in ("student", "teacher"):
        (models / part / DENOISER_FILE).unlink()
    command = ["export", "denoiser", "--model", str(models / "student"), "--model", str(models / "teacher"),
               "--if-stale"]  # fmt: skip
    assert main(command) == 0
    assert capsys.readouterr().out.count("max abs error to torch") == 2
    assert denoiser_export_is_current(models / "student") and denoiser_export_is_current(models / "teacher")
    assert main(command) == 0
    assert capsys.readouterr().out.count("is current") == 2
    assert main(["export", "denoiser", "--model", str(tmp_path / "missing")]) == 2
    assert "no readable config.json" in capsys.readouterr().err
