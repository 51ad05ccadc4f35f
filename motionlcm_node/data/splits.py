"""Fixed train/val/test splits, stratified by label group and disjoint by source clip.

Clips are grouped by (dataset, content, style); each group is shuffled with a seed derived from its
key, and its clips take consecutive places in one global cycle of ten slots (eight train, one val,
one test) that runs on across groups. Large groups therefore split 80/10/10 and the many one- or
two-clip groups of dataset 1 are spread evenly over the splits. Splits name *source* clips: a
mirrored clip (``M`` + name) always goes with its source.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
#: One cycle of ten slots; val and test are placed apart so that small groups reach both.
_SLOT_CYCLE = ("train", "train", "train", "test", "train", "train", "train", "val", "train", "train")


def assign_splits(clips: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Assign source clips to splits.

    Args:
        clips: (clip name, group key) pairs, e.g. ``("dataset-2_walk_normal_001", "dataset-2/walk/normal")``.

    Returns:
        {"train": [...], "val": [...], "test": [...]} with sorted clip names.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for name, group in clips:
        groups[group].append(name)
    splits: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    slot = 0
    for group in sorted(groups):
        names = sorted(groups[group])
        seed = int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "little")
        for index in np.random.default_rng(seed).permutation(len(names)):
            splits[_SLOT_CYCLE[slot % len(_SLOT_CYCLE)]].append(names[index])
            slot += 1
    return {name: sorted(members) for name, members in splits.items()}


def write_splits(splits: dict[str, list[str]], directory: Path, prefix: str = "") -> None:
    """Write ``{prefix}{split}.txt`` files, one clip name per line."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (directory / f"{prefix}{split}.txt").write_text("".join(f"{n}\n" for n in names))


def read_split_file(path: Path) -> list[str]:
    """Clip names listed in a split file (blank lines ignored)."""
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError as error:
        raise MotionLCMError(f"cannot read split file {path} ({error})") from None


def builtin_splits(dataset: str) -> dict[str, list[str]]:
    """The committed splits of a dataset shipped with the package (e.g. ``"bandai"``)."""
    folder = resources.files("motionlcm_node.data") / "splits"
    splits = {}
    for split in SPLIT_NAMES:
        entry = folder / f"{dataset}_{split}.txt"
        if not entry.is_file():
            raise MotionLCMError(f"no committed {split} split for dataset {dataset!r}")
        splits[split] = [line.strip() for line in entry.read_text().splitlines() if line.strip()]
    return splits


def splits_for_clips(clips: Iterable[tuple[str, str]], committed: str | None = None) -> dict[str, str]:
    """Clip name -> split for (name, group) pairs.

    A dataset's committed splits decide where they list the clip; the assignment rule
    (``assign_splits``) decides for every other clip.

    Args:
        clips: (clip name, group key) pairs.
        committed: name of a dataset with committed splits (e.g. ``"bandai"``), or None.
    """
    clips = list(clips)
    owner = split_of(builtin_splits(committed)) if committed else {}
    unlisted = [(name, group) for name, group in clips if name not in owner]
    if committed and unlisted:
        LOGGER.warning("%d clips are not in the committed %s splits; assigning them by rule", len(unlisted), committed)
    return owner | split_of(assign_splits(unlisted))


def split_of(splits: dict[str, list[str]]) -> dict[str, str]:
    """Invert a split table: clip name -> split name (raises if a clip is in two splits)."""
    owner: dict[str, str] = {}
    for split, names in splits.items():
        for name in names:
            if name in owner:
                raise MotionLCMError(f"clip {name} is in both {owner[name]} and {split}")
            owner[name] = split
    return owner
