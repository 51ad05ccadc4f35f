"""Latents a generator sampled from pure noise, for target-free decoder terms (``low_foot_sliding``).

Denoised pairs (``denoised_pairs.py``) keep a right answer by starting the teacher from a noised
encoding, so they never show the decoder a latent the teacher made from nothing, which is what
``generate`` and ``motionlcm eval`` decode. These are such latents: the teacher's DDIM 50 samples
with classifier-free guidance from pure noise and, for every second one when a student is given,
the student's 1-step samples, each for the caption and length of a random training crop. There is
no motion to compare them with, so only terms that need no target apply to their decodings.

Built once per run from a seeded generator and cached beside it as safetensors, keyed by the
teacher's (and student's) weight digests and the settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from motionlcm_node.data.dataset import HumanML3DDataset
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.sampling.consistency import consistency_output, lcm_scheduler
from motionlcm_node.sampling.guidance import guided_ddim
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT
from motionlcm_node.training.cache_keys import cache_file, load_or_build
from motionlcm_node.training.denoised_pairs import DDIM_STEPS, load_generators

LOGGER = logging.getLogger(__name__)


@dataclass
class GeneratedLatents:
    """N sampled VAE ``latents`` [N, L, D] (unscaled) and the ``lengths`` [N] (frames) to decode them to."""

    latents: torch.Tensor
    lengths: torch.Tensor

    def __post_init__(self) -> None:
        if len(self.latents) != len(self.lengths) or len(self.latents) == 0:
            raise MotionLCMError("generated latents: need the same, non-zero number of latents and lengths")

    def __len__(self) -> int:
        return len(self.latents)

    def sample(self, count: int, device: torch.device | str) -> dict[str, torch.Tensor]:
        """``count`` random latents (torch's global generator): ``latents`` [B, L, D], ``lengths``, ``mask`` [B, T]."""
        pick = torch.randint(len(self), (count,))
        lengths = self.lengths[pick]
        mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
        return {"latents": self.latents[pick].to(device), "lengths": lengths.to(device), "mask": mask.to(device)}

    def save(self, path: Path) -> None:
        """Write the latents as safetensors."""
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({"latents": self.latents.contiguous(), "lengths": self.lengths.contiguous()}, str(path))

    @classmethod
    def load(cls, path: Path) -> GeneratedLatents:
        """Read latents written by ``save``."""
        tensors = load_file(str(path))
        return cls(tensors["latents"], tensors["lengths"])


@torch.no_grad()
def build_generated_latents(
    teacher_dir: Path,
    dataset: HumanML3DDataset,
    data_dir: Path,
    count: int,
    guidance: float,
    seed: int,
    batch_size: int = 256,
    student_dir: Path | None = None,
) -> GeneratedLatents:
    """Sample ``count`` latents from pure noise for the captions and lengths of random training crops.

    Args:
        teacher_dir: the exported teacher (DDIM 50 with classifier-free guidance).
        dataset: training clips (their random crops give the captions and lengths).
        data_dir: the prepared dataset (for its cached caption vectors).
        count: number of latents.
        guidance: classifier-free guidance scale of the teacher (and the student's guidance input).
        seed: seed of the crops, captions and noise.
        batch_size: latents per batch.
        student_dir: an exported consistency student of the same teacher; when given, every second
            latent is its 1-step sample instead (from the first timestep of its 1-step plan).

    Returns:
        The latents in the VAE's (unscaled) latent space, with their lengths.
    """
    teacher, text_vectors, student = load_generators(teacher_dir, data_dir, student_dir, "generated latents")
    ddim = ddim_scheduler()
    ddim.set_timesteps(DDIM_STEPS)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the dataset's random crops and caption choices
    indices = torch.randint(len(dataset), (count,), generator=generator).tolist()
    config = teacher.denoiser.config
    if student is not None:
        if 1 not in student.step_table:
            raise MotionLCMError("generated latents: the student's step table has no 1-step plan")
        student_start, consistency = student.step_table[1].timesteps[0], lcm_scheduler(student.original_steps)
    latents, lengths = [], []
    for first in tqdm(range(0, count, batch_size), desc="generated latents", unit="batch"):
        items = [dataset[i] for i in indices[first : first + batch_size]]
        text = torch.from_numpy(text_vectors.encode([str(item["text"]) for item in items]))
        noise = torch.randn(len(items), config.latent_tokens, config.latent_dim, generator=generator)
        sampled = torch.empty_like(noise)
        by_student = torch.tensor([student is not None and (first + row) % 2 == 1 for row in range(len(items))])
        rows = torch.nonzero(~by_student).flatten()
        if len(rows):
            unconditional = torch.from_numpy(text_vectors.encode([UNCONDITIONAL_TEXT])).expand(len(rows), -1)
            start = noise[rows] * ddim.init_noise_sigma
            sampled[rows] = guided_ddim(
                teacher.denoiser, ddim, start, ddim.timesteps, text[rows], unconditional, guidance
            )
        rows = torch.nonzero(by_student).flatten()
        if student is not None and len(rows):
            timesteps = torch.full((len(rows),), student_start)
            predicted = student.denoiser(noise[rows], timesteps, text[rows], torch.full((len(rows),), guidance))
            sampled[rows] = consistency_output(consistency, noise[rows], predicted, timesteps)
        latents.append(sampled / teacher.latent_scale)
        lengths.append(torch.tensor([int(item["length"]) for item in items], dtype=torch.long))
    return GeneratedLatents(torch.cat(latents), torch.cat(lengths))


def cached_generated_latents(
    teacher_dir: Path,
    data_dir: Path,
    folder: Path,
    settings: dict[str, object],
    min_length: int,
    max_length: int,
    student_dir: Path | None = None,
) -> GeneratedLatents:
    """``build_generated_latents`` on the train split, read from ``folder`` or built and saved there.

    Args:
        teacher_dir: the exported teacher.
        data_dir: the prepared dataset.
        folder: the run folder.
        settings: ``count``, ``guidance`` and ``seed`` (also part of the key).
        min_length: shortest clip, frames.
        max_length: crop length cap, frames.
        student_dir: the optional student (its weights join the key).
    """
    sources = [teacher_dir] + ([student_dir] if student_dir is not None else [])
    path = cache_file(folder, "generated_latents", sources, {**settings, "min": min_length, "max": max_length})

    def build() -> GeneratedLatents:
        dataset = HumanML3DDataset(data_dir, "train", min_length=min_length, max_length=max_length)
        latents = build_generated_latents(
            teacher_dir, dataset, data_dir, int(settings["count"]), float(settings["guidance"]),
            int(settings["seed"]), student_dir=student_dir,
        )  # fmt: skip
        LOGGER.info("%d generated latents built; saving to %s", len(latents), path)
        return latents

    return load_or_build(path, GeneratedLatents.load, build)
