"""Typed training configurations, read from and written to JSON.

A stage config file looks like ``{"train": {...}, "model": {...}, <stage fields>}``; unknown keys
are errors. The subcommand (``motionlcm train vae|teacher|evaluator``) picks the config class: no
class is ever looked up from a string in a file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TypeVar

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.config import DenoiserConfig, MotionVAEConfig

T = TypeVar("T")


@dataclass(frozen=True)
class TrainConfig:
    """Settings shared by every stage.

    Attributes:
        data_dir: prepared dataset (HumanML3D layout).
        out_dir: run folder (checkpoint, log.csv, config.json, exported model/).
        steps: optimiser steps in total.
        batch_size: motions per step (per process under DDP).
        learning_rate: AdamW peak learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: linear warm-up before the cosine decay.
        grad_clip: gradient-norm clip (0 = off).
        min_length: shortest clip used, frames at 20 fps.
        max_length: random crop length cap, frames.
        seed: random seed (each DDP rank adds its rank).
        num_threads: torch CPU threads per process (0 = torch default).
        num_workers: DataLoader worker processes.
        log_every: steps between CSV log rows.
        checkpoint_every: steps between checkpoints.
        device: "cpu", "cuda" or "auto".
        group_by_length: batch motions of similar length together (less padding; needs a dataset
            with ``item_lengths()``).
    """

    data_dir: str = "data/bandai"
    out_dir: str = "runs/stage"
    steps: int = 1000
    batch_size: int = 64
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    grad_clip: float = 1.0
    min_length: int = 24
    max_length: int = 196
    seed: int = 0
    num_threads: int = 0
    num_workers: int = 0
    log_every: int = 10
    checkpoint_every: int = 200
    device: str = "auto"
    group_by_length: bool = False

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise MotionLCMError("train: steps, batch_size and learning_rate must be positive")
        if not 4 <= self.min_length <= self.max_length:
            raise MotionLCMError("train: need 4 <= min_length <= max_length")
        if self.device not in ("cpu", "cuda", "auto"):
            raise MotionLCMError(f"train: device must be cpu, cuda or auto, got {self.device!r}")


@dataclass(frozen=True)
class VAEStageConfig:
    """Motion VAE training: smooth-L1 on features and on joints recovered from them, plus KL.

    Joint terms are in metres (or metres per second) with a smooth-L1 transition ``joint_beta``.
    With the default beta of 1 m they are quadratic in centimetre-size errors, about a thousandth
    of the feature term; a beta of 1 cm gives them a full gradient (measured: it did not help;
    docs/experiments.md).

    Attributes:
        feature_weight: normalised-feature term (the mean over the 263 features of the weighted
            per-feature smooth-L1; each group's weight below multiplies its features).
        root_feature_weight: root yaw velocity, XZ velocity and height (features 0-3).
        position_feature_weight: root-relative joint positions (4-66), what MPJPE measures.
        rotation_feature_weight: 6D joint rotations (67-192).
        velocity_feature_weight: joint velocities (193-258).
        contact_feature_weight: foot-contact labels (259-262).
        joint_weight: pelvis-relative joint positions (m): the pose, what MPJPE measures.
        trajectory_weight: pelvis trajectory in the world frame (m), integrated from root velocities.
        velocity_weight: world-frame joint velocities (m/s at 20 fps): smooth, non-skating motion.
        joint_beta: smooth-L1 transition of the joint terms (m, or m/s for velocities).
        kl_weight: KL divergence to the unit Gaussian.
        foot_contact_velocity_weight: foot joints' pelvis-relative velocity (m/s at 20 fps, world
            axes) against the data's, on frames where the data labels that foot in contact
            (smooth-L1, beta 0.1 m/s). It leaves the root out, so it cannot buy still feet by
            freezing the trajectory; it halves the skating of a decoder (docs/experiments.md).
        acceleration_weight: world-frame joint accelerations (m/s^2 at 20 fps, second differences
            of positions) against the data's, smooth-L1 with beta 1 m/s^2, on frames whose two
            neighbours are valid. It targets the frame-to-frame jitter that a decoder emitting two
            frames per token leaves.
        init_from: a VAE model folder (``model.safetensors`` + ``config.json``) to start from;
            its network config must equal ``model`` and its feature statistics are kept.
        train_decoder_only: freeze the encoder (needs ``init_from``), so the latent space, and any
            teacher or student trained on it, stays valid.
        pair_teacher_dir: an exported teacher trained on this VAE's latent space; when set, each
            step also decodes ``batch_size`` latents the teacher finished from noised encodings of
            training crops and applies the same reconstruction terms against those crops
            (``denoised_pairs.py``), so the decoder learns the teacher's latents. Needs
            ``train_decoder_only``.
        pair_count: number of such pairs, built once per run.
        pair_start_timesteps: DDPM timesteps (1-999) the teacher starts from, used in turn.
        pair_guidance: the teacher's classifier-free guidance scale.
        pair_weight: weight of the pair terms against the ordinary reconstruction terms.
        pair_student_dir: an exported consistency student of that teacher; when set, every second
            pair is finished by it instead, in one consistency step (the latents the student
            produces at run time; it helps the student most: docs/experiments.md).
        pair_student_timesteps: timesteps on the student's distillation grid, used in turn.
        generated_count: when above 0 (needs ``pair_teacher_dir``), this many latents sampled from
            pure noise by the pair teacher (DDIM 50 at ``pair_guidance``) and, for every second one
            with ``pair_student_dir``, by the student in one step (``generated_latents.py``); each
            step decodes ``batch_size`` of them for the target-free term below.
        generated_sliding_weight: weight of ``low_foot_sliding`` (m/s: horizontal foot speed above
            0.25 m/s while the foot is below 5 cm) on those decodings.
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    model: MotionVAEConfig = field(default_factory=MotionVAEConfig)
    feature_weight: float = 1.0
    root_feature_weight: float = 1.0
    position_feature_weight: float = 1.0
    rotation_feature_weight: float = 1.0
    velocity_feature_weight: float = 1.0
    contact_feature_weight: float = 1.0
    joint_weight: float = 1.0
    trajectory_weight: float = 0.0
    velocity_weight: float = 0.0
    joint_beta: float = 1.0
    kl_weight: float = 1e-4
    foot_contact_velocity_weight: float = 0.0
    acceleration_weight: float = 0.0
    init_from: str = ""
    train_decoder_only: bool = False
    pair_teacher_dir: str = ""
    pair_count: int = 2048
    pair_start_timesteps: tuple[int, ...] = (300, 500, 700)
    pair_guidance: float = 7.5
    pair_weight: float = 1.0
    pair_student_dir: str = ""
    pair_student_timesteps: tuple[int, ...] = (499, 759)
    generated_count: int = 0
    generated_sliding_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.train_decoder_only and not self.init_from:
            raise ValueError("train_decoder_only needs init_from (a trained VAE folder)")
        object.__setattr__(self, "pair_start_timesteps", tuple(int(t) for t in self.pair_start_timesteps))
        object.__setattr__(self, "pair_student_timesteps", tuple(int(t) for t in self.pair_student_timesteps))
        if self.pair_student_dir and not self.pair_teacher_dir:
            raise ValueError("pair_student_dir needs pair_teacher_dir (the student's teacher)")
        if self.pair_teacher_dir:
            if not self.train_decoder_only:
                raise ValueError("pair_teacher_dir needs train_decoder_only (the teacher lives in the encoder's space)")
            if self.pair_count < 1 or self.pair_weight < 0 or self.pair_guidance < 1:
                raise ValueError("need pair_count >= 1, pair_weight >= 0 and pair_guidance >= 1")
            if not self.pair_start_timesteps or not all(0 < t < 1000 for t in self.pair_start_timesteps):
                raise ValueError("pair_start_timesteps must be DDPM timesteps in 1-999")
        if self.generated_count < 0 or self.generated_sliding_weight < 0:
            raise ValueError("need generated_count and generated_sliding_weight >= 0")
        if self.generated_count and not self.pair_teacher_dir:
            raise ValueError("generated_count needs pair_teacher_dir (the generator of the latents)")


