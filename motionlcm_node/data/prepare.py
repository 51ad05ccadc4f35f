"""Convert source BVH clips into the HumanML3D layout.

Output folder (the same layout as HumanML3D, so the loader serves both):

* ``new_joints/NAME.npy``: [T-1, 22, 3] float32 joints recovered from the features (metres, Y up)
* ``new_joint_vecs/NAME.npy``: [T-1, 263] float32 features
* ``texts/NAME.txt``: ``caption#tokens#start#end`` lines (tokens untagged; 0.0#0.0 = whole clip)
* ``Mean.npy`` / ``Std.npy``: feature statistics over the train split (HumanML3D's grouped std)
* ``train.txt`` / ``val.txt`` / ``test.txt``: clip names; mirrored clips are ``M`` + source name
* ``prepare_report.json``: converted / skipped clips with reasons, round-trip errors, timings
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionlcm_node.data.bvh import read_bvh
from motionlcm_node.data.captions import mirror_caption
from motionlcm_node.data.features import canonicalize, joints_to_features, validate_joints
from motionlcm_node.data.recovery import recover_joints
from motionlcm_node.data.skeleton_map import SkeletonMap
from motionlcm_node.data.smpl import mirror_joints
from motionlcm_node.data.sources import SourceClip
from motionlcm_node.data.splits import SPLIT_NAMES
from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)
TARGET_FPS = 20.0
#: Shortest clip kept, in frames at 20 fps (HumanML3D's loader later drops clips under 40 frames).
MIN_FRAMES = 16
MIRROR_PREFIX = "M"


@dataclass
class ClipResult:
    """Outcome of converting one source clip (and its mirror)."""

    name: str
    error: str | None = None
    frames: int = 0
    roundtrip_mean_m: float = 0.0
    roundtrip_max_m: float = 0.0
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class PrepareReport:
    """Summary written to ``prepare_report.json`` and printed by the CLI."""

    converted: int
    skipped: dict[str, str]
    frames: int
    seconds: float
    roundtrip_mean_mm: float
    roundtrip_max_mm: float
    split_sizes: dict[str, int]


def convert_clip(clip: SourceClip, mapping: SkeletonMap, mirror: bool) -> ClipResult:
    """Read, map, canonicalise and featurise one clip; errors are returned, never raised."""
    try:
        joints = mapping.joints_from_clip(read_bvh(clip.path), TARGET_FPS)
        joints = validate_joints(joints, min_frames=MIN_FRAMES)
        variants = {clip.name: joints}
        if mirror:
            variants[MIRROR_PREFIX + clip.name] = mirror_joints(joints)
        result = ClipResult(clip.name, frames=joints.shape[0] - 1)
        for name, variant in variants.items():
            canonical = canonicalize(variant)
            features = joints_to_features(canonical)
            recovered = recover_joints(np.asarray(features, dtype=np.float64))
            error = np.linalg.norm(recovered - canonical[:-1], axis=-1)
            result.roundtrip_mean_m = max(result.roundtrip_mean_m, float(error.mean()))
            result.roundtrip_max_m = max(result.roundtrip_max_m, float(error.max()))
            result.arrays[name] = (features, recovered.astype(np.float32))
        return result
    except MotionLCMError as error:
        return ClipResult(clip.name, error=str(error))
    except (ValueError, KeyError, OSError) as error:  # anything a malformed file can still trigger
        return ClipResult(clip.name, error=f"{clip.path}: {type(error).__name__}: {error}")


_Job = tuple[SourceClip, SkeletonMap, bool]


def _convert_star(args: _Job) -> ClipResult:
    return convert_clip(*args)


def feature_statistics(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and HumanML3D-style std over frames of many clips.

    Within each feature group the std is replaced by the group's average (so the normalised
    features keep their relative scales), and the foot contacts are down-weighted by 5, as in
    HumanML3D. Returns two [263] float32 arrays.
    """
    stacked = np.concatenate(features, axis=0).astype(np.float64)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    for group in (slice(0, 1), slice(1, 3), slice(3, 4), slice(4, 67), slice(67, 193), slice(193, 259)):
        std[group] = std[group].mean()
    std[259:263] = std[259:263].mean() / 5.0
    std = np.maximum(std, 1e-6)
    return mean.astype(np.float32), std.astype(np.float32)


