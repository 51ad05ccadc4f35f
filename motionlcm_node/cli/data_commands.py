"""``motionlcm data prepare | splits | show``: build the training data and look at it."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from motionlcm_node.errors import MotionLCMError

if TYPE_CHECKING:
    from motionlcm_node.data.prepare import PrepareReport

LOGGER = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group."""
    data = subparsers.add_parser("data", help="prepare motion data and render pictures of it")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    prepare = commands.add_parser("prepare", help="convert BVH mocap into the HumanML3D layout")
    prepare.add_argument(
        "--source",
        choices=("bandai", "bvh"),
        default="bandai",
        help="bandai: the Bandai-Namco archives or folders; bvh: X.bvh + X.txt captions",
    )
    prepare.add_argument("--input", type=Path, required=True, help="folder with the source data")
    prepare.add_argument("--out", type=Path, required=True, help="output folder (HumanML3D layout)")
    prepare.add_argument(
        "--skeleton",
        type=Path,
        default=None,
        help="skeleton mapping YAML (default: the built-in mapping of --source bandai)",
    )
    prepare.add_argument(
        "--limit", type=int, default=None, help="convert only N clips, spread evenly over the sorted list (quick runs)"
    )
    prepare.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="conversion processes")
    prepare.add_argument("--no-mirror", action="store_true", help="do not add mirrored copies")
    prepare.set_defaults(handler=run_prepare)

    splits = commands.add_parser("splits", help="(re)compute the fixed splits of a source and write them")
    splits.add_argument("--source", choices=("bandai", "bvh"), default="bandai")
    splits.add_argument("--input", type=Path, required=True)
    splits.add_argument("--out", type=Path, required=True, help="folder for {prefix}train/val/test.txt")
    splits.add_argument("--prefix", default="", help="file name prefix, e.g. 'bandai_'")
    splits.set_defaults(handler=run_splits)

    show = commands.add_parser("show", help="render a clip as a stick-figure GIF/MP4, or a contact sheet PNG")
    show.add_argument(
        "clips", nargs="+", type=Path, help="joints .npy [T,22,3], features .npy [T,263], or .bvh (Bandai mapping)"
    )
    show.add_argument("--out", type=Path, required=True, help=".gif or .mp4 (first clip), or .png contact sheet")
    show.add_argument(
        "--targets",
        type=Path,
        default=None,
        help=".npy of target points [T,K,3] or [K,3] (metres) drawn as red markers",
    )
    show.add_argument("--fps", type=float, default=20.0, help="frame rate of joint/feature input")
    show.add_argument("--title", default=None, help="title above the figure (default: file name)")
    show.add_argument("--size", type=int, default=400, help="animation width and height in pixels")
    show.set_defaults(handler=run_show)


def _clips_from_source(source: str, input_dir: Path, cache_dir: Path) -> list:
    from motionlcm_node.data.sources import bandai_clips, bvh_folder_clips

    return bandai_clips(input_dir, cache_dir) if source == "bandai" else bvh_folder_clips(input_dir)


def run_prepare(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm data prepare``."""
    from motionlcm_node.data.prepare import prepare_dataset
    from motionlcm_node.data.skeleton_map import SkeletonMap
    from motionlcm_node.data.sources import spread_selection
    from motionlcm_node.data.splits import splits_for_clips

    if args.skeleton is None and args.source != "bandai":
        raise MotionLCMError("--source bvh needs --skeleton MAPPING.yaml (see motionlcm_node/data/skeletons/)")
    mapping = SkeletonMap.from_yaml(args.skeleton) if args.skeleton else SkeletonMap.builtin("bandai")
    clips = _clips_from_source(args.source, args.input, args.out / "source")
    owner = splits_for_clips(((c.name, c.group) for c in clips), "bandai" if args.source == "bandai" else None)
    if args.limit is not None:
        if args.limit < 1:
            raise MotionLCMError("--limit must be at least 1")
        clips = spread_selection(clips, args.limit)
    report = prepare_dataset(clips, owner, mapping, args.out, mirror=not args.no_mirror, workers=max(1, args.workers))
    print_prepare_report(report)
    print(f"wrote {args.out}")
    return 0


def print_prepare_report(report: PrepareReport) -> None:
    """Print what a conversion did, with every skipped clip and its reason."""
    print(
        f"converted {report.converted} clips ({report.frames} frames at 20 fps) in {report.seconds:.1f} s; "
        f"splits {report.split_sizes}; round-trip error mean {report.roundtrip_mean_mm:.2e} mm, "
        f"max {report.roundtrip_max_mm:.2e} mm"
    )
    if report.skipped:
        print(f"skipped {len(report.skipped)} clips:")
        for name, reason in report.skipped.items():
            print(f"  {name}: {reason}")


def run_splits(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm data splits``."""
    from motionlcm_node.data.splits import assign_splits, write_splits

    clips = _clips_from_source(args.source, args.input, args.out / ".source-cache")
    splits = assign_splits((c.name, c.group) for c in clips)
    write_splits(splits, args.out, args.prefix)
    print(json.dumps({split: len(names) for split, names in splits.items()}))
    return 0


def load_joints(path: Path) -> np.ndarray:
    """Joints [T, 22, 3] in metres from a joints .npy, a features .npy, or a Bandai-rig BVH."""
    from motionlcm_node.data.features import validate_joints

    if path.suffix.lower() == ".bvh":
        from motionlcm_node.data.bvh import read_bvh
        from motionlcm_node.data.features import canonicalize
        from motionlcm_node.data.skeleton_map import SkeletonMap

        return canonicalize(SkeletonMap.builtin("bandai").joints_from_clip(read_bvh(path)), lengths=None)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise MotionLCMError(f"{path}: cannot load ({error})") from None
    if array.ndim == 2 and array.shape[1] == 263:
        from motionlcm_node.data.recovery import recover_joints

        if not np.all(np.isfinite(array)):
            raise MotionLCMError(f"{path}: features contain NaN or infinite values")
        array = recover_joints(np.asarray(array, dtype=np.float64))
    try:
        return validate_joints(array)
    except MotionLCMError as error:
        raise MotionLCMError(f"{path}: {error}") from None


def run_show(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm data show``."""
    from motionlcm_node.data.render import render_animation, render_contact_sheet

    clips = [load_joints(path) for path in args.clips]
    targets = None
    if args.targets is not None:
        targets = np.load(args.targets, allow_pickle=False)
        if targets.shape[-1] != 3 or targets.ndim not in (2, 3):
            raise MotionLCMError(f"{args.targets}: targets must be [K, 3] or [T, K, 3], got {list(targets.shape)}")
    suffix = args.out.suffix.lower()
    if suffix == ".png":
        render_contact_sheet(clips, args.out, titles=[p.stem for p in args.clips])
    elif suffix in (".gif", ".mp4"):
        if args.size < 64:
            raise MotionLCMError("--size must be at least 64 pixels")
        title = args.title or args.clips[0].stem
        render_animation(clips[0], args.out, fps=args.fps, title=title, targets=targets, size_px=args.size)
    else:
        raise MotionLCMError(f"--out must end in .gif, .mp4 or .png, got {args.out.name}")
    print(f"wrote {args.out}")
    return 0
