"""The teacher's whole sampling trajectories on the distillation grid, as endpoint targets for the student.

Latent consistency distillation only ever compares the student with its own EMA target one teacher
step further down the grid, so a 1-step sample is the end of a chain of ``original_steps`` such
links, each learned to a tolerance; at ``t = 999`` an epsilon error is amplified ``1 / sqrt(a_t)``
(~15x) in the clean latent. Measured on the validation captions (docs/experiments.md): the
distilled 1-step student's latents were over-dispersed (mean square 2.0 against the teacher's 1.1)
and as far from the teacher's own sample for the same noise as two unrelated samples are from each
other.

So the teacher runs its guided solver (the same DDIM step the distillation uses, on the same grid,
starting at ``t = 999``) from pure noise to the end for many training captions; the states at a
few timesteps (those of the step table) and the final clean latent are kept. The student stage can
then add a term that maps each recorded state straight to its trajectory's endpoint: the defining
property of a consistency function, with an exact target instead of a bootstrapped one. Built once
per run from a seeded generator and cached beside it as safetensors, keyed by the teacher's weight
digest and the settings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.sampling.consistency import clean_latent
from motionlcm_node.sampling.guidance import guided_noise
from motionlcm_node.sampling.step_table import grid_timesteps
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT, CachedTextVectors
from motionlcm_node.training.cache_keys import cache_file, load_or_build

LOGGER = logging.getLogger(__name__)


def guided_grid_step(
    teacher: LatentDenoiser,
    alphas_cumprod: torch.Tensor,
    latent: torch.Tensor,
    timesteps: torch.Tensor,
    previous: torch.Tensor,
    text: torch.Tensor,
    unconditional: torch.Tensor,
    guidance: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One DDIM step with classifier-free guidance, per item, from ``timesteps`` to ``previous``.

    Args:
        teacher: the noise predictor.
        alphas_cumprod: [1000] cumulative alphas of the training schedule.
        latent: [B, L, D] scaled latents at ``timesteps``.
        timesteps: [B] current DDPM timesteps.
        previous: [B] timesteps to step to (0 for the last step).
        text: [B, dim] sentence vectors.
        unconditional: [B, dim] vectors of the empty sentence.
        guidance: [B] guidance scales ``w`` (``eps_u + w (eps_c - eps_u)``).

    Returns:
        The stepped latents [B, L, D] and the guided clean-latent estimate [B, L, D] at ``timesteps``.
    """
    guided = guided_noise(teacher, latent, timesteps, text, unconditional, guidance)
    clean = clean_latent(alphas_cumprod, latent, guided, timesteps)
    alpha_previous = alphas_cumprod.to(latent.device)[previous].view(-1, 1, 1)
    return alpha_previous.sqrt() * clean + (1.0 - alpha_previous).sqrt() * guided, clean


