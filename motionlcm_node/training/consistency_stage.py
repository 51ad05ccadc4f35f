"""Latent consistency distillation (LCD): a 1-4 step MotionLCM student from the diffusion teacher.

Per step, for a batch of VAE latents ``z0`` (unit-variance scale) with captions:

1. draw a grid index and noise ``z0`` to ``t_{n+k}`` (grid of ``original_steps`` DDIM timesteps,
   skip ``k``), draw a guidance scale ``w ~ U[guidance_min, guidance_max]`` per item;
2. the frozen teacher takes one guided DDIM step from ``t_{n+k}`` to ``t_n``;
3. the student at ``t_{n+k}`` and the EMA target at ``t_n`` each map their input to a clean latent
   through the boundary parameterisation ``c_skip x + c_out x0`` (diffusers' ``LCMScheduler``
   scalings: ``c_skip = 0.25 / ((10t)^2 + 0.25)``, ``c_out = 10t / sqrt((10t)^2 + 0.25)``);
4. the loss is the pseudo-Huber distance between the two; after the optimiser step the target moves
   towards the student by ``1 - ema_decay``.

Optionally (``trajectory_count``) a second pseudo-Huber term maps states of whole teacher
trajectories straight to their endpoints (``teacher_trajectories.py``), and ``init_from`` starts
from an exported student (a fine-tune).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import load_student, load_teacher, load_vae
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.sampling.consistency import consistency_output, lcm_scheduler
from motionlcm_node.sampling.schedules import training_scheduler
from motionlcm_node.sampling.step_table import (
    default_step_table,
    grid_timesteps,
    step_table_from_dict,
    validate_step_table,
)
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT
from motionlcm_node.training.checkpoint import export_model
from motionlcm_node.training.config import StudentStageConfig, config_to_dict
from motionlcm_node.training.latent_bank import cached_bank, collate_latents, sample_latents
from motionlcm_node.training.teacher_trajectories import (
    TeacherTrajectories,
    cached_teacher_trajectories,
    guided_grid_step,
)
from motionlcm_node.training.text_vectors import dataset_text_vectors


class ConsistencyPair(nn.Module):
    """The trained student and its EMA target, checkpointed together so a resumed run keeps both.

    ``forward`` is the student's (the only path with gradients, so DDP sees it); the target stays in
    eval mode and is only changed by ``update_target``.
    """

    def __init__(self, student: LatentDenoiser, target: LatentDenoiser) -> None:
        super().__init__()
        self.student = student
        self.target = target.requires_grad_(False).eval()

    def forward(
        self, latent: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor, guidance: torch.Tensor
    ) -> torch.Tensor:
        """The student's noise prediction."""
        return self.student(latent, timesteps, text, guidance)

    def train(self, mode: bool = True) -> ConsistencyPair:
        """Set the student's mode; the target always stays in eval mode (no dropout)."""
        super().train(mode)
        self.target.eval()
        return self

    @torch.no_grad()
    def update_target(self, decay: float) -> None:
        """``target = decay * target + (1 - decay) * student``."""
        for target, student in zip(self.target.parameters(), self.student.parameters(), strict=True):
            target.lerp_(student, 1.0 - decay)


def pseudo_huber(prediction: torch.Tensor, target: torch.Tensor, c: float) -> torch.Tensor:
    """Mean of ``sqrt((prediction - target)^2 + c^2) - c``."""
    return (torch.sqrt((prediction - target).square() + c * c) - c).mean()


