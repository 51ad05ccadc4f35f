"""Tiny untrained models in the shipped ``models/`` layout, for end-to-end CLI tests."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from motionlcm_node.networks.config import DenoiserConfig
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.evaluator import EvaluatorConfig, MotionTextEvaluator
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer, save_normalizer
from motionlcm_node.resources import models_dir
from motionlcm_node.sampling.step_table import default_step_table
from motionlcm_node.text.encoder import default_model_path, model_id_of
from motionlcm_node.training.checkpoint import export_model
from tests.test_networks import TINY_VAE


def write_tiny_models(root: Path, data: Path, student: bool = True) -> None:
    """Untrained evaluator, VAE, teacher and (optionally) student in the ``models/`` layout.

    The language folder (MiniLM vectors of the known actions, independent of the generator) is the
    shipped one.
    """
    torch.manual_seed(0)

    normalizer = FeatureNormalizer(
        torch.from_numpy(np.load(data / "Mean.npy")), torch.from_numpy(np.load(data / "Std.npy"))
    )
    text_model = model_id_of(default_model_path())
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
    config = {"denoiser": denoiser.to_dict(), "latent_scale": 1.0, "text_model": text_model, "vae_dir": "models/vae"}
    export_model(LatentDenoiser(denoiser), config, root / "teacher")
    if student:
        student_config = replace(denoiser, guidance_embedding=True)
        table = {str(steps): plan.to_dict() for steps, plan in default_step_table().items()}
        config = {**config, "denoiser": student_config.to_dict(), "original_steps": 50, "step_table": table}
        export_model(LatentDenoiser(student_config), config, root / "student")
    shutil.copytree(models_dir() / "language", root / "language", dirs_exist_ok=True)
