"""Shipped model folders: ``model.safetensors`` + ``config.json`` per network.

``models/vae/`` also holds ``normalizer.safetensors`` (the feature mean and std it was trained with)
and ``decoder.onnx``; ``models/teacher/config.json`` names the latent scale and the text model;
``models/student/config.json`` adds the distillation grid and the step table; teacher and student
folders hold their ``denoiser.onnx``. The ``read_*`` functions parse configs without torch; the
``load_*`` functions build PyTorch networks (torch is imported only when they are called).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.config import DenoiserConfig, MotionVAEConfig
from motionlcm_node.sampling.step_table import StepPlan, step_table_from_dict, validate_step_table

if TYPE_CHECKING:
    from torch import nn

    from motionlcm_node.networks.denoiser import LatentDenoiser
    from motionlcm_node.networks.evaluator import MotionTextEvaluator
    from motionlcm_node.networks.vae import MotionVAE
    from motionlcm_node.postprocess.normalizer import FeatureNormalizer


def read_model_config(directory: Path) -> dict[str, object]:
    """The ``config.json`` of a model folder as a dict.

    Raises:
        MotionLCMError: missing, unreadable or not a JSON object.
    """
    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MotionLCMError(f"{directory}: no readable config.json ({error})") from None
    if not isinstance(config, dict):
        raise MotionLCMError(f"{directory}/config.json is not a JSON object")
    return config


def text_model_of(directory: Path) -> str:
    """The ``text_model`` id a teacher, student or evaluator folder was trained with (config only)."""
    config = read_model_config(directory)
    if "text_model" not in config:
        raise MotionLCMError(f"{directory}/config.json names no text_model")
    return str(config["text_model"])


@dataclass(frozen=True)
class DenoiserSpec:
    """A teacher or student folder's ``config.json``, read without building the network.

    Attributes:
        directory: the folder.
        denoiser: the network's sizes.
        latent_scale: VAE latents times this are the diffusion latents.
        text_model: id of the text model whose vectors it reads.
        original_steps: the distillation grid's size (students only, else None).
        step_table: timesteps and guidance per step count (students only, else None).
    """

    directory: Path
    denoiser: DenoiserConfig
    latent_scale: float
    text_model: str
    original_steps: int | None = None
    step_table: dict[int, StepPlan] | None = None


def read_denoiser_spec(directory: Path) -> DenoiserSpec:
    """The spec of the teacher or student in ``directory`` (a student's step table is validated).

    Raises:
        MotionLCMError: a missing or malformed config.
    """
    config = read_model_config(directory)
    try:
        denoiser = DenoiserConfig.from_dict(dict(config["denoiser"]))
        latent_scale, text_model = float(config["latent_scale"]), str(config["text_model"])
    except (KeyError, TypeError, ValueError) as error:
        raise MotionLCMError(f"{directory}/config.json: not a denoiser config ({error})") from None
    if "step_table" not in config:
        return DenoiserSpec(directory, denoiser, latent_scale, text_model)
    if not denoiser.guidance_embedding:
        raise MotionLCMError(f"{directory}: a step table but no guidance embedding")
    original_steps = int(config["original_steps"])
    table = step_table_from_dict(config["step_table"])
    validate_step_table(table, original_steps)
    return DenoiserSpec(directory, denoiser, latent_scale, text_model, original_steps, table)


def read_student_spec(directory: Path) -> DenoiserSpec:
    """``read_denoiser_spec`` of a consistency student.

    Raises:
        MotionLCMError: the folder holds no student (no step table or guidance embedding).
    """
    spec = read_denoiser_spec(directory)
    if spec.step_table is None or not spec.denoiser.guidance_embedding:
        raise MotionLCMError(f"{directory}: not a consistency student (no guidance embedding and step table)")
    return spec


def read_vae_config(directory: Path) -> MotionVAEConfig:
    """The sizes of the VAE in ``directory``.

    Raises:
        MotionLCMError: a missing or malformed config.
    """
    try:
        return MotionVAEConfig.from_dict(dict(read_model_config(directory)["vae"]))
    except (KeyError, TypeError, ValueError) as error:
        raise MotionLCMError(f"{directory}/config.json: not a VAE config ({error})") from None


def load_weights(module: nn.Module, path: Path) -> None:
    """Load safetensors weights into a module; missing or unexpected keys raise ``MotionLCMError``."""
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (OSError, ValueError) as error:
        raise MotionLCMError(f"{path}: cannot load weights ({error})") from None
    result = module.load_state_dict(tensors, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise MotionLCMError(
            f"{path}: weights do not fit the network (missing {result.missing_keys[:3]}, "
            f"unexpected {result.unexpected_keys[:3]})"
        )


def load_vae(directory: Path) -> tuple[MotionVAE, FeatureNormalizer]:
    """The VAE in ``directory`` (eval mode) and its feature normaliser."""
    from motionlcm_node.networks.vae import MotionVAE
    from motionlcm_node.postprocess.normalizer import load_normalizer

    vae = MotionVAE(read_vae_config(directory))
    load_weights(vae, directory / "model.safetensors")
    return vae.eval(), load_normalizer(directory / "normalizer.safetensors")


def load_denoiser(directory: Path) -> LatentDenoiser:
    """The denoiser network of a teacher or student folder (eval mode), without the rest of its config."""
    from motionlcm_node.networks.denoiser import LatentDenoiser

    denoiser = LatentDenoiser(read_denoiser_spec(directory).denoiser)
    load_weights(denoiser, directory / "model.safetensors")
    return denoiser.eval()


@dataclass
class TeacherBundle:
    """A loaded teacher: denoiser, latent scale and the text model it was trained with."""

    denoiser: LatentDenoiser
    latent_scale: float
    text_model: str


def load_teacher(directory: Path) -> TeacherBundle:
    """The latent diffusion teacher in ``directory`` (eval mode)."""
    spec = read_denoiser_spec(directory)
    return TeacherBundle(load_denoiser(directory), spec.latent_scale, spec.text_model)


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
    spec = read_student_spec(directory)
    return StudentBundle(
        load_denoiser(directory), spec.latent_scale, spec.text_model, int(spec.original_steps), dict(spec.step_table)
    )


@dataclass
class EvaluatorBundle:
    """A loaded text-motion evaluator with the feature statistics and text model it was trained with."""

    model: MotionTextEvaluator
    normalizer: FeatureNormalizer
    text_model: str


def load_evaluator(directory: Path) -> EvaluatorBundle:
    """The evaluator in ``directory`` (eval mode)."""
    from motionlcm_node.networks.evaluator import EvaluatorConfig, MotionTextEvaluator
    from motionlcm_node.postprocess.normalizer import load_normalizer

    config = read_model_config(directory)
    model = MotionTextEvaluator(EvaluatorConfig.from_dict(config["evaluator"]))
    load_weights(model, directory / "model.safetensors")
    normalizer = load_normalizer(directory / "normalizer.safetensors")
    return EvaluatorBundle(model.eval(), normalizer, str(config["text_model"]))