def _text_line(caption: str) -> str:
    words = "".join(c if c.isalnum() or c == " " else " " for c in caption.lower()).split()
    return f"{caption}#{' '.join(words)}#0.0#0.0\n"


def prepare_dataset(
    clips: list[SourceClip],
    split_of_clip: dict[str, str],
    mapping: SkeletonMap,
    out_dir: Path,
    *,
    mirror: bool = True,
    workers: int = 2,
    progress: bool = True,
) -> PrepareReport:
    """Convert clips in parallel and write the HumanML3D layout into ``out_dir``.

    Args:
        clips: source clips; each must have an entry in ``split_of_clip``.
        split_of_clip: source clip name -> "train" | "val" | "test".
        mapping: skeleton mapping from the source rig to SMPL-22.
        out_dir: output folder (created; existing files are overwritten).
        mirror: also write each clip's mirror image (``M`` + name) in the same split.
        workers: processes used for conversion (1 = in this process).
        progress: show a progress bar.

    Returns:
        The report (also written to ``prepare_report.json``).
    """
    missing = [c.name for c in clips if c.name not in split_of_clip]
    if missing:
        raise MotionLCMError(f"{len(missing)} clips have no split (first: {missing[:3]})")
    for folder in ("new_joints", "new_joint_vecs", "texts"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    by_name = {clip.name: clip for clip in clips}
    members: dict[str, list[str]] = {split: [] for split in SPLIT_NAMES}
    train_features: list[np.ndarray] = []
    skipped: dict[str, str] = {}
    frames, mean_errors, max_error = 0, [], 0.0
    jobs = [(clip, mapping, mirror) for clip in clips]
    with multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else _Inline() as pool:
        results = pool.imap_unordered(_convert_star, jobs, chunksize=8)
        for result in tqdm(results, total=len(jobs), desc="prepare", unit="clip", disable=not progress):
            if result.error is not None:
                skipped[result.name] = result.error
                continue
            clip, split = by_name[result.name], split_of_clip[result.name]
            captions = clip.captions_for(split)
            for name, (features, joints) in result.arrays.items():
                np.save(out_dir / "new_joint_vecs" / f"{name}.npy", features)
                np.save(out_dir / "new_joints" / f"{name}.npy", joints)
                lines = captions if name == clip.name else [mirror_caption(c) for c in captions]
                (out_dir / "texts" / f"{name}.txt").write_text("".join(_text_line(c) for c in lines))
                members[split].append(name)
                if split == "train":
                    train_features.append(features)
            frames += result.frames
            mean_errors.append(result.roundtrip_mean_m)
            max_error = max(max_error, result.roundtrip_max_m)
    if not train_features:
        raise MotionLCMError("no training clip was converted; nothing to compute statistics from")
    mean, std = feature_statistics(train_features)
    np.save(out_dir / "Mean.npy", mean)
    np.save(out_dir / "Std.npy", std)
    for split, names in members.items():
        (out_dir / f"{split}.txt").write_text("".join(f"{n}\n" for n in sorted(names)))
    report = PrepareReport(
        converted=len(mean_errors),
        skipped=dict(sorted(skipped.items())),
        frames=frames,
        seconds=time.perf_counter() - start,
        roundtrip_mean_mm=1000.0 * float(np.mean(mean_errors)) if mean_errors else 0.0,
        roundtrip_max_mm=1000.0 * max_error,
        split_sizes={split: len(names) for split, names in members.items()},
    )
    (out_dir / "prepare_report.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


class _Inline:
    """A stand-in for ``multiprocessing.Pool`` that runs jobs in this process (workers = 1)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap_unordered(
        self, function: Callable[[_Job], ClipResult], jobs: list[_Job], chunksize: int = 1
    ) -> Iterator[ClipResult]:
        """Lazily map ``function`` over ``jobs`` in order (``chunksize`` is ignored)."""
        del chunksize
        return map(function, jobs)
