"""Latent consistency distillation and the MotionLCM pipeline with tiny components."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import load_student
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer
from motionlcm_node.runtime.decoder import TorchFeatureDecoder
from motionlcm_node.runtime.denoiser import TorchDenoiser
from motionlcm_node.sampling.consistency import lcm_scheduler
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.sampling.output import lengths_from_seconds
from motionlcm_node.sampling.step_table import (
    StepPlan,
    default_step_table,
    grid_timesteps,
    step_table_from_dict,
    validate_step_table,
)
from motionlcm_node.text.encoder import CachedTextVectors
from motionlcm_node.training.config import StudentStageConfig, TrainConfig
from motionlcm_node.training.consistency_stage import ConsistencyPair, StudentStage, pseudo_huber
from tests.test_networks import TINY_DENOISER, TINY_VAE
from tests.tiny_models import write_tiny_models

TINY_STUDENT = TINY_DENOISER.__class__(**{**TINY_DENOISER.to_dict(), "guidance_embedding": True})


def test_grid_and_default_tables_match_motionlcm_v1() -> None:
    assert grid_timesteps(50)[:3] == [19, 39, 59] and grid_timesteps(50)[-1] == 999
    assert grid_timesteps(10) == [99, 199, 299, 399, 499, 599, 699, 799, 899, 999]
    table = default_step_table(50)
    assert table[1].timesteps == (999,) and table[2].timesteps == (999, 499)
    assert table[4].timesteps == (999, 759, 499, 259)
    validate_step_table(table, 50)
    assert step_table_from_dict({str(k): v.to_dict() for k, v in table.items()}) == table
    with pytest.raises(MotionLCMError, match="divide 1000"):
        grid_timesteps(30)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({2: StepPlan((499, 999), 7.5)}, "descending"),
        ({2: StepPlan((999,), 7.5)}, "descending"),
        ({1: StepPlan((998,), 7.5)}, "not on the distillation grid"),
        ({1: StepPlan((999,), -1.0)}, "negative guidance"),
    ],
)
def test_bad_step_tables_are_rejected(table: dict[int, StepPlan], message: str) -> None:
    with pytest.raises(MotionLCMError, match=message):
        validate_step_table(table, 50)


def test_scheduler_boundary_scalings_are_motionlcms() -> None:
    t = torch.tensor([0.0, 19.0, 999.0])
    c_skip, c_out = lcm_scheduler().get_scalings_for_boundary_condition_discrete(t)
    torch.testing.assert_close(c_skip, 0.25 / ((10 * t) ** 2 + 0.25))
    torch.testing.assert_close(c_out, 10 * t / ((10 * t) ** 2 + 0.25).sqrt())
    assert c_skip[0] == 1.0 and c_out[0] == 0.0  # the identity at t = 0: the boundary condition


def tiny_lcm_pipeline() -> MotionLCMPipeline:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    vectors = {s: rng.standard_normal(8).astype(np.float32) for s in ["", "walk", "wave"]}
    decoder = TorchFeatureDecoder(MotionVAE(TINY_VAE), FeatureNormalizer(torch.zeros(263), torch.ones(263)))
    student = TorchDenoiser(LatentDenoiser(TINY_STUDENT))
    return MotionLCMPipeline(student, CachedTextVectors(vectors), decoder, 1.0, default_step_table())


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_lcm_pipeline_honours_lengths_and_is_seeded(steps: int) -> None:
    pipeline = tiny_lcm_pipeline()
    first = pipeline(["walk", "wave"], [20, 36], num_steps=steps, generator=3)
    again = pipeline(["walk", "wave"], [20, 36], num_steps=steps, generator=np.random.default_rng(3))
    other = pipeline(["walk", "wave"], [20, 36], num_steps=steps, generator=4)
    assert first.features.shape == (2, 36, 263) and first.joints.shape == (2, 36, 22, 3)
    assert list(first.lengths) == [20, 36] and np.all(first.features[0, 20:] == 0)
    np.testing.assert_array_equal(first.joints, again.joints)
    assert not np.allclose(first.joints, other.joints)
    assert set(first.timings) == {"text", "denoise", "decode", "joints", "total"}
    seconds = pipeline(["walk"], seconds=[1.5], num_steps=steps)
    assert seconds.joints.shape[1] == 30


def test_lcm_pipeline_guidance_is_an_input() -> None:
    pipeline = tiny_lcm_pipeline()
    with torch.no_grad():
        pipeline.student.module.guidance_projection.weight.normal_()  # a trained student depends on w
    low = pipeline(["walk"], [16], guidance=2.0, generator=0)
    high = pipeline(["walk"], [16], guidance=12.0, generator=0)
    assert not np.allclose(low.features, high.features)


def test_lcm_pipeline_rejects_bad_requests() -> None:
    pipeline = tiny_lcm_pipeline()
    with pytest.raises(MotionLCMError, match="no plan for 3 steps"):
        pipeline(["walk"], [16], num_steps=3)
    with pytest.raises(MotionLCMError, match="exactly one"):
        pipeline(["walk"], [16], seconds=[1.0])
    with pytest.raises(MotionLCMError, match=r"more than the model's 196 \(9\.8 s\); ask for a shorter motion"):
        pipeline(["walk"], seconds=[30.0])
    with pytest.raises(MotionLCMError, match="positive"):
        lengths_from_seconds([float("nan")])
    with pytest.raises(MotionLCMError, match="lengths must be 4 to 196 frames"):
        pipeline(["walk"], [2])
    with pytest.raises(MotionLCMError, match="guidance embedding"):
        MotionLCMPipeline(TorchDenoiser(LatentDenoiser(TINY_DENOISER)), pipeline.text_encoder, pipeline.decoder,
                          1.0, default_step_table())  # fmt: skip


def test_pseudo_huber_and_ema_update() -> None:
    assert pseudo_huber(torch.zeros(3), torch.zeros(3), 0.5) == 0
    torch.testing.assert_close(pseudo_huber(torch.tensor([3.0]), torch.tensor([-1.0]), 3.0), torch.tensor(2.0))
    student = LatentDenoiser(TINY_STUDENT)
    pair = ConsistencyPair(student, LatentDenoiser(TINY_STUDENT))
    target_before = [p.clone() for p in pair.target.parameters()]
    pair.update_target(0.9)
    for before, after, source in zip(target_before, pair.target.parameters(), student.parameters(), strict=True):
        torch.testing.assert_close(after, 0.9 * before + 0.1 * source)
    pair.train()
    assert pair.student.training and not pair.target.training
    assert all(not p.requires_grad for p in pair.target.parameters())


@pytest.fixture
def tiny_models(prepared_fixture_dataset: Path, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    write_tiny_models(root, prepared_fixture_dataset, student=False)
    return root


def student_config(data: Path, models: Path, out: Path, **train: object) -> StudentStageConfig:
    settings = {"steps": 3, "batch_size": 4, "min_length": 16, "max_length": 32, "warmup_steps": 1,
                "num_threads": 1, "log_every": 1, "checkpoint_every": 2, **train}  # fmt: skip
    return StudentStageConfig(
        TrainConfig(data_dir=str(data), out_dir=str(out), **settings),
        teacher_dir=str(models / "teacher"), vae_dir=str(models / "vae"), bank_crops_per_clip=2,
    )  # fmt: skip


def test_student_starts_as_the_teacher_and_a_distillation_step_lowers_the_loss(
    prepared_fixture_dataset: Path, tiny_models: Path, tmp_path: Path
) -> None:
    from motionlcm_node.training.latent_bank import collate_latents

    torch.manual_seed(0)
    stage = StudentStage(student_config(prepared_fixture_dataset, tiny_models, tmp_path / "run"))
    pair = stage.build_model().eval()  # dropout off for the comparison
    latent, t, text = torch.randn(3, 2, 4), torch.tensor([999, 500, 19]), torch.randn(3, 384)
    teacher_out = stage.teacher(latent, t, text)
    torch.testing.assert_close(pair(latent, t, text, torch.full((3,), 9.0)), teacher_out)
    torch.testing.assert_close(pair.target(latent, t, text, torch.full((3,), 9.0)), teacher_out)

    batch = collate_latents([stage.bank[i] for i in range(8)])
    optimizer = torch.optim.AdamW(pair.student.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        torch.manual_seed(1)  # the same timesteps, guidance and noise every step: a fixed problem
        pair.train()
        loss, terms = stage.loss(pair, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert "huber" in terms and losses[-1] < 0.7 * losses[0]


def test_train_student_cli_resumes_and_exports_a_loadable_student(
    prepared_fixture_dataset: Path, tiny_models: Path, tmp_path: Path
) -> None:
    run = tmp_path / "student_run"
    config = student_config(prepared_fixture_dataset, tiny_models, run)
    path = tmp_path / "student.json"
    raw = json.loads(json.dumps(__import__("dataclasses").asdict(config)))
    path.write_text(json.dumps(raw))
    assert main(["train", "student", "--config", str(path), "--steps", "2"]) == 0
    assert main(["train", "student", "--config", str(path)]) == 0  # resumes at step 2 (target included)
    steps = [int(row.split(",")[0]) for row in (run / "log.csv").read_text().splitlines()[1:]]
    assert steps == [1, 2, 3]
    assert list(run.glob("latent_bank_*.safetensors"))  # encoded once into the run (no bank_dir)
    bundle = load_student(run / "model")
    assert bundle.denoiser.config.guidance_embedding and bundle.original_steps == 50
    assert bundle.step_table == default_step_table()
    # The shipped layout loads into the pipeline.
    (tiny_models / "student").symlink_to(run / "model")
    pipeline = MotionLCMPipeline.from_models(tiny_models)
    output = pipeline(["a person walks forward"], seconds=[1.0], num_steps=2)
    assert output.joints.shape == (1, 20, 22, 3) and np.all(np.isfinite(output.joints))


def test_student_config_errors_are_clear(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"train": {}, "guidance_min": 20.0, "guidance_max": 5.0}))
    assert main(["train", "student", "--config", str(path)]) != 0
    assert "guidance_min" in capsys.readouterr().err
