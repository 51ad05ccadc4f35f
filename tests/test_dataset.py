"""The HumanML3D-layout loader: shapes, masks, crops, normalisation, segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion, parse_text_file
from motionlcm_node.errors import MotionLCMError


def test_items_are_cropped_normalised_and_captioned(prepared_fixture_dataset: Path) -> None:
    torch.manual_seed(0)
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=40, unit_length=4)
    assert len(dataset) > 0
    for index in range(len(dataset)):
        item = dataset[index]
        assert item["motion"].shape == (item["length"], 263)
        assert item["length"] % 4 == 0 and 16 <= item["length"] <= 40
        assert item["text"] in dataset.entries[index].captions
    raw = dataset.entries[0].features
    np.testing.assert_allclose(dataset.denormalize(dataset.normalize(raw)), raw, atol=1e-5)


def test_collate_pads_and_masks(prepared_fixture_dataset: Path) -> None:
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=64)
    loader = DataLoader(dataset, batch_size=4, shuffle=False, collate_fn=collate_motion)
    batch = next(iter(loader))
    lengths, mask, motion = batch["lengths"], batch["mask"], batch["motion"]
    assert motion.shape[0] == mask.shape[0] == len(batch["texts"]) == 4
    assert motion.shape[1] == int(lengths.max())
    assert torch.equal(mask.sum(dim=1), lengths)
    assert torch.all(motion[~mask] == 0)
    assert batch["texts"] and all(isinstance(t, str) for t in batch["texts"])


def test_seeded_sampling_is_reproducible(prepared_fixture_dataset: Path) -> None:
    dataset = HumanML3DDataset(prepared_fixture_dataset, "train", min_length=16, max_length=24)
    torch.manual_seed(3)
    first = [dataset[i]["motion"] for i in range(len(dataset))]
    torch.manual_seed(3)
    second = [dataset[i]["motion"] for i in range(len(dataset))]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_length_filter_and_segments(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(MotionLCMError, match="no usable clips"):
        HumanML3DDataset(prepared_fixture_dataset, "test", min_length=1000, max_length=2000)
    # A HumanML3D-style caption with a time span becomes its own item over those frames only.
    root = tmp_path / "h3d"
    for folder in ("new_joint_vecs", "texts"):
        (root / folder).mkdir(parents=True)
    features = np.random.default_rng(0).normal(size=(100, 263)).astype(np.float32)
    np.save(root / "new_joint_vecs" / "000001.npy", features)
    (root / "texts" / "000001.txt").write_text(
        "a person walks.#a/DET person/NOUN walk/VERB#0.0#0.0\nthen jumps.#then/ADV jump/VERB#2.0#4.5\n"
    )
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    (root / "train.txt").write_text("000001\n")
    dataset = HumanML3DDataset(root, "train", min_length=40)
    names = sorted(entry.name for entry in dataset.entries)
    assert names == ["000001", "000001@2-4.5"]
    segment = next(e for e in dataset.entries if "@" in e.name)
    np.testing.assert_array_equal(segment.features, features[40:90])
    assert segment.captions == ("then jumps.",)
    assert parse_text_file(root / "texts" / "000001.txt")[1] == ("then jumps.", 2.0, 4.5)


def test_corrupt_clip_is_rejected_with_reason(prepared_fixture_dataset: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(prepared_fixture_dataset, root)
    victim = (root / "train.txt").read_text().split()[0]
    bad = np.load(root / "new_joint_vecs" / f"{victim}.npy")
    bad[3, 7] = np.nan
    np.save(root / "new_joint_vecs" / f"{victim}.npy", bad)
    dataset = HumanML3DDataset(root, "train", min_length=16)
    assert victim in dataset.rejected and "finite" in dataset.rejected[victim]
    assert all(entry.name != victim for entry in dataset.entries)
