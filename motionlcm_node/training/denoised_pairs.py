"""Pairs of (latent a generator finished, real motion) for adapting a VAE decoder to generated latents.

The teacher's samples are not the encoder's latents: decoded, they skate and jitter more than
reconstructions do (docs/experiments.md). To show the decoder such latents with a
known right answer, a pair is built SDEdit-style from a training crop: encode it (posterior mean),
noise the latent to a DDIM timestep ``t_start``, and let the teacher finish the DDIM trajectory
from there with classifier-free guidance and the crop's caption. The result is a latent of the
kind the teacher produces that still means the crop (the larger ``t_start``, the more the teacher's
own, and the less the crop's), and the decoder learns to decode it to the crop. Optionally every
second pair is finished by a consistency student in one step from a timestep of its grid instead,
so the decoder also sees the student's latents.

Built once per run from a seeded generator and cached beside it as safetensors (a resumed run
reads it back), keyed by digests of the VAE and teacher weights and the settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import StudentBundle, TeacherBundle, load_student, load_teacher
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.sampling.consistency import consistency_output, lcm_scheduler
from motionlcm_node.sampling.guidance import guided_ddim
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.sampling.step_table import grid_timesteps
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT, CachedTextVectors, text_model_folder
from motionlcm_node.training.cache_keys import cache_file, load_or_build
from motionlcm_node.training.text_vectors import dataset_text_vectors

LOGGER = logging.getLogger(__name__)
DDIM_STEPS = 50  # the grid the teacher samples on (its evaluation and latency setting)


@dataclass
class DenoisedPairs:
    """N pairs: normalised ``motion`` [N, T, 263], ``lengths`` [N] (frames), VAE ``latents`` [N, L, D]."""

    motion: torch.Tensor
    lengths: torch.Tensor
    latents: torch.Tensor

    def __post_init__(self) -> None:
        if not len(self.motion) == len(self.lengths) == len(self.latents) or len(self.motion) == 0:
            raise MotionLCMError("denoised pairs: need the same, non-zero number of motions, lengths and latents")

    def __len__(self) -> int:
        return len(self.motion)

    def sample(self, count: int, device: torch.device | str) -> dict[str, torch.Tensor]:
        """``count`` random pairs (torch's global generator) as a batch, cropped to its longest motion.

        Returns:
            ``motion`` [B, T, 263], ``mask`` [B, T] (True = valid), ``lengths`` [B], ``latents`` [B, L, D].
        """
        pick = torch.randint(len(self), (count,))
        lengths = self.lengths[pick]
        frames = int(lengths.max())
        mask = torch.arange(frames)[None, :] < lengths[:, None]
        batch = {"motion": self.motion[pick, :frames], "mask": mask, "lengths": lengths, "latents": self.latents[pick]}
        return {name: value.to(device) for name, value in batch.items()}

    def save(self, path: Path) -> None:
        """Write the pairs as safetensors."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"motion": self.motion, "lengths": self.lengths, "latents": self.latents}
        save_file({name: value.contiguous() for name, value in tensors.items()}, str(path))

    @classmethod
    def load(cls, path: Path) -> DenoisedPairs:
        """Read pairs written by ``save``."""
        tensors = load_file(str(path))
        return cls(tensors["motion"], tensors["lengths"], tensors["latents"])


def load_generators(
    teacher_dir: Path, data_dir: Path, student_dir: Path | None, what: str
) -> tuple[TeacherBundle, CachedTextVectors, StudentBundle | None]:
    """The teacher, the dataset's caption vectors and the optional student, checked to belong together.

    The captions are encoded by the teacher's own text model (the default MiniLM or a
    ``minilm-first<N>`` cut of it, ``text_models.py``).

    Raises:
        MotionLCMError: a teacher text model this package cannot rebuild, or a student not distilled
            from this teacher (text model or latent scale differ).
    """
    teacher = load_teacher(teacher_dir)
    # text_model_folder returns a folder of exactly this id (or raises), so the vectors are the teacher's.
    text_vectors, _ = dataset_text_vectors(data_dir, str(text_model_folder(teacher.text_model)))
    student = load_student(student_dir) if student_dir is not None else None
    if student is not None and (student.text_model, student.latent_scale) != (teacher.text_model, teacher.latent_scale):
        raise MotionLCMError(f"{what}: the student was not distilled from this teacher")
    return teacher, text_vectors, student


def grid_start(timesteps: torch.Tensor, start: int) -> int:
    """The largest timestep of the DDIM grid ``timesteps`` (descending) at or below ``start``."""
    below = timesteps[timesteps <= start]
    if len(below) == 0:
        raise MotionLCMError(f"denoised pairs: no DDIM timestep at or below {start}")
    return int(below[0])


def _teacher_finish(
    teacher: TeacherBundle, clean: torch.Tensor, text: torch.Tensor, unconditional: torch.Tensor,
    start: int, guidance: float, generator: torch.Generator,
) -> torch.Tensor:  # fmt: skip
    """Scaled latents [B, L, D] noised to DDIM grid timestep ``start`` and finished by DDIM 50 + CFG."""
    scheduler = ddim_scheduler()
    scheduler.set_timesteps(DDIM_STEPS)
    noise = torch.randn(clean.shape, generator=generator)
    latent = scheduler.add_noise(clean, noise, torch.tensor([start]))
    tail = scheduler.timesteps[scheduler.timesteps <= start]
    return guided_ddim(teacher.denoiser, scheduler, latent, tail, text, unconditional, guidance)


def _student_finish(
    student: StudentBundle, clean: torch.Tensor, text: torch.Tensor, start: int, guidance: float,
    generator: torch.Generator,
) -> torch.Tensor:  # fmt: skip
    """Scaled latents [B, L, D] noised to grid timestep ``start`` and mapped to t = 0 in one consistency step."""
    scheduler = lcm_scheduler(student.original_steps)
    noise = torch.randn(clean.shape, generator=generator)
    timesteps = torch.full((len(clean),), start)
    latent = scheduler.add_noise(clean, noise, timesteps)
    predicted = student.denoiser(latent, timesteps, text, torch.full((len(latent),), guidance))
    return consistency_output(scheduler, latent, predicted, timesteps)


@torch.no_grad()
def build_denoised_pairs(
    vae: MotionVAE,
    teacher_dir: Path,
    dataset: HumanML3DDataset,
    data_dir: Path,
    count: int,
    start_timesteps: list[int],
    guidance: float,
    seed: int,
    batch_size: int = 256,
    student_dir: Path | None = None,
    student_timesteps: list[int] | None = None,
) -> DenoisedPairs:
    """Encode ``count`` random crops and let the teacher (and the student) finish their noised latents.

    Args:
        vae: the VAE whose encoder the teacher was trained on (its encoder is used, frozen).
        teacher_dir: the exported teacher.
        dataset: training clips (random crops, normalised features).
        data_dir: the prepared dataset (for its cached caption vectors).
        count: number of pairs.
        start_timesteps: DDPM timesteps (0-999) the teacher starts from, assigned to its pairs in
            turn; each is rounded down to the 50-step DDIM grid.
        guidance: classifier-free guidance scale of the teacher (and the student's guidance input).
        seed: seed of the crops, captions and noise.
        batch_size: pairs per batch.
        student_dir: an exported consistency student of the same teacher; when given, every second
            pair is finished by it instead, in one consistency step from ``student_timesteps``.
        student_timesteps: timesteps on the student's distillation grid, used in turn.

    Returns:
        The pairs, latents in the VAE's (unscaled) latent space.
    """
    teacher, text_vectors, student = load_generators(teacher_dir, data_dir, student_dir, "denoised pairs")
    if student is not None:
        grid = grid_timesteps(student.original_steps)
        if not student_timesteps or not set(student_timesteps) <= set(grid):
            raise MotionLCMError(f"denoised pairs: student timesteps {student_timesteps} are not on its grid")
    ddim = ddim_scheduler()
    ddim.set_timesteps(DDIM_STEPS)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the dataset's random crops and caption choices
    indices = torch.randint(len(dataset), (count,), generator=generator).tolist()
    plan = []  # (finisher, start) per pair
    for index in range(count):
        if student is not None and index % 2 == 1:
            plan.append(("student", student_timesteps[(index // 2) % len(student_timesteps)]))
        else:
            turn = index // 2 if student is not None else index
            plan.append(("teacher", grid_start(ddim.timesteps, start_timesteps[turn % len(start_timesteps)])))
    motions, lengths, latents = [], [], []
    vae.eval()
    for first in tqdm(range(0, count, batch_size), desc="denoised pairs", unit="batch"):
        chunk = list(range(first, min(first + batch_size, count)))
        batch = collate_motion([dataset[indices[i]] for i in chunk])
        clean = vae.encode(batch["motion"], batch["lengths"])[0] * teacher.latent_scale
        text = torch.from_numpy(text_vectors.encode(batch["texts"]))
        unconditional = torch.from_numpy(text_vectors.encode([UNCONDITIONAL_TEXT])).expand_as(text)
        finished = torch.empty_like(clean)
        for key in sorted({plan[i] for i in chunk}):
            rows = torch.tensor([row for row, i in enumerate(chunk) if plan[i] == key])
            finisher, start = key
            if finisher == "teacher":
                finished[rows] = _teacher_finish(
                    teacher, clean[rows], text[rows], unconditional[rows], start, guidance, generator
                )
            else:
                finished[rows] = _student_finish(student, clean[rows], text[rows], start, guidance, generator)
        padded = torch.zeros(len(chunk), dataset.max_length, batch["motion"].shape[-1])
        padded[:, : batch["motion"].shape[1]] = batch["motion"]
        motions.append(padded)
        lengths.append(batch["lengths"])
        latents.append(finished / teacher.latent_scale)
    return DenoisedPairs(torch.cat(motions), torch.cat(lengths), torch.cat(latents))


def cached_denoised_pairs(
    vae: MotionVAE,
    vae_dir: Path,
    teacher_dir: Path,
    data_dir: Path,
    folder: Path,
    settings: dict[str, object],
    min_length: int,
    max_length: int,
    student_dir: Path | None = None,
) -> DenoisedPairs:
    """``build_denoised_pairs`` of the train split, read from ``folder`` or built and saved there.

    Args:
        vae: the loaded VAE of ``vae_dir``.
        vae_dir: its folder (its weights are part of the cache key).
        teacher_dir: the exported teacher.
        data_dir: the prepared dataset.
        folder: the run folder.
        settings: ``count``, ``start_timesteps``, ``guidance``, ``seed`` and, with a student,
            ``student_timesteps`` (also part of the key).
        min_length: shortest clip, frames.
        max_length: crop length cap, frames.
        student_dir: the optional student (its weights join the key).
    """
    sources = [vae_dir, teacher_dir] + ([student_dir] if student_dir is not None else [])
    path = cache_file(folder, "denoised_pairs", sources, {**settings, "min": min_length, "max": max_length})

    def build() -> DenoisedPairs:
        dataset = HumanML3DDataset(data_dir, "train", min_length=min_length, max_length=max_length)
        pairs = build_denoised_pairs(
            vae, teacher_dir, dataset, data_dir, int(settings["count"]), list(settings["start_timesteps"]),
            float(settings["guidance"]), int(settings["seed"]), student_dir=student_dir,
            student_timesteps=list(settings.get("student_timesteps", [])) or None,
        )  # fmt: skip
        LOGGER.info("%d denoised pairs built; saving to %s", len(pairs), path)
        return pairs

    return load_or_build(path, DenoisedPairs.load, build)
