"""Teacher trajectories as endpoint targets, and the student stage's fine-tune options."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import load_student
from motionlcm_node.sampling.schedules import training_scheduler
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT, CachedTextVectors
from motionlcm_node.training import teacher_trajectories
from motionlcm_node.training.config import StudentStageConfig
from motionlcm_node.training.consistency_stage import StudentStage
from motionlcm_node.training.teacher_trajectories import (
    TeacherTrajectories,
    build_teacher_trajectories,
    cached_teacher_trajectories,
)
from tests.test_consistency import student_config
from tests.tiny_models import write_tiny_models

ALPHAS = training_scheduler().alphas_cumprod.float()
CAPTIONS = [["a person walks"], ["a person jumps", "someone hops"]]
VECTORS = CachedTextVectors({text: torch.randn(8) for text in ["a person walks", "a person jumps", "someone hops",
                                                                 UNCONDITIONAL_TEXT]})  # fmt: skip


class ExactNoiseTeacher(nn.Module):
    """Predicts the exact noise of a latent that was made from the fixed clean latent ``target``."""

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target
        self.config = SimpleNamespace(latent_tokens=target.shape[0], latent_dim=target.shape[1])

    def forward(self, latent: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        alpha = ALPHAS[timesteps].view(-1, 1, 1)
        return (latent - alpha.sqrt() * self.target) / (1.0 - alpha).sqrt()


@pytest.fixture
def tiny_models(prepared_fixture_dataset: Path, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    write_tiny_models(root, prepared_fixture_dataset, student=False)
    return root


def build(teacher: nn.Module, count: int = 5, seed: int = 0, timesteps: tuple[int, ...] = (999, 499, 259)):
    return build_teacher_trajectories(teacher, ALPHAS, VECTORS, CAPTIONS, 50, list(timesteps), count, 7.5, seed, 2)


def test_an_exact_teacher_ends_at_its_clean_latent_along_one_noise_direction() -> None:
    target = torch.randn(3, 4)
    trajectories = build(ExactNoiseTeacher(target))
    assert trajectories.states.shape == (5, 3, 3, 4) and trajectories.timesteps.tolist() == [999, 499, 259]
    torch.testing.assert_close(trajectories.endpoints, target.expand(5, 3, 4), atol=1e-4, rtol=0)
    # DDIM with the exact noise keeps the noise direction of the start: x_t = sqrt(a) x0 + sqrt(1 - a) eps.
    alpha = ALPHAS[trajectories.timesteps].view(1, -1, 1, 1)
    noise = (trajectories.states[:, :1] - alpha[:, :1].sqrt() * target) / (1 - alpha[:, :1]).sqrt()
    expected = alpha.sqrt() * target + (1 - alpha).sqrt() * noise
    torch.testing.assert_close(trajectories.states, expected, atol=1e-4, rtol=0)
    assert set(trajectories.texts) <= {"a person walks", "a person jumps", "someone hops"}
    assert torch.all(trajectories.guidance == 7.5)


def test_trajectories_are_seeded_saved_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    teacher = ExactNoiseTeacher(torch.randn(3, 4))
    first, again, other = build(teacher), build(teacher), build(teacher, seed=1)
    assert torch.equal(first.states, again.states) and first.texts == again.texts
    assert not torch.equal(first.states, other.states)
    first.save(tmp_path / "t.safetensors")
    loaded = TeacherTrajectories.load(tmp_path / "t.safetensors")
    assert torch.equal(loaded.endpoints, first.endpoints) and loaded.texts == first.texts

    weights = tmp_path / "teacher" / "model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"weights")
    settings = {"original_steps": 50, "record_timesteps": [999, 499], "count": 3, "guidance": 7.5, "seed": 0}
    made = cached_teacher_trajectories(teacher, weights.parent, ALPHAS, VECTORS, CAPTIONS, tmp_path, settings)
    monkeypatch.setattr(teacher_trajectories, "build_teacher_trajectories", None)  # a rebuild would fail
    read = cached_teacher_trajectories(teacher, weights.parent, ALPHAS, VECTORS, CAPTIONS, tmp_path, settings)
    assert torch.equal(made.states, read.states)
    draw = read.sample(7)
    assert draw["latent"].shape == (7, 3, 4) and set(draw["timesteps"].tolist()) <= {999, 499}


def test_off_grid_timesteps_are_rejected() -> None:
    with pytest.raises(MotionLCMError, match="not on the 50-point grid"):
        build(ExactNoiseTeacher(torch.randn(3, 4)), timesteps=(999, 500))


@pytest.fixture
def distilled(prepared_fixture_dataset: Path, tiny_models: Path, tmp_path: Path) -> StudentStageConfig:
    """The config of a one-step distillation run through the CLI (its student is in ``out_dir/model``)."""
    base = student_config(prepared_fixture_dataset, tiny_models, tmp_path / "base", steps=1)
    path = tmp_path / "base.json"
    path.write_text(json.dumps(dataclasses.asdict(base)))
    assert main(["train", "student", "--config", str(path)]) == 0
    return base


def test_student_fine_tune_with_trajectories_through_the_cli(
    distilled: StudentStageConfig, prepared_fixture_dataset: Path, tiny_models: Path, tmp_path: Path
) -> None:
    tuned = dataclasses.replace(
        student_config(prepared_fixture_dataset, tiny_models, tmp_path / "tuned", steps=2),
        init_from=str(tmp_path / "base" / "model"), trajectory_count=4, trajectory_timesteps=(999, 499),
    )  # fmt: skip
    stage = StudentStage(tuned)
    pair = stage.build_model()
    initial = load_student(tmp_path / "base" / "model").denoiser
    weights = zip(pair.student.state_dict().values(), initial.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in weights)
    assert len(stage.trajectories) == 4 and stage.trajectories.timesteps.tolist() == [999, 499]

    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(dataclasses.asdict(tuned)))
    assert main(["train", "student", "--config", str(path)]) == 0
    header = (tmp_path / "tuned" / "log.csv").read_text().splitlines()[0].split(",")
    assert {"huber", "trajectory"} <= set(header)
    assert len(list((tmp_path / "tuned").glob("teacher_trajectories_*.safetensors"))) == 1
    assert load_student(tmp_path / "tuned" / "model").original_steps == 50


def test_init_from_must_be_a_student_of_the_same_grid(distilled: StudentStageConfig) -> None:
    coarse = dataclasses.replace(distilled, original_steps=25, init_from=str(Path(distilled.train.out_dir) / "model"))
    with pytest.raises(MotionLCMError, match="not a student of this teacher and grid"):
        StudentStage(coarse)
    with pytest.raises(MotionLCMError, match="trajectory_count"):
        dataclasses.replace(distilled, trajectory_count=-1)