@dataclass(frozen=True)
class TeacherStageConfig:
    """Latent diffusion teacher training (epsilon prediction, text dropped with ``text_dropout``).

    The frozen VAE encodes ``bank_crops_per_clip`` random crops of every training clip once
    (``latent_bank.py``); steps sample latents from that bank. ``text_model``: None (the offline
    MiniLM) or a local sentence-transformers folder. ``init_from``: an exported teacher to fine-tune
    (same sizes). ``min_items_per_action``: repeat rare actions' bank items (``balancing.py``; 0: off).
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    vae_dir: str = "models/vae"
    text_model: str | None = None
    text_dropout: float = 0.1
    bank_crops_per_clip: int = 8
    init_from: str | None = None
    min_items_per_action: int = 0


@dataclass(frozen=True)
class StudentStageConfig:
    """Latent consistency distillation of a MotionLCM student from a trained teacher.

    The student and its EMA target start as copies of the teacher plus a zero-initialised guidance
    embedding; guidance follows the usual convention ``eps_u + w (eps_c - eps_u)`` (w = 1: none).

    Attributes:
        train: shared settings.
        teacher_dir: exported teacher (its VAE is ``vae_dir``, its text model is reused).
        vae_dir: the VAE the teacher was trained on.
        text_model: as ``TeacherStageConfig.text_model``; must name the teacher's text model.
        bank_dir: folder holding (or receiving) the latent bank; the teacher's run folder avoids
            encoding the bank again.
        bank_crops_per_clip: random crops per training clip in the latent bank.
        original_steps: size of the DDIM grid distilled on (skip k = 1000 / original_steps).
        guidance_min: smallest guidance scale drawn per item.
        guidance_max: largest guidance scale drawn per item.
        ema_decay: decay of the target network's exponential moving average.
        huber_c: pseudo-Huber constant (0.001 in MotionLCM V1, 0.5 in V2; latents have unit variance).
        step_table: {steps: {"timesteps": [...], "guidance": w}} saved with the student (default:
            ``consistency.default_step_table``).
        init_from: an exported student folder to start the student and its target from (a fine-tune;
            default: the teacher plus a zero guidance embedding). Its grid must be ``original_steps``.
        trajectory_count: when > 0, the teacher samples this many whole trajectories on the grid
            once per run (``teacher_trajectories.py``) and each step adds a term mapping ``batch_size``
            recorded states straight to their trajectories' endpoints.
        trajectory_timesteps: grid timesteps whose states are recorded (default: those of the default
            50-point step table).
        trajectory_guidance: the teacher's guidance scale for the trajectories (and the student's
            guidance input in that term).
        trajectory_weight: weight of that term against the consistency term.
        min_items_per_action: repeat rare actions' bank items (and trajectory captions) to at least
            this many (``balancing.py``; 0: as drawn).
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    teacher_dir: str = "models/teacher"
    vae_dir: str = "models/vae"
    text_model: str | None = None
    bank_dir: str | None = None
    bank_crops_per_clip: int = 8
    original_steps: int = 50
    guidance_min: float = 5.0
    guidance_max: float = 15.0
    ema_decay: float = 0.95
    huber_c: float = 0.5
    step_table: dict[str, dict[str, object]] | None = None
    init_from: str = ""
    trajectory_count: int = 0
    trajectory_timesteps: tuple[int, ...] = (999, 759, 499, 259)
    trajectory_guidance: float = 7.5
    trajectory_weight: float = 1.0
    min_items_per_action: int = 0

    def __post_init__(self) -> None:
        if not 1.0 <= self.guidance_min <= self.guidance_max:
            raise MotionLCMError("student: need 1 <= guidance_min <= guidance_max")
        if not 0.0 <= self.ema_decay < 1.0 or self.huber_c <= 0:
            raise MotionLCMError("student: need 0 <= ema_decay < 1 and huber_c > 0")
        object.__setattr__(self, "trajectory_timesteps", tuple(int(t) for t in self.trajectory_timesteps))
        if self.trajectory_count < 0 or self.trajectory_weight < 0 or self.trajectory_guidance < 1:
            raise MotionLCMError(
                "student: need trajectory_count >= 0, trajectory_weight >= 0 and trajectory_guidance >= 1"
            )
        if self.trajectory_count and not self.trajectory_timesteps:
            raise MotionLCMError("student: trajectory_timesteps must not be empty")


def _build(cls: type[T], values: object, where: str) -> T:
    if not isinstance(values, dict):
        raise MotionLCMError(f"{where}: expected an object")
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
        raise MotionLCMError(f"{where}: unknown fields {unknown}")
    kwargs = dict(values)
    if "train" in kwargs:
        kwargs["train"] = _build(TrainConfig, kwargs["train"], f"{where}.train")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise MotionLCMError(f"{where}: {error}") from None


def load_stage_config(cls: type[T], path: Path, model_cls: type) -> T:
    """Read a stage config JSON into ``cls`` with its ``model`` field built as ``model_cls``."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MotionLCMError(f"{path}: cannot read config ({error})") from None
    if "model" in raw:
        raw["model"] = _build(model_cls, raw["model"], f"{path}: model")
    return _build(cls, raw, str(path))


def load_flat_config(cls: type[T], path: Path) -> T:
    """Read a config JSON whose keys are exactly ``cls``'s fields (no ``train`` / ``model`` parts)."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MotionLCMError(f"{path}: cannot read config ({error})") from None
    return _build(cls, raw, str(path))


def config_to_dict(config: object) -> dict[str, object]:
    """JSON-serialisable form of a (nested) config dataclass."""
    return asdict(config)  # type: ignore[call-overload]
