"""How close a student's k-step latents are to the teacher's DDIM-50 latents from the same noise.

    python -m benchmarks.student_fidelity --data data/bandai --models models --students models/student

A consistency student should map pure noise where the teacher's sampler takes it. For captions of
a held-out split, the teacher samples with DDIM 50 and guidance 7.5 (its evaluation setting), and
each student given the same noise and captions samples with its 1-, 2- and 4-step tables. Reported
per student and step count, in the diffusion models' (unit-variance) latent space: the mean squared
distance to the teacher's latent for the same noise, that distance relative to the one between two
unrelated teacher samples (1 = no closer than a random sample), and the latents' mean square
(second moment) against the teacher's. No decoding, so it isolates the denoiser; docs/student.md
(*Eighth session*) used it to find why the 1-step student lagged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from benchmarks.report import emit
from motionlcm_node.data.dataset import HumanML3DDataset
from motionlcm_node.machine import machine_description
from motionlcm_node.model_store import load_student, load_teacher
from motionlcm_node.sampling.consistency import StepPlan, lcm_scheduler
from motionlcm_node.sampling.lcm_pipeline import consistency_sample
from motionlcm_node.sampling.pipeline import guided_ddim
from motionlcm_node.sampling.schedules import ddim_scheduler
from motionlcm_node.text_encoder import UNCONDITIONAL_TEXT
from motionlcm_node.training.text_vectors import dataset_text_vectors

GUIDANCE = 7.5


@torch.no_grad()
def run(data: Path, models: Path, students: list[Path], split: str, count: int, seed: int) -> dict[str, object]:
    """Distances per student and step count (see the module docstring); the same noise for all."""
    teacher = load_teacher(models / "teacher")
    text_vectors, _ = dataset_text_vectors(data)
    entries = HumanML3DDataset(data, split, min_length=24, max_length=196).entries
    captions = [entries[index % len(entries)].captions[0] for index in range(count)]
    text = text_vectors.encode(captions)
    unconditional = text_vectors.encode([UNCONDITIONAL_TEXT]).expand_as(text)
    config = teacher.denoiser.config
    noise = torch.randn(count, config.latent_tokens, config.latent_dim, generator=torch.Generator().manual_seed(seed))
    ddim = ddim_scheduler()
    ddim.set_timesteps(50)
    reference = guided_ddim(teacher.denoiser, ddim, noise, ddim.timesteps, text, unconditional, GUIDANCE)
    unrelated = (reference - reference.roll(1, dims=0)).square().mean().item()
    rows: dict[str, dict[str, float]] = {}
    for folder in students:
        student = load_student(folder)
        scheduler = lcm_scheduler(student.original_steps)
        for steps, plan in sorted(student.step_table.items()):
            generator = torch.Generator().manual_seed(seed + 1)
            at_teacher_guidance = StepPlan(plan.timesteps, GUIDANCE)
            latent = consistency_sample(student.denoiser, scheduler, noise, at_teacher_guidance, text, generator)
            distance = (latent - reference).square().mean().item()
            rows[f"{folder} | {steps}"] = {
                "distance": distance,
                "relative": distance / unrelated,
                "mean_square": latent.square().mean().item(),
            }
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_description(),
        "split": split,
        "captions": count,
        "teacher_mean_square": reference.square().mean().item(),
        "unrelated_distance": unrelated,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/bandai"), help="prepared dataset")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with teacher/")
    parser.add_argument("--students", type=Path, nargs="+", default=[Path("models/student")], help="student folders")
    parser.add_argument("--split", default="val", help="split whose captions are used (val)")
    parser.add_argument("--captions", type=int, default=256, help="captions (one sample each)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    args = parser.parse_args()
    report = run(args.data, args.models, list(args.students), args.split, args.captions, args.seed)
    header = ["student", "steps", "distance to teacher", "relative to unrelated samples", "mean square"]
    table = [
        [*name.split(" | "), f"{row['distance']:.3f}", f"{row['relative']:.2f}", f"{row['mean_square']:.2f}"]
        for name, row in report["rows"].items()
    ]
    emit(report, header, table)
    print(f"Teacher (DDIM 50, w = {GUIDANCE}): mean square {report['teacher_mean_square']:.2f}; "
          f"two unrelated teacher samples: distance {report['unrelated_distance']:.3f}.")  # fmt: skip


if __name__ == "__main__":
    main()
