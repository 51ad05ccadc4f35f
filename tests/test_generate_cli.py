"""`motionlcm generate` end to end with tiny untrained models (student + VAE) on the offline MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.cli import generate_requests
from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.text.sentence_transformer import TextEncoder
from tests.tiny_models import write_tiny_models


@pytest.fixture(scope="module")
def shared_encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture(scope="module")
def tiny_models(prepared_fixture_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_tiny_models(root, prepared_fixture_dataset)
    return root


@pytest.fixture(autouse=True)
def _reuse_encoder(monkeypatch: pytest.MonkeyPatch, shared_encoder: TextEncoder) -> None:
    """Each command would load MiniLM again (seconds); the command looks the class up at call time."""

    def load(backend: str = "auto", device: str = "cpu", threads: int = 1, model_id: str | None = None) -> TextEncoder:
        assert model_id == shared_encoder.model_id  # the text model named by the student's config
        return shared_encoder

    monkeypatch.setattr("motionlcm_node.text.onnx_encoder.load_text_encoder", load)


def _generate(models: Path, out: Path, *extra: str) -> int:
    return main(["generate", "--models", str(models), "--out", str(out), "--threads", "1", *extra])


def test_generate_writes_motions_video_and_summary(tiny_models: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    prompts = ["a person waves with the right hand", "A person runs!"]
    assert _generate(tiny_models, out, *prompts, "--seconds", "1.5", "--seed", "3") == 0
    folders = sorted(path.name for path in out.iterdir() if path.is_dir())
    assert folders == ["000_a_person_waves_with_the_right_hand", "001_a_person_runs"]
    for folder in folders:
        joints = np.load(out / folder / "joints.npy")
        assert joints.shape == (30, 22, 3) and joints.dtype == np.float32 and np.isfinite(joints).all()
        assert np.load(out / folder / "features.npy").shape == (30, 263)
        assert (out / folder / "motion.gif").stat().st_size > 0
    summary = json.loads((out / "generate.json").read_text())
    assert summary["models"] == str(tiny_models) and summary["device"] == "cpu"
    assert summary["machine"]["logical_cores"] >= 1 and summary["threads"] == 1
    assert summary["timings_s"]["model_load_cold_start"] > 0
    assert set(summary["timings_s"]["generation"]) == {"text", "denoise", "decode", "joints", "total"}
    first = summary["samples"][0]
    assert [s["prompt"] for s in summary["samples"]] == ["a person waves with the right hand", "A person runs!"]
    assert first["seconds"] == 1.5 and first["frames"] == 30 and first["steps"] == 1
    assert first["timesteps"] == [999] and first["guidance"] == 7.5 and first["seed"] == 3
    assert first["robot"] is None and first["video"].endswith("motion.gif")
    printed = capsys.readouterr().out
    assert "2 sample(s), 1 step(s)" in printed and "generate.json" in printed


def test_same_seed_same_motion_other_seed_other_motion(tiny_models: Path, tmp_path: Path) -> None:
    def joints(seed: str, name: str) -> np.ndarray:
        args = ["a person walks forward", "--seconds", "1", "--num-samples", "2", "--steps", "2", "--no-video"]
        assert _generate(tiny_models, tmp_path / name, *args, "--seed", seed) == 0
        folders = sorted((tmp_path / name).glob("00*_a_person_walks_forward"))
        assert len(folders) == 2 and not list(folders[0].glob("motion.*"))
        return np.stack([np.load(folder / "joints.npy") for folder in folders])

    first, again, other = joints("7", "a"), joints("7", "b"), joints("8", "c")
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first[0], first[1])  # two samples of one prompt differ


def test_planted_feet_are_stabilized_by_default_and_the_pose_is_kept(tiny_models: Path, tmp_path: Path) -> None:
    from motionlcm_node.postprocess.foot_contacts import contact_root_correction, stabilize_foot_contacts

    def run(name: str, *extra: str) -> tuple[np.ndarray, np.ndarray, dict]:
        args = ["a person walks forward", "--seconds", "2", "--no-video", "--seed", "5", *extra]
        assert _generate(tiny_models, tmp_path / name, *args) == 0
        folder = tmp_path / name / "000_a_person_walks_forward"
        summary = json.loads((tmp_path / name / "generate.json").read_text())
        return np.load(folder / "features.npy"), np.load(folder / "joints.npy"), summary

    fixed, fixed_joints, fixed_summary = run("fixed")
    raw, raw_joints, raw_summary = run("raw", "--no-stabilize-feet")
    assert fixed_summary["stabilize_feet"] is True and raw_summary["stabilize_feet"] is False
    np.testing.assert_array_equal(fixed[:, 4:193], raw[:, 4:193])  # the pose is the model's
    np.testing.assert_allclose(fixed_joints - fixed_joints[:, :1], raw_joints - raw_joints[:, :1], atol=1e-5)
    # The root is the model's own, corrected by `stabilize_foot_contacts` with its defaults.
    expected = stabilize_foot_contacts(raw[None], np.array([len(raw)]))[0]
    np.testing.assert_allclose(fixed, expected, atol=1e-5)
    assert np.abs(contact_root_correction(raw.astype(np.float64)[None], np.array([len(raw)]))).max() > 1e-4


def test_prompt_file_with_comments_and_durations(tiny_models: Path, tmp_path: Path) -> None:
    prompt_file = tmp_path / "prompts.txt"
    lines = ["# warm-up set", "", "1.5 | a person walks in a circle", "  a person bows deeply  ", "left | right"]
    prompt_file.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert _generate(tiny_models, out, "a person bows", "--prompt-file", str(prompt_file), "--seconds", "1",
                     "--no-video") == 0  # fmt: skip
    samples = json.loads((out / "generate.json").read_text())["samples"]
    assert [(s["prompt"], s["frames"]) for s in samples] == [
        ("a person bows", 20), ("a person walks in a circle", 30), ("a person bows deeply", 20), ("left | right", 20),
    ]  # fmt: skip
    assert np.load(out / "001_a_person_walks_in_a_circle" / "joints.npy").shape == (30, 22, 3)
    assert (out / "003_left_right" / "features.npy").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["   "], "prompt 1 is empty"),
        (["A person jumps!"], "cannot do 'A person jumps!': it is closer to an activity the models cannot do"),
        (["make me a sandwich"], "matches no known action"),
        ([], "no prompt"),
        (["a person runs", "--seconds", "0"], "durations must be positive"),
        (["a person runs", "--seconds", "12"], "more than the model's 196"),
        (["a person runs", "--num-samples", "0"], "--num-samples"),
        (["a person runs", "--steps", "3"], "no plan for 3 steps; this student has [1, 2, 4]"),
    ],
)
def test_bad_requests_are_clean_errors(tiny_models: Path, tmp_path: Path, capsys, extra: list[str], message: str):
    assert _generate(tiny_models, tmp_path / "out", *extra) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not (tmp_path / "out" / "generate.json").exists()


def test_missing_student_names_the_folder_and_how_to_get_it(tmp_path: Path, capsys) -> None:
    assert _generate(tmp_path / "models", tmp_path / "out", "a person waves") == 2
    error = capsys.readouterr().err
    assert f"no student model in {tmp_path / 'models' / 'student'}" in error
    assert "models/MODEL_CARD.md" in error


def test_prompt_file_errors_raise_motionlcm_error(tmp_path: Path) -> None:
    with pytest.raises(MotionLCMError, match="cannot read prompt file"):
        generate_requests.parse_prompt_file(tmp_path / "missing.txt", 6.0)
    (tmp_path / "p.txt").write_text("2.0 |   \n")
    with pytest.raises(MotionLCMError, match=r"p.txt:1: empty prompt"):
        generate_requests.parse_prompt_file(tmp_path / "p.txt", 6.0)
    assert (
        generate_requests.slugify("  Wave!! -- twice ") == "wave_twice" and generate_requests.slugify("?!") == "motion"
    )


def test_robot_g1_writes_a_trajectory(tiny_models: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _generate(tiny_models, out, "a person waves", "--seconds", "1", "--robot", "g1", "--no-video") == 0
    trajectory = np.load(out / "000_a_person_waves" / "robot_trajectory.npz")
    assert trajectory["joint_positions"].shape[1] == 29 and np.isfinite(trajectory["joint_positions"]).all()
    assert not (out / "000_a_person_waves" / "robot.mp4").exists()
    robot = json.loads((out / "generate.json").read_text())["samples"][0]["robot"]
    assert robot["robot"] == "g1" and robot["input_frames"] == 20 and robot["video"] is None
