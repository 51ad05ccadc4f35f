"""Loading shipped models: a folder with ``model.safetensors`` + ``config.json`` per network.

``models/vae/`` also holds ``normalizer.safetensors`` (the feature Mean/Std it was trained with);
``models/teacher/config.json`` names the latent scale, the text model and the VAE folder;
``models/student/config.json`` adds the distillation grid and the step table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.evaluator import EvaluatorConfig, MotionTextEvaluator
from motionlcm_node.networks.denoiser import DenoiserConfig, LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE, MotionVAEConfig
from motionlcm_node.sampling.consistency import StepPlan, step_table_from_dict, validate_step_table
from motionlcm_node.training.checkpoint import load_weights


@dataclass
class FeatureNormalizer:
    """HumanML3D feature statistics ([263] each): the models see ``(x - mean) / std``."""

    mean: torch.Tensor
    std: torch.Tensor

    def normalize(self, features: torch.Tensor) -> torch.Tensor:
        """Raw -> normalised features."""
        return (features - self.mean) / self.std

    def denormalize(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised -> raw features."""
        return features * self.std + self.mean

    def to(self, device: torch.device | str) -> FeatureNormalizer:
        """A copy on ``device``."""
        return FeatureNormalizer(self.mean.to(device), self.std.to(device))


def save_normalizer(normalizer: FeatureNormalizer, path: Path) -> None:
    """Write mean and std as safetensors."""
    save_file({"mean": normalizer.mean.cpu().contiguous(), "std": normalizer.std.cpu().contiguous()}, str(path))


def load_normalizer(path: Path) -> FeatureNormalizer:
    """Read mean and std written by ``save_normalizer``."""
    try:
        stats = load_file(str(path))
    except (OSError, ValueError) as error:
        raise MotionLCMError(f"{path}: cannot load feature statistics ({error})") from None
    return FeatureNormalizer(stats["mean"], stats["std"])


def _read_config(directory: Path) -> dict[str, object]:
    try:
        return json.loads((directory / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MotionLCMError(f"{directory}: no readable config.json ({error})") from None


def text_model_of(directory: Path) -> str:
    """The ``text_model`` id a teacher, student or evaluator folder was trained with (config only)."""
    config = _read_config(directory)
    if "text_model" not in config:
        raise MotionLCMError(f"{directory}/config.json names no text_model")
    return str(config["text_model"])


def load_vae(directory: Path) -> tuple[MotionVAE, FeatureNormalizer]:
    """The VAE in ``directory`` (eval mode) and its feature normaliser."""
    vae = MotionVAE(MotionVAEConfig.from_dict(_read_config(directory)["vae"]))
    load_weights(vae, directory / "model.safetensors")
    return vae.eval(), load_normalizer(directory / "normalizer.safetensors")


@dataclass
class TeacherBundle:
    """A loaded teacher: denoiser, latent scale and the text model it was trained with."""

    denoiser: LatentDenoiser
    latent_scale: float
    text_model: str
    vae_dir: str


def load_denoiser(directory: Path) -> LatentDenoiser:
    """The denoiser network of a teacher or student folder (eval mode), without the rest of its config."""
    denoiser = LatentDenoiser(DenoiserConfig.from_dict(_read_config(directory)["denoiser"]))
    load_weights(denoiser, directory / "model.safetensors")
    return denoiser.eval()


def load_teacher(directory: Path) -> TeacherBundle:
    """The latent diffusion teacher in ``directory`` (eval mode)."""
    config = _read_config(directory)
    denoiser = load_denoiser(directory)
    return TeacherBundle(
        denoiser.eval(), float(config["latent_scale"]), str(config["text_model"]), str(config["vae_dir"])
    )


@dataclass
class StudentBundle:
    """A loaded consistency student with everything sampling needs."""

    denoiser: LatentDenoiser
    latent_scale: float
    text_model: str
    original_steps: int
    step_table: dict[int, StepPlan]


def load_student(directory: Path) -> StudentBundle:
    """The MotionLCM student in ``directory`` (eval mode) with its validated step table."""
    config = _read_config(directory)
    denoiser = load_denoiser(directory)
    if not denoiser.config.guidance_embedding:
        raise MotionLCMError(f"{directory}: not a consistency student (no guidance embedding)")
    original_steps = int(config["original_steps"])
    table = step_table_from_dict(config["step_table"])
    validate_step_table(table, original_steps)
    return StudentBundle(
        denoiser.eval(), float(config["latent_scale"]), str(config["text_model"]), original_steps, table
    )


@dataclass
class EvaluatorBundle:
    """A loaded text-motion evaluator with the feature statistics and text model it was trained with."""

    model: MotionTextEvaluator
    normalizer: FeatureNormalizer
    text_model: str


def load_evaluator(directory: Path) -> EvaluatorBundle:
    """The evaluator in ``directory`` (eval mode)."""
    config = _read_config(directory)
    model = MotionTextEvaluator(EvaluatorConfig.from_dict(config["evaluator"]))
    load_weights(model, directory / "model.safetensors")
    normalizer = load_normalizer(directory / "normalizer.safetensors")
    return EvaluatorBundle(model.eval(), normalizer, str(config["text_model"]))
