"""Training stages: what each model minimises and how it is exported.

* ``VAEStage``: smooth-L1 on normalised features + smooth-L1 on recovered pose, trajectory, joint
  velocities and the feet's pelvis-relative velocity on contact frames (metres, m/s) + KL, all
  masked over padding (MLD / MotionLCM recipe plus the velocity terms); optionally from a trained
  VAE with the encoder frozen, and then optionally also on latents a teacher finished
  (``denoised_pairs.py``) and, with no target, on latents the teacher and the student sampled from
  pure noise (``generated_latents.py``: ``motion_losses.low_foot_sliding``).
* ``TeacherStage``: epsilon prediction on VAE latents (scaled to unit variance) noised by the
  1000-step DDPM schedule, with the caption replaced by the empty sentence with probability
  ``text_dropout`` so the teacher also learns the unconditional model for guidance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import Dataset

from motionlcm_node.data.layout import (
    FEATURE_DIM,
    FOOT_CONTACTS,
    FPS,
    LOCAL_POSITIONS,
    LOCAL_ROTATIONS,
    LOCAL_VELOCITIES,
    ROOT_FEATURES,
)
from motionlcm_node.data.recovery_torch import recover_joints
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import load_vae
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer, save_normalizer
from motionlcm_node.sampling.schedules import training_scheduler
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT
from motionlcm_node.training.checkpoint import export_model
from motionlcm_node.training.config import TeacherStageConfig, VAEStageConfig, config_to_dict
from motionlcm_node.training.denoised_pairs import DenoisedPairs, cached_denoised_pairs
from motionlcm_node.training.generated_latents import GeneratedLatents, cached_generated_latents
from motionlcm_node.training.latent_bank import cached_bank, collate_latents, sample_latents
from motionlcm_node.training.loop import motion_text_dataset
from motionlcm_node.training.motion_losses import (
    acceleration_error,
    foot_contact_velocity_error,
    low_foot_sliding,
    masked_mean,
)
from motionlcm_node.training.text_vectors import dataset_text_vectors


def dataset_normalizer(data_dir: str | Path) -> FeatureNormalizer:
    """The Mean/Std of a prepared dataset as a ``FeatureNormalizer``."""
    import numpy as np

    root = Path(data_dir)
    return FeatureNormalizer(
        torch.from_numpy(np.load(root / "Mean.npy")).float(), torch.from_numpy(np.load(root / "Std.npy")).float()
    )


class VAEStage:
    """Motion VAE training stage."""

    def __init__(self, config: VAEStageConfig) -> None:
        self.config = config
        self.initial: MotionVAE | None = None
        self.new_head = False
        if config.init_from:
            self.initial, self.normalizer = load_vae(Path(config.init_from))
            initial = self.initial.config
            self.new_head = bool(config.model.smoothing_kernel) and not initial.smoothing_kernel
            comparable = replace(initial, smoothing_kernel=config.model.smoothing_kernel) if self.new_head else initial
            if comparable != config.model:
                raise MotionLCMError(
                    f"init_from {config.init_from} holds a VAE of config {initial}, not {config.model}"
                    " (only a smoothing head may be added)"
                )
        else:
            self.normalizer = dataset_normalizer(config.train.data_dir)
        self.pairs: DenoisedPairs | None = None
        if config.pair_teacher_dir and self.initial is not None:
            train = config.train
            settings = {"count": config.pair_count, "start_timesteps": list(config.pair_start_timesteps),
                        "guidance": config.pair_guidance, "seed": train.seed}  # fmt: skip
            student = Path(config.pair_student_dir) if config.pair_student_dir else None
            if student is not None:
                settings["student_timesteps"] = list(config.pair_student_timesteps)
            self.pairs = cached_denoised_pairs(
                self.initial, Path(config.init_from), Path(config.pair_teacher_dir), Path(train.data_dir),
                Path(train.out_dir), settings, train.min_length, train.max_length, student,
            )  # fmt: skip
        self.generated: GeneratedLatents | None = None
        if config.generated_count and self.initial is not None:
            train = config.train
            settings = {"count": config.generated_count, "guidance": config.pair_guidance, "seed": train.seed}
            student = Path(config.pair_student_dir) if config.pair_student_dir else None
            self.generated = cached_generated_latents(
                Path(config.pair_teacher_dir), Path(train.data_dir), Path(train.out_dir), settings,
                train.min_length, train.max_length, student,
            )  # fmt: skip
        self.feature_weights = torch.ones(FEATURE_DIM)
        for group, weight in (
            (ROOT_FEATURES, config.root_feature_weight),
            (LOCAL_POSITIONS, config.position_feature_weight),
            (LOCAL_ROTATIONS, config.rotation_feature_weight),
            (LOCAL_VELOCITIES, config.velocity_feature_weight),
            (FOOT_CONTACTS, config.contact_feature_weight),
        ):
            self.feature_weights[group] = weight

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """Motion-text pairs of the train split."""
        return motion_text_dataset(self.config.train)

    def build_model(self) -> nn.Module:
        """A fresh VAE, or a copy of ``init_from`` (with the encoder frozen if asked).

        ``model`` may add a ``smoothing_kernel`` head that ``init_from`` lacks: the new head's output
        layer starts at zero (the residual is the identity) and trains with the decoder, so step 0
        is ``init_from``.
        """
        model = MotionVAE(self.config.model)
        if self.initial is not None:
            missing, unexpected = model.load_state_dict(self.initial.state_dict(), strict=False)
            if unexpected or any(not name.startswith("smoothing.") for name in missing):
                raise MotionLCMError(f"init_from does not fit: missing {missing}, unexpected {unexpected}")
            if missing:  # a new smoothing head starts as the identity
                nn.init.zeros_(model.smoothing[-1].weight)
                nn.init.zeros_(model.smoothing[-1].bias)
        if self.config.train_decoder_only:
            model.freeze_encoder()
        return model

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """Reconstruction (features, pose, trajectory, velocities) and KL terms, plus the pair terms.

        With ``pair_teacher_dir``, as many teacher-finished latents as the batch has motions are
        decoded too, and ``pair_weight`` times their reconstruction terms (against the crops they
        came from) is added; the log shows them as ``pair``. With ``generated_count``, as many
        sampled latents are decoded for ``generated_sliding``.
        """
        motion, mask, lengths = batch["motion"], batch["mask"], batch["lengths"]
        reconstruction, mean, log_variance = model(motion, lengths)
        total, terms = self._reconstruction_loss(reconstruction, motion, mask)
        kl = -0.5 * torch.mean(1.0 + log_variance - mean.square() - log_variance.exp())
        total = total + self.config.kl_weight * kl
        terms["kl"] = kl
        if self.pairs is not None and self.config.pair_weight > 0:
            pairs = self.pairs.sample(len(lengths), motion.device)
            vae = getattr(model, "module", model)  # under DDP; one backward, so gradients still all-reduce
            decoded = vae.decode(pairs["latents"], pairs["lengths"], pairs["motion"].shape[1])
            pair_total, _ = self._reconstruction_loss(decoded, pairs["motion"], pairs["mask"])
            total = total + self.config.pair_weight * pair_total
            terms["pair"] = pair_total
        if self.generated is not None:
            total = total + self._generated_terms(model, len(lengths), motion.device, terms)
        return total, {name: value.item() for name, value in terms.items()}

    def _generated_terms(
        self, model: nn.Module, count: int, device: torch.device, terms: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """The sliding term on ``count`` decoded generated latents; adds it to ``terms``."""
        c, generated = self.config, self.generated.sample(count, device)
        latents, lengths, mask = generated["latents"], generated["lengths"], generated["mask"]
        decoded = getattr(model, "module", model).decode(latents, lengths, mask.shape[1])
        joints = recover_joints(self.normalizer.to(device).denormalize(decoded))
        sliding = low_foot_sliding(joints, mask[:, 1:] & mask[:, :-1])
        terms["generated_sliding"] = sliding
        return c.generated_sliding_weight * sliding

    def _reconstruction_loss(
        self, reconstruction: torch.Tensor, motion: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Weighted sum of the reconstruction terms of [B, T, 263] normalised features, and each term."""
        feature_error = functional.smooth_l1_loss(reconstruction, motion, reduction="none")
        feature_loss = masked_mean(feature_error * self.feature_weights.to(motion.device), mask)
        normalizer = self.normalizer.to(motion.device)
        joints = recover_joints(normalizer.denormalize(reconstruction))
        raw_motion = normalizer.denormalize(motion)
        target = recover_joints(raw_motion)
        c = self.config

        def joint_error(predicted: torch.Tensor, expected: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
            error = functional.smooth_l1_loss(predicted, expected, reduction="none", beta=c.joint_beta)
            return masked_mean(error, valid)

        pose_loss = joint_error(joints - joints[:, :, :1], target - target[:, :, :1], mask)
        trajectory_loss = joint_error(joints[:, :, 0], target[:, :, 0], mask)
        both_valid = mask[:, 1:] & mask[:, :-1]
        velocity_loss = joint_error(
            (joints[:, 1:] - joints[:, :-1]) * FPS, (target[:, 1:] - target[:, :-1]) * FPS, both_valid
        )
        contact = raw_motion[:, :-1, FOOT_CONTACTS] > 0.5
        foot_velocity_loss = foot_contact_velocity_error(joints, target, contact, both_valid)
        acceleration_loss = acceleration_error(joints, target, both_valid)
        total = (
            c.feature_weight * feature_loss
            + c.joint_weight * pose_loss
            + c.trajectory_weight * trajectory_loss
            + c.velocity_weight * velocity_loss
            + c.foot_contact_velocity_weight * foot_velocity_loss
            + c.acceleration_weight * acceleration_loss
        )
        terms = {"feature": feature_loss, "joint": pose_loss, "trajectory": trajectory_loss,
                 "velocity": velocity_loss, "foot_contact_velocity": foot_velocity_loss,
                 "acceleration": acceleration_loss}  # fmt: skip
        return total, terms

    def export(self, model: nn.Module, directory: Path) -> None:
        """Weights, network config and the feature statistics the VAE was trained with."""
        export_model(model, {"vae": self.config.model.to_dict()}, directory)
        save_normalizer(self.normalizer, directory / "normalizer.safetensors")

    def config_dict(self) -> dict[str, object]:
        """The stage configuration."""
        return config_to_dict(self.config)


class TeacherStage:
    """Latent diffusion teacher training stage (the VAE is frozen)."""

    def __init__(self, config: TeacherStageConfig) -> None:
        self.config = config
        self.vae, self.normalizer = load_vae(Path(config.vae_dir))
        self.vae.requires_grad_(False).eval()
        if self.vae.config.latent_tokens != config.model.latent_tokens or (
            self.vae.config.latent_dim != config.model.latent_dim
        ):
            raise ValueError("teacher latent size does not match the VAE's")
        self.text_vectors, self.text_model_id = dataset_text_vectors(config.train.data_dir, config.text_model)
        self.scheduler = training_scheduler()
        train = config.train
        self.bank = cached_bank(self.vae, Path(config.vae_dir), train, config.bank_crops_per_clip, Path(train.out_dir))
        # Unit-variance latents for the diffusion: 1 / std of the posterior means over the bank.
        self.latent_scale = float(1.0 / self.bank.means.std().clamp_min(1e-6))
        self.initial: LatentDenoiser | None = None
        if config.init_from:
            from motionlcm_node.loading.models import load_teacher

            initial = load_teacher(Path(config.init_from))
            if initial.denoiser.config != config.model or initial.text_model != self.text_model_id:
                raise MotionLCMError(f"init_from {config.init_from} has other sizes or another text model")
            self.initial, self.latent_scale = initial.denoiser, initial.latent_scale

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """The latent bank of the train split (encoded once, reused when the run resumes), balanced if asked."""
        if not self.config.min_items_per_action:
            return self.bank, collate_latents
        from motionlcm_node.training.balancing import RepeatedItems, balanced_order, bank_item_actions

        order = balanced_order(bank_item_actions(self.config.train, len(self.bank)), self.config.min_items_per_action)
        return RepeatedItems(self.bank, order), collate_latents

    def build_model(self) -> nn.Module:
        """A fresh denoiser, or ``init_from``'s weights."""
        model = LatentDenoiser(self.config.model)
        if self.initial is not None:
            model.load_state_dict(self.initial.state_dict())
        return model

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """Epsilon-prediction MSE at uniformly drawn timesteps."""
        texts = list(batch["texts"])
        latent = sample_latents(batch, self.latent_scale)
        device = latent.device
        drop = torch.rand(len(texts)) < self.config.text_dropout
        texts = [UNCONDITIONAL_TEXT if dropped else text for text, dropped in zip(texts, drop.tolist(), strict=True)]
        text = torch.from_numpy(self.text_vectors.encode(texts)).to(device)
        noise = torch.randn_like(latent)
        timesteps = torch.randint(0, self.scheduler.config.num_train_timesteps, (len(texts),), device=device)
        noisy = self.scheduler.add_noise(latent, noise, timesteps)
        loss = functional.mse_loss(model(noisy, timesteps, text), noise)
        return loss, {"mse": loss.item()}

    def export(self, model: nn.Module, directory: Path) -> None:
        """Weights and config (denoiser sizes, latent scale, text model, VAE folder)."""
        config = {
            "denoiser": self.config.model.to_dict(),
            "latent_scale": self.latent_scale,
            "text_model": self.text_model_id,
            "vae_dir": self.config.vae_dir,
        }
        export_model(model, config, directory)

    def config_dict(self) -> dict[str, object]:
        """The stage configuration."""
        return config_to_dict(self.config)