class StudentStage:
    """Consistency distillation stage (the teacher and VAE are frozen; the bank is shared)."""

    def __init__(self, config: StudentStageConfig) -> None:
        self.config = config
        train = config.train
        teacher = load_teacher(Path(config.teacher_dir))
        self.teacher = teacher.denoiser.requires_grad_(False).eval()
        self.latent_scale = teacher.latent_scale
        vae, _ = load_vae(Path(config.vae_dir))
        if (vae.config.latent_tokens, vae.config.latent_dim) != (
            self.teacher.config.latent_tokens,
            self.teacher.config.latent_dim,
        ):
            raise MotionLCMError(f"{config.vae_dir} does not have the teacher's latent size")
        self.text_vectors, self.text_model_id = dataset_text_vectors(train.data_dir, config.text_model)
        if self.text_model_id != teacher.text_model:
            raise MotionLCMError(f"teacher was trained with {teacher.text_model}, not {self.text_model_id}")
        bank_dir = Path(config.bank_dir or train.out_dir)
        self.bank = cached_bank(
            vae.requires_grad_(False), Path(config.vae_dir), train, config.bank_crops_per_clip, bank_dir
        )
        self.grid = torch.tensor(grid_timesteps(config.original_steps))
        self.skip = 1000 // config.original_steps
        self.scheduler = training_scheduler()
        self.alphas_cumprod = self.scheduler.alphas_cumprod.float()
        self.consistency_scheduler = lcm_scheduler(config.original_steps)  # same alphas, boundary scalings
        raw_table = config.step_table
        self.step_table = step_table_from_dict(raw_table) if raw_table else default_step_table(config.original_steps)
        validate_step_table(self.step_table, config.original_steps)
        self.student_config = replace(self.teacher.config, guidance_embedding=True)
        self.initial: LatentDenoiser | None = None
        if config.init_from:
            initial = load_student(Path(config.init_from))
            if initial.original_steps != config.original_steps or initial.denoiser.config != self.student_config:
                raise MotionLCMError(f"init_from {config.init_from} is not a student of this teacher and grid")
            self.initial = initial.denoiser
        self.order = list(range(len(self.bank)))
        if config.min_items_per_action:
            from motionlcm_node.training.balancing import balanced_order, bank_item_actions

            self.order = balanced_order(bank_item_actions(train, len(self.bank)), config.min_items_per_action)
        self.trajectories: TeacherTrajectories | None = None
        if config.trajectory_count:
            settings = {
                "original_steps": config.original_steps, "record_timesteps": list(config.trajectory_timesteps),
                "count": config.trajectory_count, "guidance": config.trajectory_guidance, "seed": train.seed,
                "min_items_per_action": config.min_items_per_action,
            }  # fmt: skip
            captions = [self.bank.captions[index] for index in self.order]
            self.trajectories = cached_teacher_trajectories(
                self.teacher, Path(config.teacher_dir), self.alphas_cumprod, self.text_vectors, captions,
                Path(train.out_dir), settings,
            )  # fmt: skip

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """The latent bank of the train split (balanced with ``min_items_per_action``)."""
        if not self.config.min_items_per_action:
            return self.bank, collate_latents
        from motionlcm_node.training.balancing import RepeatedItems

        return RepeatedItems(self.bank, self.order), collate_latents

    def build_model(self) -> nn.Module:
        """Student and EMA target: ``init_from``'s student, or the teacher plus a zero guidance embedding."""
        student = LatentDenoiser(self.student_config)
        if self.initial is not None:
            student.load_state_dict(self.initial.state_dict())
            return ConsistencyPair(student, copy.deepcopy(student))
        result = student.load_state_dict(self.teacher.state_dict(), strict=False)
        if result.unexpected_keys or any(not key.startswith("guidance_projection") for key in result.missing_keys):
            raise MotionLCMError(f"teacher weights do not fit the student: {result}")
        return ConsistencyPair(student, copy.deepcopy(student))

    def _consistency(self, sample: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """``c_skip x + c_out x0(x, eps)`` (``consistency.consistency_output``)."""
        return consistency_output(self.consistency_scheduler, sample, noise, timesteps)

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """Pseudo-Huber distance between the student at ``t_{n+k}`` and the target at ``t_n``."""
        pair: ConsistencyPair = getattr(model, "module", model)
        texts = list(batch["texts"])
        latent = sample_latents(batch, self.latent_scale)
        device, size = latent.device, len(texts)
        text = torch.from_numpy(self.text_vectors.encode(texts)).to(device)
        unconditional = torch.from_numpy(self.text_vectors.encode([UNCONDITIONAL_TEXT])).to(device).expand_as(text)
        start = self.grid[torch.randint(len(self.grid), (size,))].to(device)
        previous = (start - self.skip).clamp_min(0)
        c = self.config
        guidance = torch.empty(size, device=device).uniform_(c.guidance_min, c.guidance_max)
        noisy = self.scheduler.add_noise(latent, torch.randn_like(latent), start)

        prediction = self._consistency(noisy, model(noisy, start, text, guidance), start)
        with torch.no_grad():
            self.teacher.to(device)
            stepped, _ = guided_grid_step(
                self.teacher, self.alphas_cumprod, noisy, start, previous, text, unconditional, guidance
            )
            target = self._consistency(stepped, pair.target(stepped, previous, text, guidance), previous)
        loss = pseudo_huber(prediction, target, c.huber_c)
        logs = {"huber": loss.item()}
        if self.trajectories is not None:
            trajectory_loss = self._trajectory_loss(model, size, device)
            logs["trajectory"] = trajectory_loss.item()
            loss = loss + c.trajectory_weight * trajectory_loss
        return loss, logs

    def _trajectory_loss(self, model: nn.Module, size: int, device: torch.device) -> torch.Tensor:
        """Pseudo-Huber distance between the student's clean latent at recorded states and their endpoints."""
        draw = self.trajectories.sample(size)
        latent, timesteps = draw["latent"].to(device), draw["timesteps"].to(device)
        text = torch.from_numpy(self.text_vectors.encode(draw["texts"])).to(device)
        prediction = self._consistency(latent, model(latent, timesteps, text, draw["guidance"].to(device)), timesteps)
        return pseudo_huber(prediction, draw["endpoints"].to(device), self.config.huber_c)

    def after_step(self, model: nn.Module) -> None:
        """EMA update of the target after each optimiser step."""
        getattr(model, "module", model).update_target(self.config.ema_decay)

    def export(self, model: nn.Module, directory: Path) -> None:
        """The student's weights and what sampling needs (latent scale, grid, step table, text model)."""
        pair: ConsistencyPair = getattr(model, "module", model)
        config = {
            "denoiser": self.student_config.to_dict(),
            "latent_scale": self.latent_scale,
            "text_model": self.text_model_id,
            "vae_dir": self.config.vae_dir,
            "teacher_dir": self.config.teacher_dir,
            "original_steps": self.config.original_steps,
            "step_table": {str(steps): plan.to_dict() for steps, plan in sorted(self.step_table.items())},
        }
        export_model(pair.student, config, directory)

    def config_dict(self) -> dict[str, object]:
        """The stage configuration."""
        return config_to_dict(self.config)
