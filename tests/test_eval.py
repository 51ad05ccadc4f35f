"""`motionlcm eval` end to end with tiny untrained models on the committed clips."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from motionlcm_node.cli.main import main
from motionlcm_node.evaluation.evaluator import EvaluatorConfig, MotionTextEvaluator
from motionlcm_node.model_store import FeatureNormalizer, save_normalizer
from motionlcm_node.networks.denoiser import DenoiserConfig, LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.text_encoder import TextEncoder
from motionlcm_node.training.checkpoint import export_model
from tests.test_networks import TINY_VAE


def write_tiny_models(root: Path, data: Path) -> None:
    torch.manual_seed(0)
    import numpy as np

    normalizer = FeatureNormalizer(
        torch.from_numpy(np.load(data / "Mean.npy")), torch.from_numpy(np.load(data / "Std.npy"))
    )
    text_model = TextEncoder().model_id
    evaluator_config = EvaluatorConfig(
        latent_dim=16, width=32, num_layers=1, num_heads=2, ff_dim=64, text_hidden_dim=32
    )
    export_model(
        MotionTextEvaluator(evaluator_config),
        {"evaluator": evaluator_config.to_dict(), "text_model": text_model},
        root / "evaluator",
    )
    save_normalizer(normalizer, root / "evaluator" / "normalizer.safetensors")
    export_model(MotionVAE(TINY_VAE), {"vae": TINY_VAE.to_dict()}, root / "vae")
    save_normalizer(normalizer, root / "vae" / "normalizer.safetensors")
    denoiser = DenoiserConfig(latent_tokens=2, latent_dim=4, width=32, heads=2, ff_width=64, num_layers=3)
    config = {"denoiser": denoiser.to_dict(), "latent_scale": 1.0, "text_model": text_model, "vae_dir": "vae"}
    export_model(LatentDenoiser(denoiser), config, root / "teacher")


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
    assert [line.split("|")[1].strip() for line in lines[2:]] == [
        "Real data", "VAE reconstruction", "Teacher (DDIM 2, w = 7.5)",
    ]  # fmt: skip
    summary = json.loads(out.with_suffix(".json").read_text())
    assert "MPJPE (m)" in summary["rows"]["VAE reconstruction"] and "MPJPE (m)" not in summary["rows"]["Real data"]
    assert float(summary["extra"]["Teacher (DDIM 2, w = 7.5)"]["s / sentence (batch 1, 196 frames)"]) > 0
    real = summary["rows"]["Real data"]
    assert 0.0 <= real["R@1"][0] <= real["R@2"][0] <= 1.0


def test_eval_without_an_evaluator_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["eval", "--models", str(tmp_path)]) == 2
    assert "train one with" in capsys.readouterr().err
