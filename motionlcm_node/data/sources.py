"""Discovering source clips: the Bandai-Namco datasets, or any folder of BVH files with captions."""

from __future__ import annotations

import json
import logging
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionlcm_node.data.captions import captions_for_clip
from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)
BANDAI_ARCHIVES = ("Bandai-Namco-Research-Motiondataset-1.tar.xz", "Bandai-Namco-Research-Motiondataset-2.tar.xz")


@dataclass(frozen=True)
class SourceClip:
    """One source motion file and what is known about it.

    Attributes:
        name: unique clip name (file stem), used for output files and splits.
        path: the BVH file.
        group: stratification key, e.g. ``"dataset-2/walk/normal"``.
        content: content label (Bandai) or "" for generic BVH.
        style: style label (Bandai) or "".
        captions: fixed captions (generic BVH); empty for Bandai, whose captions depend on the split.
    """

    name: str
    path: Path
    group: str
    content: str = ""
    style: str = ""
    captions: tuple[str, ...] = ()

    def captions_for(self, split: str) -> list[str]:
        """Captions of this clip; Bandai test clips also get held-out phrasings."""
        if self.captions:
            return list(self.captions)
        return captions_for_clip(self.name, self.content, self.style, held_out=split == "test")


def spread_selection(clips: list[SourceClip], count: int) -> list[SourceClip]:
    """``count`` clips spread evenly over the (sorted) list, for quick runs on a slice of a corpus."""
    if count < 1:
        raise MotionLCMError("the number of clips to select must be at least 1")
    picks = np.linspace(0, len(clips) - 1, num=min(count, len(clips))).round().astype(int)
    return [clips[i] for i in sorted(set(picks.tolist()))]


def unpack_bandai(input_dir: Path, cache_dir: Path) -> list[Path]:
    """Folders holding the Bandai ``data/`` directories, unpacking archives into ``cache_dir`` once.

    ``input_dir`` may hold the two ``.tar.xz`` archives (as ``../shared/data/bandai-namco`` does) or
    already unpacked ``Bandai-Namco-Research-Motiondataset-N`` folders.
    """
    if not input_dir.is_dir():
        raise MotionLCMError(f"input folder {input_dir} does not exist")
    roots = sorted(p for p in input_dir.glob("Bandai-Namco-Research-Motiondataset-*") if (p / "data").is_dir())
    if roots:
        return roots
    archives = [input_dir / name for name in BANDAI_ARCHIVES if (input_dir / name).is_file()]
    if not archives:
        raise MotionLCMError(f"{input_dir} holds neither the Bandai-Namco archives nor unpacked dataset folders")
    for archive in archives:
        target = cache_dir / archive.name.removesuffix(".tar.xz")
        marker = target / ".unpacked"
        if not marker.exists():
            LOGGER.info("unpacking %s", archive.name)
            cache_dir.mkdir(parents=True, exist_ok=True)
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(cache_dir, filter="data")
            except (tarfile.TarError, OSError, EOFError) as error:
                raise MotionLCMError(f"{archive}: cannot unpack ({error})") from None
            marker.touch()
        roots.append(target)
    return roots


def bandai_clips(input_dir: Path, cache_dir: Path) -> list[SourceClip]:
    """Every Bandai-Namco clip under ``input_dir``, labels parsed from ``dataset-N_{content}_{style}_{id}``."""
    clips = []
    for root in unpack_bandai(input_dir, cache_dir):
        for path in sorted((root / "data").glob("*.bvh")):
            parts = path.stem.split("_")
            if len(parts) != 4:
                LOGGER.warning("skipping %s: name is not dataset-N_content_style_id", path.name)
                continue
            dataset, content, style, _ = parts
            labels = path.with_suffix(".json")
            if labels.exists():
                _check_label_ids(labels, root, dataset, content, style)
            clips.append(SourceClip(path.stem, path, f"{dataset}/{content}/{style}", content, style))
    if not clips:
        raise MotionLCMError(f"no Bandai-Namco BVH clips found under {input_dir}")
    return clips


def _check_label_ids(labels: Path, root: Path, dataset: str, content: str, style: str) -> None:
    """Warn when the JSON label ids disagree with the file name (the name wins)."""
    try:
        ids = json.loads(labels.read_text())
        contents = (root / "cfg" / "content_label.txt").read_text().split()
        styles = (root / "cfg" / "style_label.txt").read_text().split()
        named = (contents[int(ids["content"])], styles[int(ids["style"])])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return
    if named != (f"{dataset}_{content}", f"{dataset}_{style}"):
        LOGGER.warning("%s: JSON labels %s disagree with the file name", labels.name, named)


def bvh_folder_clips(input_dir: Path) -> list[SourceClip]:
    """Generic BVH clips: ``X.bvh`` with captions in ``X.txt`` (one per line) beside it.

    Clips are stratified by their sub-folder. A BVH without captions is skipped with a warning.
    """
    if not input_dir.is_dir():
        raise MotionLCMError(f"input folder {input_dir} does not exist")
    clips = []
    for path in sorted(input_dir.rglob("*.bvh")):
        caption_file = path.with_suffix(".txt")
        captions = (
            tuple(line.strip() for line in caption_file.read_text().splitlines() if line.strip())
            if caption_file.exists()
            else ()
        )
        if not captions:
            LOGGER.warning("skipping %s: no captions in %s", path, caption_file.name)
            continue
        group = str(path.parent.relative_to(input_dir)) or "."
        clips.append(SourceClip(path.stem, path, group, captions=captions))
    if not clips:
        raise MotionLCMError(f"no BVH files with captions found under {input_dir}")
    names = [clip.name for clip in clips]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MotionLCMError(f"clip names must be unique; repeated: {duplicates[:5]}")
    return clips
