"""`motionlcm data prepare` end to end on real clips, including bad input in the batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.cli.main import main
from motionlcm_node.data.recovery import recover_joints
from tests.conftest import BANDAI_FIXTURES


def test_layout_statistics_and_mirrors(prepared_fixture_dataset: Path) -> None:
    root = prepared_fixture_dataset
    train = (root / "train.txt").read_text().split()
    assert "dataset-1_walk_normal_002" in train and "Mdataset-1_walk_normal_002" in train
    assert (root / "test.txt").read_text().split() == [
        "Mdataset-2_wave-left-hand_normal_024",
        "dataset-2_wave-left-hand_normal_024",
    ]
    mean, std = np.load(root / "Mean.npy"), np.load(root / "Std.npy")
    assert mean.shape == std.shape == (263,) and np.all(std > 0)
    # Grouped std: one value per feature group.
    assert np.unique(std[4:67]).size == 1 and np.unique(std[193:259]).size == 1
    features = np.load(root / "new_joint_vecs" / "dataset-1_walk_normal_002.npy")
    joints = np.load(root / "new_joints" / "dataset-1_walk_normal_002.npy")
    assert features.dtype == np.float32 and joints.shape == (len(features), 22, 3)
    np.testing.assert_allclose(recover_joints(np.asarray(features, dtype=np.float64)), joints, atol=1e-5)
    # Captions: the mirror of a left-hand wave is described as a right-hand wave.
    original = (root / "texts" / "dataset-2_wave-left-hand_normal_024.txt").read_text().splitlines()
    mirrored = (root / "texts" / "Mdataset-2_wave-left-hand_normal_024.txt").read_text().splitlines()
    assert len(original) == 5  # test clip: 3 seen + 2 held-out phrasings
    assert all("left" in line.split("#")[0] for line in original)
    assert all("right" in line.split("#")[0] and "left" not in line for line in mirrored)
    assert all(line.endswith("#0.0#0.0") for line in original)
    report = json.loads((root / "prepare_report.json").read_text())
    assert report["skipped"] == {"dataset-2_wave-left-hand_active_011": "clip has 13 frames, at least 16 are needed"}
    assert report["roundtrip_max_mm"] < 5.0


def test_batch_skips_bad_files_reports_them_and_keeps_going(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "bandai"
    shutil.copytree(BANDAI_FIXTURES, source)
    data = source / "Bandai-Namco-Research-Motiondataset-2" / "data"
    good = (data / "dataset-2_wave-left-hand_normal_024.bvh").read_text()
    (data / "dataset-2_walk_normal_901.bvh").write_text(good[: len(good) // 2])  # truncated
    (data / "dataset-2_walk_normal_902.bvh").write_text(good.replace("Hand_L", "Paw_L"))  # unknown joint
    (data / "dataset-2_walk_normal_903.bvh").write_text(good.replace("MOTION", "MOTON"))  # garbled
    lines = good.split("\n")
    lines[-3] = " ".join(["nan"] * len(lines[-3].split()))
    (data / "dataset-2_walk_normal_904.bvh").write_text("\n".join(lines))  # NaN
    out = tmp_path / "out"
    assert main(["data", "prepare", "--input", str(source), "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "prepare_report.json").read_text())
    assert report["converted"] == 6
    skipped = report["skipped"]
    assert "expected" in skipped["dataset-2_walk_normal_901"] and "truncated" in skipped["dataset-2_walk_normal_901"]
    assert "Hand_L" in skipped["dataset-2_walk_normal_902"] and "missing" in skipped["dataset-2_walk_normal_902"]
    assert "MOTION" in skipped["dataset-2_walk_normal_903"]
    assert "NaN" in skipped["dataset-2_walk_normal_904"]
    assert all("dataset-2_walk_normal_90" in reason for name, reason in skipped.items() if "90" in name)
    assert "skipped 5 clips" in printed and "dataset-2_walk_normal_902" in printed
    # Good clips were all written despite the bad ones.
    assert (out / "new_joint_vecs" / "dataset-1_bow_masculinity_001.npy").exists()


def test_missing_input_is_a_clear_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["data", "prepare", "--input", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "prepare", "--input", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "neither the Bandai-Namco archives" in capsys.readouterr().err


def test_generic_bvh_source_with_caption_files(tmp_path: Path) -> None:
    source = tmp_path / "mocap" / "session1"
    source.mkdir(parents=True)
    for name in ("dataset-1_walk_normal_002", "dataset-1_bow_masculinity_001"):
        shutil.copy(next(BANDAI_FIXTURES.glob(f"*/data/{name}.bvh")), source / f"{name}.bvh")
    (source / "dataset-1_walk_normal_002.txt").write_text("someone walks ahead\na person strolls\n")
    out = tmp_path / "out"
    skeleton = Path(__file__).parents[1] / "motionlcm_node" / "data" / "skeletons" / "bandai.yaml"
    args = ["data", "prepare", "--source", "bvh", "--input", str(tmp_path / "mocap"), "--out", str(out)]
    assert main([*args, "--skeleton", str(skeleton), "--workers", "1"]) == 0
    names = sorted(p.stem for p in (out / "texts").glob("*.txt"))
    assert names == ["Mdataset-1_walk_normal_002", "dataset-1_walk_normal_002"]  # uncaptioned clip skipped
    assert (out / "texts" / "dataset-1_walk_normal_002.txt").read_text().startswith("someone walks ahead#")