@dataclass
class TeacherTrajectories:
    """N trajectories: ``states`` [N, S, L, D] at ``timesteps`` [S], ``endpoints`` [N, L, D], ``texts``.

    Latents are scaled (the diffusion models' space); ``guidance`` [N] is the teacher's scale.
    """

    states: torch.Tensor
    timesteps: torch.Tensor
    endpoints: torch.Tensor
    guidance: torch.Tensor
    texts: list[str]

    def __post_init__(self) -> None:
        count = len(self.states)
        if count == 0 or not count == len(self.endpoints) == len(self.guidance) == len(self.texts):
            raise MotionLCMError("teacher trajectories: need the same, non-zero number of states, endpoints and texts")
        if self.states.shape[1] != len(self.timesteps):
            raise MotionLCMError("teacher trajectories: one state per recorded timestep")

    def __len__(self) -> int:
        return len(self.states)

    def sample(self, count: int) -> dict[str, object]:
        """``count`` random (trajectory, recorded timestep) draws (torch's global generator).

        Returns:
            ``latent`` [B, L, D] states, ``timesteps`` [B], ``endpoints`` [B, L, D], ``guidance`` [B]
            and ``texts`` (B captions).
        """
        rows = torch.randint(len(self), (count,))
        columns = torch.randint(len(self.timesteps), (count,))
        return {
            "latent": self.states[rows, columns],
            "timesteps": self.timesteps[columns],
            "endpoints": self.endpoints[rows],
            "guidance": self.guidance[rows],
            "texts": [self.texts[int(row)] for row in rows],
        }

    def save(self, path: Path) -> None:
        """Tensors as safetensors, captions as JSON beside them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"states": self.states, "timesteps": self.timesteps, "endpoints": self.endpoints,
                   "guidance": self.guidance}  # fmt: skip
        save_file({name: value.contiguous() for name, value in tensors.items()}, str(path))
        path.with_suffix(".json").write_text(json.dumps(self.texts))

    @classmethod
    def load(cls, path: Path) -> TeacherTrajectories:
        """Read trajectories written by ``save``."""
        tensors = load_file(str(path))
        texts = json.loads(path.with_suffix(".json").read_text())
        return cls(tensors["states"], tensors["timesteps"], tensors["endpoints"], tensors["guidance"], texts)


@torch.no_grad()
def build_teacher_trajectories(
    teacher: LatentDenoiser,
    alphas_cumprod: torch.Tensor,
    text_vectors: CachedTextVectors,
    captions: list[list[str]],
    original_steps: int,
    record_timesteps: list[int],
    count: int,
    guidance: float,
    seed: int,
    batch_size: int = 256,
) -> TeacherTrajectories:
    """Sample ``count`` teacher trajectories from pure noise at 999 down the distillation grid.

    Args:
        teacher: the frozen noise predictor (eval mode).
        alphas_cumprod: [1000] cumulative alphas of the training schedule.
        text_vectors: sentence vectors of every caption.
        captions: caption options per training crop; each trajectory takes a random crop's random
            caption.
        original_steps: size of the distillation grid (the teacher steps ``1000 / original_steps``).
        record_timesteps: grid timesteps whose states are kept.
        count: number of trajectories.
        guidance: the teacher's classifier-free guidance scale.
        seed: seed of the captions and the noise.
        batch_size: trajectories per batch.
    """
    grid = grid_timesteps(original_steps)
    if not record_timesteps or not set(record_timesteps) <= set(grid):
        raise MotionLCMError(
            f"teacher trajectories: timesteps {record_timesteps} are not on the {original_steps}-point grid"
        )
    record = sorted(set(record_timesteps), reverse=True)
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(captions), (count,), generator=generator).tolist()
    texts = [captions[p][int(torch.randint(len(captions[p]), (), generator=generator))] for p in picks]
    skip = 1000 // original_steps
    config = teacher.config
    states, endpoints = [], []
    for first in tqdm(range(0, count, batch_size), desc="teacher trajectories", unit="batch"):
        chunk = texts[first : first + batch_size]
        text = torch.from_numpy(text_vectors.encode(chunk))
        unconditional = torch.from_numpy(text_vectors.encode([UNCONDITIONAL_TEXT])).expand_as(text)
        scales = torch.full((len(chunk),), guidance)
        latent = torch.randn(len(chunk), config.latent_tokens, config.latent_dim, generator=generator)
        kept = []
        for timestep in reversed(grid):
            if timestep in record:
                kept.append(latent)
            now = torch.full((len(chunk),), timestep)
            latent, clean = guided_grid_step(
                teacher, alphas_cumprod, latent, now, (now - skip).clamp_min(0), text, unconditional, scales
            )
        states.append(torch.stack(kept, dim=1))
        endpoints.append(clean)
    return TeacherTrajectories(
        torch.cat(states), torch.tensor(record), torch.cat(endpoints), torch.full((count,), guidance), texts
    )


def cached_teacher_trajectories(
    teacher: LatentDenoiser,
    teacher_dir: Path,
    alphas_cumprod: torch.Tensor,
    text_vectors: CachedTextVectors,
    captions: list[list[str]],
    folder: Path,
    settings: dict[str, object],
) -> TeacherTrajectories:
    """``build_teacher_trajectories`` read from ``folder`` or built and saved there.

    Args:
        teacher: the loaded teacher of ``teacher_dir``.
        teacher_dir: its folder (its weights are part of the cache key).
        alphas_cumprod: [1000] cumulative alphas of the training schedule.
        text_vectors: sentence vectors of every caption.
        captions: caption options per training crop (their digest joins the key).
        folder: the run folder.
        settings: ``original_steps``, ``record_timesteps``, ``count``, ``guidance`` and ``seed``.
    """
    key = {"settings": settings, "captions": captions}
    path = cache_file(folder, "teacher_trajectories", [teacher_dir], key)

    def build() -> TeacherTrajectories:
        trajectories = build_teacher_trajectories(
            teacher, alphas_cumprod, text_vectors, captions, int(settings["original_steps"]),
            list(settings["record_timesteps"]), int(settings["count"]), float(settings["guidance"]),
            int(settings["seed"]),
        )  # fmt: skip
        LOGGER.info("%d teacher trajectories built; saving to %s", len(trajectories), path)
        return trajectories

    return load_or_build(path, TeacherTrajectories.load, build)
