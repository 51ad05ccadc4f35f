"""Training stages and the loop on the committed clips: resume, export, DDP, configs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from motionlcm_node.cli.main import main
from motionlcm_node.loading.models import load_teacher, load_vae
from motionlcm_node.networks.config import MotionVAEConfig
from motionlcm_node.training.config import VAEStageConfig, load_stage_config

TINY_TRAIN = {"steps": 3, "batch_size": 4, "min_length": 16, "max_length": 32, "warmup_steps": 1,
              "num_threads": 1, "log_every": 1, "checkpoint_every": 2}  # fmt: skip
TINY_VAE = {"latent_tokens": 2, "latent_dim": 4, "width": 32, "heads": 2, "ff_width": 64, "num_layers": 3,
            "temporal_patch": 4}  # fmt: skip


def write_config(path: Path, data: Path, out: Path, **extra: object) -> Path:
    path.write_text(json.dumps({"train": {**TINY_TRAIN, "data_dir": str(data), "out_dir": str(out)}, **extra}))
    return path


def read_log(run: Path) -> list[dict[str, str]]:
    with (run / "log.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_vae_trains_checkpoints_resumes_and_exports(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "vae"
    config = write_config(tmp_path / "vae.json", prepared_fixture_dataset, run, model=TINY_VAE)
    assert main(["train", "vae", "--config", str(config)]) == 0
    assert json.loads((run / "checkpoint" / "state.json").read_text())["step"] == 3
    assert [row["step"] for row in read_log(run)] == ["1", "2", "3"]
    assert {"feature", "joint", "kl"} <= set(read_log(run)[0])
    # Resume: continue the same run to 5 steps.
    assert main(["train", "vae", "--config", str(config), "--steps", "5"]) == 0
    assert [row["step"] for row in read_log(run)] == ["1", "2", "3", "4", "5"]
    assert json.loads((run / "checkpoint" / "state.json").read_text())["step"] == 5
    vae, normalizer = load_vae(run / "model")
    assert vae.config == MotionVAEConfig.from_dict(TINY_VAE)
    assert normalizer.mean.shape == (263,)
    saved = json.loads((run / "config.json").read_text())
    assert saved["train"]["steps"] == 5 and saved["kl_weight"] == 1e-4


def test_vae_loss_decreases_on_a_fixed_batch(prepared_fixture_dataset: Path) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.stages import VAEStage

    torch.manual_seed(0)
    stage = VAEStage(VAEStageConfig(TrainConfig(data_dir=str(prepared_fixture_dataset)), MotionVAEConfig(**TINY_VAE)))
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)
    batch = collate_motion([dataset[i] for i in range(4)])
    model = stage.build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss, _ = stage.loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_vae_feature_group_weights_scale_their_features_only(prepared_fixture_dataset: Path) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
    from motionlcm_node.data.layout import LOCAL_POSITIONS
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.stages import VAEStage

    train = TrainConfig(data_dir=str(prepared_fixture_dataset))
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)
    batch = collate_motion([dataset[i] for i in range(3)])
    torch.manual_seed(0)
    model = VAEStage(VAEStageConfig(train, MotionVAEConfig(**TINY_VAE))).build_model().eval()

    def feature_term(**weights: float) -> float:
        stage = VAEStage(VAEStageConfig(train, MotionVAEConfig(**TINY_VAE), kl_weight=0.0, **weights))
        torch.manual_seed(1)  # the same posterior sample each time
        return stage.loss(model, batch)[1]["feature"]

    plain = feature_term()
    without_positions = feature_term(position_feature_weight=0.0)
    doubled_positions = feature_term(position_feature_weight=2.0)
    positions_share = plain - without_positions
    assert 0 < positions_share < plain
    assert doubled_positions == pytest.approx(plain + positions_share, rel=1e-5)
    only_positions = feature_term(root_feature_weight=0.0, rotation_feature_weight=0.0, velocity_feature_weight=0.0,
                                  contact_feature_weight=0.0)  # fmt: skip
    assert only_positions == pytest.approx(positions_share, rel=1e-5)
    assert LOCAL_POSITIONS.stop - LOCAL_POSITIONS.start == 63


def test_foot_contact_velocity_term_sees_feet_sliding_against_the_pelvis_only(prepared_fixture_dataset: Path) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
    from motionlcm_node.data.layout import FOOT_CONTACTS
    from motionlcm_node.data.recovery_torch import recover_joints
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.motion_losses import foot_contact_velocity_error
    from motionlcm_node.training.stages import VAEStage

    stage = VAEStage(VAEStageConfig(TrainConfig(data_dir=str(prepared_fixture_dataset)), MotionVAEConfig(**TINY_VAE)))
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)
    batch = collate_motion([dataset[i] for i in range(3)])
    target = recover_joints(stage.normalizer.denormalize(batch["motion"]))
    both_valid = batch["mask"][:, 1:] & batch["mask"][:, :-1]
    contact = stage.normalizer.denormalize(batch["motion"])[:, :-1, FOOT_CONTACTS] > 0.5
    assert contact[..., :2].any()  # the left foot is planted somewhere, so a sliding left foot must count

    def term(joints: torch.Tensor) -> float:
        return foot_contact_velocity_error(joints, target, contact, both_valid).item()

    assert term(target) == 0.0
    drifting = target.clone()
    drifting[:, :, [7, 10]] += torch.arange(target.shape[1])[None, :, None, None] * torch.tensor([0.05, 0.0, 0.0])
    assert term(drifting) > 0.0  # left foot slides 1 m/s
    walking = target + torch.arange(target.shape[1])[None, :, None, None] * torch.tensor([0.05, 0.0, 0.0])
    assert term(walking) == pytest.approx(0.0, abs=1e-6)  # whole body


def test_acceleration_term_sees_jitter_but_not_steady_motion() -> None:
    from motionlcm_node.training.motion_losses import acceleration_error

    torch.manual_seed(0)
    target = torch.randn(2, 12, 22, 3).cumsum(dim=1) * 0.01
    valid = torch.ones(2, 11, dtype=torch.bool)
    assert acceleration_error(target, target, valid) == 0.0
    frames = torch.arange(12, dtype=target.dtype)[None, :, None, None]
    steady = target + frames * torch.tensor([0.05, 0.0, -0.02])  # constant extra velocity: no acceleration
    assert acceleration_error(steady, target, valid) == pytest.approx(0.0, abs=1e-9)
    jitter = target + 0.005 * (-1.0) ** frames  # 5 mm even/odd alternation: 40 m/s^2 at 20 fps
    assert acceleration_error(jitter, target, valid) > 1.0
    padded = valid.clone()
    padded[:, 6:] = False  # frames 7.. are padding: jitter there must not count
    late = target.clone()
    late[:, 8:] += jitter[:, 8:] - target[:, 8:]
    assert acceleration_error(late, target, padded) == 0.0


def test_decoder_fine_tune_can_add_a_smoothing_head(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.stages import VAEStage

    base = tmp_path / "vae"
    assert main(["train", "vae", "--config", str(write_config(tmp_path / "a.json", prepared_fixture_dataset, base,
                                                               model=TINY_VAE))]) == 0  # fmt: skip
    smoothed = {**TINY_VAE, "smoothing_kernel": 3}
    stage = VAEStage(VAEStageConfig(TrainConfig(data_dir=str(prepared_fixture_dataset)),
                                    MotionVAEConfig(**smoothed), init_from=str(base / "model"),
                                    train_decoder_only=True))  # fmt: skip
    model, (before, _) = stage.build_model().eval(), load_vae(base / "model")
    latent, lengths = torch.randn(2, 2, 4), torch.tensor([20, 13])
    with torch.no_grad():  # the new head starts as the identity
        torch.testing.assert_close(model.decode(latent, lengths), before.decode(latent, lengths))
    tuned = tmp_path / "smoothed"
    config = write_config(tmp_path / "b.json", prepared_fixture_dataset, tuned, model=smoothed,
                          init_from=str(base / "model"), train_decoder_only=True, acceleration_weight=0.01)  # fmt: skip
    assert main(["train", "vae", "--config", str(config)]) == 0
    after, _ = load_vae(tuned / "model")
    assert after.config.smoothing_kernel == 3 and "acceleration" in read_log(tuned)[0]
    assert after.smoothing[-1].in_channels == TINY_VAE["width"]
    assert not torch.equal(after.smoothing[-1].weight, torch.zeros_like(after.smoothing[-1].weight))
    # Continuing from the smoothed VAE keeps its trained head.
    again = VAEStage(VAEStageConfig(TrainConfig(data_dir=str(prepared_fixture_dataset)),
                                    MotionVAEConfig(**smoothed), init_from=str(tuned / "model"),
                                    train_decoder_only=True)).build_model().eval()  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(again.decode(latent, lengths), after.eval().decode(latent, lengths))


def test_decoder_only_fine_tune_keeps_the_encoder(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    base = tmp_path / "vae"
    assert main(["train", "vae", "--config", str(write_config(tmp_path / "a.json", prepared_fixture_dataset, base,
                                                               model=TINY_VAE))]) == 0  # fmt: skip
    tuned = tmp_path / "decoder"
    config = write_config(tmp_path / "b.json", prepared_fixture_dataset, tuned, model=TINY_VAE,
                          init_from=str(base / "model"), train_decoder_only=True,
                          foot_contact_velocity_weight=1.0)  # fmt: skip
    assert main(["train", "vae", "--config", str(config)]) == 0
    (before, normalizer), (after, tuned_normalizer) = load_vae(base / "model"), load_vae(tuned / "model")
    changed = {name for name, value in after.state_dict().items() if not torch.equal(value, before.state_dict()[name])}
    assert changed and all(name.startswith(("decoder", "latent_input")) for name in changed)
    torch.testing.assert_close(tuned_normalizer.std, normalizer.std)
    assert "foot_contact_velocity" in read_log(tuned)[0]
    other = write_config(tmp_path / "c.json", prepared_fixture_dataset, tmp_path / "x",
                         model={**TINY_VAE, "latent_dim": 8}, init_from=str(base / "model"))  # fmt: skip
    assert main(["train", "vae", "--config", str(other)]) == 2  # a different network: a clear error


def fine_tune_tiny_decoder(dataset: Path, tmp_path: Path, **fields: object) -> tuple[Path, Path, Path]:
    """Tiny models, then one decoder-only fine-tune of their VAE with ``fields``: (models, run folder, config)."""
    from tests.tiny_models import write_tiny_models

    models = tmp_path / "models"
    write_tiny_models(models, dataset, student=True)
    vae_config = json.loads((models / "vae" / "config.json").read_text())["vae"]
    tuned = tmp_path / "tuned"
    config = write_config(tmp_path / "tune.json", dataset, tuned, model=vae_config, init_from=str(models / "vae"),
                          train_decoder_only=True, pair_teacher_dir=str(models / "teacher"),
                          pair_student_dir=str(models / "student"), **fields)  # fmt: skip
    assert main(["train", "vae", "--config", str(config)]) == 0
    return models, tuned, config


def assert_resume_reads_the_cache(tuned: Path, config: Path, prefix: str) -> None:
    """A resumed run finds the one cache file ``prefix_*.safetensors`` and does not rebuild it."""
    cached = list(tuned.glob(f"{prefix}_*.safetensors"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert main(["train", "vae", "--config", str(config), "--steps", "4"]) == 0
    assert list(tuned.glob(f"{prefix}_*.safetensors")) == cached and cached[0].stat().st_mtime_ns == stamp


def test_decoder_fine_tune_on_teacher_finished_pairs(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    models, tuned, config = fine_tune_tiny_decoder(
        prepared_fixture_dataset, tmp_path, pair_count=5, pair_start_timesteps=[200, 900], pair_student_timesteps=[499]
    )
    log = read_log(tuned)
    assert "pair" in log[0] and all(float(row["pair"]) > 0 for row in log)
    (before, _), (after, _) = load_vae(models / "vae"), load_vae(tuned / "model")
    changed = {name for name, value in after.state_dict().items() if not torch.equal(value, before.state_dict()[name])}
    assert changed and all(name.startswith(("decoder", "latent_input")) for name in changed)
    assert_resume_reads_the_cache(tuned, config, "denoised_pairs")


def test_decoder_fine_tune_with_the_sliding_term_on_generated_latents(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.training.stages import VAEStage

    _, tuned, config = fine_tune_tiny_decoder(prepared_fixture_dataset, tmp_path, pair_count=4, generated_count=6,
                                              generated_sliding_weight=1.0)  # fmt: skip
    log = read_log(tuned)
    assert all(float(row["generated_sliding"]) >= 0 for row in log)
    stage = VAEStage(load_stage_config(VAEStageConfig, config, MotionVAEConfig))
    terms: dict[str, torch.Tensor] = {}
    stage._generated_terms(stage.build_model().eval(), 4, torch.device("cpu"), terms)  # eval: no dropout
    assert terms["generated_sliding"].item() >= 0.0
    assert_resume_reads_the_cache(tuned, config, "generated_latents")


def test_generated_latents_are_seeded_and_every_second_is_the_students(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset
    from motionlcm_node.errors import MotionLCMError
    from motionlcm_node.training.generated_latents import build_generated_latents
    from tests.tiny_models import write_tiny_models

    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset, student=True)
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)

    def build(student: bool, seed: int = 3) -> torch.Tensor:
        generated = build_generated_latents(models / "teacher", dataset, prepared_fixture_dataset, 6, 7.5, seed,
                                            student_dir=models / "student" if student else None)  # fmt: skip
        assert generated.latents.shape == (6, 2, 4) and torch.isfinite(generated.latents).all()
        assert 16 <= int(generated.lengths.min()) and int(generated.lengths.max()) <= 32
        return generated.latents

    both, teacher_only = build(True), build(False)
    assert torch.equal(both, build(True)) and not torch.equal(both, build(True, seed=4))
    assert torch.equal(both[0::2], teacher_only[0::2])  # same noise, same teacher samples
    assert not torch.allclose(both[1::2], teacher_only[1::2])  # the student's one step instead
    student_config = json.loads((models / "student" / "config.json").read_text())
    del student_config["step_table"]["1"]
    (models / "student" / "config.json").write_text(json.dumps(student_config))
    with pytest.raises(MotionLCMError, match="no 1-step plan"):
        build(True)


def test_denoised_pairs_keep_the_crop_when_started_low_and_not_when_started_high(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset
    from motionlcm_node.errors import MotionLCMError
    from motionlcm_node.training.denoised_pairs import build_denoised_pairs, grid_start
    from tests.tiny_models import write_tiny_models

    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset, student=False)
    vae, _ = load_vae(models / "vae")
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)

    def relative_distance(start: int) -> float:
        pairs = build_denoised_pairs(vae, models / "teacher", dataset, prepared_fixture_dataset, 8, [start], 7.5, 3)
        assert pairs.motion.shape == (8, 32, 263) and int(pairs.lengths.max()) <= 32
        for row, length in enumerate(pairs.lengths.tolist()):  # the crop, zero after its length
            assert pairs.motion[row, :length].abs().sum() > 0 and not pairs.motion[row, length:].any()
        with torch.no_grad():
            clean = torch.stack([vae.encode(pairs.motion[row : row + 1, :length], pairs.lengths[row : row + 1])[0][0]
                                 for row, length in enumerate(pairs.lengths.tolist())])  # fmt: skip
        return float(((pairs.latents - clean).norm(dim=(1, 2)) / clean.norm(dim=(1, 2))).mean())

    low, high = relative_distance(1), relative_distance(999)
    assert low < 0.1 < 0.5 < high  # same seed: the crops are the same, only the start differs
    timesteps = torch.tensor([981, 961, 21, 1])
    assert grid_start(timesteps, 999) == 981 and grid_start(timesteps, 960) == 21 and grid_start(timesteps, 1) == 1
    with pytest.raises(MotionLCMError, match="no DDIM timestep"):
        grid_start(timesteps, 0)


def test_student_finished_pairs_are_the_schedulers_one_step_output(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.data.dataset import HumanML3DDataset
    from motionlcm_node.errors import MotionLCMError
    from motionlcm_node.loading.models import load_student
    from motionlcm_node.sampling.consistency import lcm_scheduler
    from motionlcm_node.training.denoised_pairs import _student_finish, build_denoised_pairs
    from tests.tiny_models import write_tiny_models

    models = tmp_path / "models"
    write_tiny_models(models, prepared_fixture_dataset, student=True)
    student = load_student(models / "student")
    clean, text = torch.randn(3, 2, 4), torch.randn(3, 384)
    with torch.no_grad():
        ours = _student_finish(student, clean, text, 499, 7.5, torch.Generator().manual_seed(5))
        scheduler = lcm_scheduler(student.original_steps)
        scheduler.set_timesteps(timesteps=[499])
        noisy = scheduler.add_noise(clean, torch.randn(clean.shape, generator=torch.Generator().manual_seed(5)),
                                    torch.tensor([499]))  # fmt: skip
        predicted = student.denoiser(noisy, torch.full((3,), 499), text, torch.full((3,), 7.5))
        expected = scheduler.step(predicted, scheduler.timesteps[0], noisy).denoised
    torch.testing.assert_close(ours, expected)

    vae, _ = load_vae(models / "vae")
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=32)
    both = build_denoised_pairs(vae, models / "teacher", dataset, prepared_fixture_dataset, 6, [1], 7.5, 3,
                                student_dir=models / "student", student_timesteps=[19, 999])  # fmt: skip
    teacher_only = build_denoised_pairs(vae, models / "teacher", dataset, prepared_fixture_dataset, 6, [1], 7.5, 3)
    torch.testing.assert_close(both.motion, teacher_only.motion)  # same crops
    near = (both.latents - teacher_only.latents).norm(dim=(1, 2)) / teacher_only.latents.norm(dim=(1, 2))
    assert near[0::2].max() < 0.1  # teacher pairs from t = 1 in both
    assert near[1] < near[3]  # student from t = 19 keeps the crop, from t = 999 it does not
    with pytest.raises(MotionLCMError, match="not on its grid"):
        build_denoised_pairs(vae, models / "teacher", dataset, prepared_fixture_dataset, 2, [1], 7.5, 3,
                             student_dir=models / "student", student_timesteps=[500])  # fmt: skip


def test_teacher_and_evaluator_stages_train_on_cached_sentence_vectors(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    vae_run = tmp_path / "vae"
    vae_config = write_config(tmp_path / "vae.json", prepared_fixture_dataset, vae_run, model=TINY_VAE)
    assert main(["train", "vae", "--config", str(vae_config)]) == 0
    teacher_model = {"latent_tokens": 2, "latent_dim": 4, "width": 32, "heads": 2, "ff_width": 64, "num_layers": 3}
    teacher_config = write_config(
        tmp_path / "teacher.json", prepared_fixture_dataset, tmp_path / "teacher",
        model=teacher_model, vae_dir=str(vae_run / "model"),
    )  # fmt: skip
    assert main(["train", "teacher", "--config", str(teacher_config)]) == 0
    bundle = load_teacher(tmp_path / "teacher" / "model")
    assert bundle.latent_scale > 0 and bundle.text_model.startswith("model-")
    assert (prepared_fixture_dataset / "text_vectors").is_dir()  # cached for later stages
    evaluator_model = {"latent_dim": 16, "width": 32, "num_layers": 1, "num_heads": 2, "ff_dim": 64,
                       "text_hidden_dim": 32}  # fmt: skip
    evaluator_config = write_config(
        tmp_path / "evaluator.json", prepared_fixture_dataset, tmp_path / "evaluator", model=evaluator_model
    )
    assert main(["train", "evaluator", "--config", str(evaluator_config)]) == 0
    assert "batch_top1" in read_log(tmp_path / "evaluator")[0]


def test_ddp_on_cpu_with_two_processes(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "ddp"
    config = write_config(tmp_path / "vae.json", prepared_fixture_dataset, run, model=TINY_VAE)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "motionlcm_node.cli.main", "train", "vae", "--config", str(config)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run / "checkpoint" / "state.json").read_text())["step"] == 3
    assert (run / "model" / "model.safetensors").is_file()
    assert len(read_log(run)) == 3  # only rank 0 logs


@pytest.mark.parametrize(
    ("device", "processes", "gpus", "expected"),
    [("auto", 1, 0, False), ("auto", 1, 1, True), ("auto", 2, 1, False), ("auto", 2, 2, True),
     ("cpu", 1, 1, False), ("cuda", 1, 1, True), ("cuda", 2, 1, None), ("cuda", 1, 0, None)],
)  # fmt: skip
def test_processes_take_cuda_only_with_one_device_each(device: str, processes: int, gpus: int, expected) -> None:
    from motionlcm_node.errors import MotionLCMError
    from motionlcm_node.training.loop import uses_cuda

    if expected is None:
        with pytest.raises(MotionLCMError, match="one process per device"):
            uses_cuda(device, processes, gpus)
    else:
        assert uses_cuda(device, processes, gpus) is expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"train": {"steps": 0}}, "positive"),
        ({"train": {"stpes": 3}}, "unknown fields"),
        ({"model": {"num_layers": 4}}, "odd"),
        ({"kl": 1}, "unknown fields"),
        ({"train_decoder_only": True}, "needs init_from"),
        ({"init_from": "x", "pair_teacher_dir": "t"}, "needs train_decoder_only"),
        ({"init_from": "x", "train_decoder_only": True, "pair_teacher_dir": "t", "pair_start_timesteps": [0]}, "1-999"),
        ({"init_from": "x", "train_decoder_only": True, "pair_student_dir": "s"}, "needs pair_teacher_dir"),
        ({"init_from": "x", "train_decoder_only": True, "generated_count": 8}, "needs pair_teacher_dir"),
        ({"generated_sliding_weight": -1.0}, "generated_count and generated_sliding_weight >= 0"),
    ],
)
def test_bad_configs_are_clear_errors(tmp_path: Path, content: dict, message: str, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    assert main(["train", "vae", "--config", str(path)]) == 2
    assert message in capsys.readouterr().err
    with pytest.raises(Exception, match=message):
        load_stage_config(VAEStageConfig, path, MotionVAEConfig)


def test_length_grouped_batches_train_and_need_variable_length_items(
    prepared_fixture_dataset: Path, tmp_path: Path
) -> None:
    from motionlcm_node.errors import MotionLCMError
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.latent_bank import LatentBank, collate_latents
    from motionlcm_node.training.loop import _data_loader, train
    from motionlcm_node.training.stages import VAEStage

    train_config = TrainConfig(**{**TINY_TRAIN, "data_dir": str(prepared_fixture_dataset),
                                  "out_dir": str(tmp_path / "run"), "group_by_length": True})  # fmt: skip
    stage = VAEStage(VAEStageConfig(train_config, MotionVAEConfig(**TINY_VAE)))
    assert train(stage, train_config, progress=False) == tmp_path / "run"
    assert [int(row["step"]) for row in read_log(tmp_path / "run")] == [1, 2, 3]
    bank = LatentBank(torch.zeros(4, 2, 4), torch.zeros(4, 2, 4), [["a"]] * 4)
    from motionlcm_node.training.loop import DistributedContext

    with pytest.raises(MotionLCMError, match="variable-length"):
        _data_loader(bank, collate_latents, train_config, DistributedContext())
