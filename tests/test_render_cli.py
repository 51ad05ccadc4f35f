"""Pictures and the `motionlcm data show` command."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from motionlcm_node.cli.main import main
from motionlcm_node.data.render import render_frames

JOINTS = Path(__file__).parent / "fixtures" / "joints"


def test_frames_show_the_figure_and_targets() -> None:
    joints = np.load(JOINTS / "dataset-1_walk_normal_002.npy")[:5]
    plain = render_frames(joints, size_px=160)
    assert len(plain) == 5 and plain[0].shape == (160, 160, 3) and plain[0].dtype == np.uint8
    assert (plain[0] < 200).any()  # something dark (the skeleton) was drawn on the white background
    target = joints[:, 21][:, None] + [0.3, 0.0, 0.3]
    marked = render_frames(joints, size_px=160, targets=target)

    def pure_red(image: np.ndarray) -> int:
        return int(((image[..., 0] > 230) & (image[..., 1] < 30) & (image[..., 2] < 30)).sum())

    assert pure_red(marked[0]) > pure_red(plain[0]) + 3  # the red target marker


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_show_writes_animations(tmp_path: Path, suffix: str) -> None:
    source = JOINTS / "dataset-2_wave-left-hand_normal_024.npy"
    out = tmp_path / f"clip{suffix}"
    assert main(["data", "show", str(source), "--out", str(out)]) == 0
    if suffix == ".gif":
        count = len(imageio.mimread(out))
    else:
        import imageio_ffmpeg

        count, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert abs(count - len(np.load(source))) <= 1


def test_show_accepts_features_bvh_and_contact_sheets(tmp_path: Path, prepared_fixture_dataset: Path) -> None:
    features = prepared_fixture_dataset / "new_joint_vecs" / "dataset-1_bow_masculinity_001.npy"
    bvh = next((Path(__file__).parent / "fixtures" / "bandai").glob("*/data/dataset-1_run_normal_001.bvh"))
    sheet = tmp_path / "sheet.png"
    joints = [str(path) for path in sorted(JOINTS.glob("*.npy"))[:2]]
    assert main(["data", "show", str(features), str(bvh), *joints, "--out", str(sheet)]) == 0
    image = imageio.imread(sheet)
    assert image.shape[1] == 4 * 300


def test_show_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((10, 22, 3), np.nan))
    assert main(["data", "show", str(bad), "--out", str(tmp_path / "x.gif")]) == 2
    assert "bad.npy" in capsys.readouterr().err
    np.save(bad, np.zeros((10, 5)))
    assert main(["data", "show", str(bad), "--out", str(tmp_path / "x.gif")]) == 2
    assert "[T, 22, 3]" in capsys.readouterr().err
    good = JOINTS / "dataset-1_walk_normal_002.npy"
    assert main(["data", "show", str(good), "--out", str(tmp_path / "x.avi")]) == 2
    assert ".gif, .mp4 or .png" in capsys.readouterr().err
    assert not (tmp_path / "x.gif").exists()
