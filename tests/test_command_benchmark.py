"""The command benchmark's parts on tiny data: action labels, features, the classifier and its training,
command files and scoring, and the temporal smoothing of generated features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.action_features import FEATURES_PER_FRAME, action_features, headings
from motionlcm_node.evaluation.actions import ACTIONS, clip_action, coarse_group
from motionlcm_node.evaluation.commands import CommandCase, read_command_file, refusal_share, score_commands
from motionlcm_node.evaluation.motion_metrics import jitter
from motionlcm_node.postprocess.smoothing import smooth_features

FIXTURE_JOINTS = Path(__file__).parent / "fixtures" / "joints"


def turned(joints: np.ndarray, angle: float, offset: tuple[float, float, float]) -> np.ndarray:
    """``joints`` rotated by ``angle`` about +Y and moved by ``offset`` (a different start, same motion)."""
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])
    return joints @ rotation.T + np.asarray(offset)


def test_labels_follow_mirrors_and_groups() -> None:
    assert clip_action("dataset-2_wave-left-hand_happy_003") == "wave-left-hand"
    assert clip_action("Mdataset-2_wave-left-hand_happy_003") == "wave-right-hand"
    assert clip_action("Mdataset-1_kick_normal_001") == "kick"
    assert coarse_group("walk-turn-left") == "turn left" and coarse_group("run") == coarse_group("walk")
    with pytest.raises(KeyError):
        clip_action("dataset-1_dance-long_normal_001")


def test_features_do_not_depend_on_where_the_motion_starts_or_faces() -> None:
    joints = np.load(FIXTURE_JOINTS / "dataset-2_walk-turn-left_exhausted_038.npy")
    features = action_features(joints)
    assert features.shape == (len(joints), FEATURES_PER_FRAME) and np.isfinite(features).all()
    np.testing.assert_allclose(action_features(turned(joints, 1.1, (3.0, 0.0, -2.0))), features, atol=2e-4)
    assert headings(joints)[-1] - headings(joints)[0] > np.radians(45)  # a left turn: positive heading change
    lateral_end = features[-1, 0]
    assert lateral_end > 0.3  # ... and the path bends to the body's left (+X)


def test_a_tiny_classifier_trains_exports_and_judges(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from motionlcm_node.evaluation.judge import ActionJudge, split_accuracy
    from motionlcm_node.training.classifier_stage import ClassifierSizes, ClassifierStage, ClassifierStageConfig
    from motionlcm_node.training.config import TrainConfig
    from motionlcm_node.training.loop import train

    settings = TrainConfig(data_dir=str(prepared_fixture_dataset), out_dir=str(tmp_path / "run"), steps=4,
                           batch_size=4, log_every=2, checkpoint_every=4, device="cpu", min_length=24)  # fmt: skip
    config = ClassifierStageConfig(train=settings, model=ClassifierSizes(width=16), min_items_per_class=4)
    run = train(ClassifierStage(config), settings, progress=False)
    judge = ActionJudge(run / "model")
    assert judge.labels == ACTIONS
    motions = [np.load(path) for path in sorted(FIXTURE_JOINTS.glob("*.npy"))]
    probabilities = judge.probabilities(motions)
    assert probabilities.shape == (len(motions), len(ACTIONS)) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert set(judge.predict(motions)) <= set(ACTIONS)
    report = split_accuracy(judge, prepared_fixture_dataset, "train")
    assert report["clips"] > 0 and 0.0 <= report["fine"] <= report["coarse"] <= 1.0


def test_the_vae_round_trip_keeps_every_clip_and_its_length(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from motionlcm_node.evaluation.judge import vae_round_trip
    from motionlcm_node.training.classifier_stage import load_split_joints
    from tests.tiny_models import write_tiny_models

    write_tiny_models(tmp_path, prepared_fixture_dataset, student=False)
    clips = load_split_joints(prepared_fixture_dataset, "train")
    decoded = vae_round_trip([name for name, _ in clips], prepared_fixture_dataset, tmp_path / "vae", max_frames=40)
    assert [joints.shape for joints in decoded] == [(min(len(joints), 40), 22, 3) for _, joints in clips]
    assert all(np.isfinite(joints).all() for joints in decoded)


def test_command_files_are_read_strictly(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("# comment\n\nbow | take a bow\nkick|kick it\n", encoding="utf-8")
    assert read_command_file(good) == [CommandCase("bow", "take a bow"), CommandCase("kick", "kick it")]
    bad = tmp_path / "bad.txt"
    bad.write_text("dance | dance for me\n", encoding="utf-8")
    with pytest.raises(MotionLCMError, match=r"bad\.txt:1"):
        read_command_file(bad)
    assert read_command_file(bad, labelled=False) == [CommandCase(None, "dance | dance for me")]


def test_scores_count_fine_coarse_and_refused_motions() -> None:
    cases = [CommandCase("walk", "stroll"), CommandCase("walk", "amble"), CommandCase("bow", "bow down")]
    texts = ["stroll", "amble", "bow down"]
    shown = ["walk", "run", "bow"]  # what the judge sees in each text's motion

    def generate(batch: list[str], seed: int) -> list[np.ndarray | None]:
        motions = [np.full((4, 22, 3), float(texts.index(text))) for text in batch]
        return [
            None if text == "bow down" and seed == 1 else motion for text, motion in zip(batch, motions, strict=True)
        ]

    def judge(motions: list[np.ndarray]) -> list[str]:
        return [shown[int(motion[0, 0, 0])] for motion in motions]

    report = score_commands(cases, generate, judge, seeds=2)
    assert report["actions"]["walk"] == {"commands": 2, "motions": 4, "fine": 0.5, "coarse": 1.0, "refused": 0.0}
    assert report["actions"]["bow"]["refused"] == 0.5 and report["actions"]["bow"]["fine"] == 0.5
    assert report["fine"] == pytest.approx(3 / 6) and report["coarse"] == pytest.approx(5 / 6)
    assert ("amble", "walk", "run") in report["mistakes"]
    shares = refusal_share([CommandCase(None, "fly"), CommandCase(None, "walk")], lambda text: text == "fly")
    assert shares["refused"] == 0.5 and shares["let_through"] == ["walk"]


def test_smoothing_lowers_jitter_and_keeps_padding() -> None:
    rng = np.random.default_rng(0)
    joints = np.load(FIXTURE_JOINTS / "dataset-1_walk_normal_002.npy")
    frames = len(joints)
    noisy = joints + rng.normal(0.0, 0.01, joints.shape)
    features = np.zeros((1, frames + 20, 66), np.float32)
    features[0, :frames] = noisy.reshape(frames, -1)
    smoothed = smooth_features(features, [frames], sigma=1.0)
    assert np.all(smoothed[0, frames:] == 0)
    assert jitter(smoothed[0, :frames].reshape(1, frames, 22, 3)) < 0.5 * jitter(noisy[None])
    np.testing.assert_array_equal(smooth_features(features, [frames], sigma=0.0), features)


def test_the_classifier_network_reads_as_many_features_as_the_feature_code_makes() -> None:
    pytest.importorskip("torch")
    from motionlcm_node.networks.action_classifier import ActionClassifierConfig

    assert ActionClassifierConfig(labels=ACTIONS).feature_dim == FEATURES_PER_FRAME


@pytest.mark.parametrize("sigma", [0.3, 0.5, 1.0, 2.5])
def test_the_smoothing_filter_is_scipys_gaussian(sigma: float) -> None:
    from scipy.ndimage import gaussian_filter1d

    from motionlcm_node.postprocess.smoothing import gaussian_filter_time

    values = np.random.default_rng(0).normal(size=(37, 5)).astype(np.float32)
    expected = gaussian_filter1d(values, sigma, axis=0, mode="nearest")
    assert np.allclose(gaussian_filter_time(values, sigma), expected, atol=1e-6)
