"""Benchmark of ``motionlcm data prepare`` on the whole Bandai-Namco corpus.

Measures, in one run on this machine: wall time to prepare every clip (archive unpacking
included), clips converted and skipped, the joints -> features -> joints round-trip error over all
clips, and the BVH import throughput of our parser beside ``bvhio`` on the same files (the reason
``motionlcm_node/data/bvh.py`` exists). Targets (issue 2): at most 10 minutes on the 2-core machine,
mean round-trip error at most 1 mm and max at most 5 mm.

    python -m benchmarks.data_prepare --input ../shared/data/bandai-namco
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.report import emit, machine_description
from motionlcm_node.data.bvh import forward_kinematics, read_bvh
from motionlcm_node.data.prepare import prepare_dataset
from motionlcm_node.data.skeleton_map import SkeletonMap
from motionlcm_node.data.sources import bandai_clips
from motionlcm_node.data.splits import builtin_splits, split_of

TIME_TARGET_S = 600.0
MEAN_ERROR_TARGET_MM = 1.0
MAX_ERROR_TARGET_MM = 5.0


def parser_comparison(paths: list[Path]) -> dict[str, float] | None:
    """Frames per second of BVH parsing + forward kinematics: ours vs bvhio (None if not installed)."""
    try:
        import bvhio
    except ImportError:
        return None
    frames = 0
    start = time.perf_counter()
    for path in paths:
        clip = read_bvh(path)
        forward_kinematics(clip.skeleton, clip.local_rotations, clip.local_translations)
        frames += clip.num_frames
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for path in paths:
        root = bvhio.readAsHierarchy(str(path))
        joints = [joint for joint, _, _ in root.layout()]
        for frame in range(len(root.Keyframes)):
            root.loadPose(frame)
            _ = [joint.PositionWorld for joint in joints]
    theirs = time.perf_counter() - start
    return {
        "clips": len(paths),
        "frames": frames,
        "ours_frames_per_s": frames / ours,
        "bvhio_frames_per_s": frames / theirs,
        "speedup": theirs / ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=Path("../shared/data/bandai-namco"))
    parser.add_argument("--out", type=Path, default=None, help="keep the prepared data here (default: temp)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--compare-clips", type=int, default=40, help="clips for the parser comparison")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "prepared"
        start = time.perf_counter()
        clips = bandai_clips(args.input, out / "source")
        report = prepare_dataset(
            clips, split_of(builtin_splits("bandai")), SkeletonMap.builtin("bandai"), out, workers=args.workers
        )
        total = time.perf_counter() - start
        comparison = parser_comparison([clip.path for clip in clips[:: max(1, len(clips) // args.compare_clips)]])

    result = {
        "machine": machine_description(),
        "workers": args.workers,
        "clips_found": len(clips),
        "clips_converted": report.converted,
        "clips_skipped": len(report.skipped),
        "skipped": report.skipped,
        "frames_20fps": report.frames,
        "total_seconds": round(total, 1),
        "conversion_seconds": round(report.seconds, 1),
        "roundtrip_mean_mm": report.roundtrip_mean_mm,
        "roundtrip_max_mm": report.roundtrip_max_mm,
        "split_sizes": report.split_sizes,
        "bvh_import": comparison,
        "targets_met": {
            "time": total <= TIME_TARGET_S,
            "roundtrip_mean": report.roundtrip_mean_mm <= MEAN_ERROR_TARGET_MM,
            "roundtrip_max": report.roundtrip_max_mm <= MAX_ERROR_TARGET_MM,
        },
    }
    rows = [
        ["time to prepare all clips (unpacking included)", f"{total:.1f} s", f"<= {TIME_TARGET_S:.0f} s"],
        ["clips converted / skipped", f"{report.converted} / {len(report.skipped)}", ""],
        ["frames at 20 fps (sources, mirrors excluded)", report.frames, ""],
        ["round-trip joint error, mean", f"{report.roundtrip_mean_mm:.2e} mm", f"<= {MEAN_ERROR_TARGET_MM} mm"],
        ["round-trip joint error, max", f"{report.roundtrip_max_mm:.2e} mm", f"<= {MAX_ERROR_TARGET_MM} mm"],
    ]
    if comparison:
        rows.append(
            [
                f"BVH import + FK, {comparison['clips']} clips: ours vs bvhio",
                f"{comparison['ours_frames_per_s']:.0f} vs {comparison['bvhio_frames_per_s']:.0f} frames/s "
                f"({comparison['speedup']:.0f}x)",
                "",
            ]
        )
    emit(result, ["measure", "value", "target"], rows)


if __name__ == "__main__":
    main()
