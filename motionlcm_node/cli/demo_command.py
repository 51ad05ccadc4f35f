"""``motionlcm demo``: the README's main job on a fresh machine.

Until the text-to-motion model lands, the demo prepares a slice of the Bandai-Namco data (or, where
that data is absent, the clips committed under ``tests/fixtures/bandai``), renders one captioned
clip as a stick-figure animation, retargets it onto a robot (Unitree G1 by default: a joint
trajectory ``robot_trajectory.npz`` and a video ``robot.mp4`` of the robot beside the human),
writes a contact sheet of several clips, and summarises what it did in ``demo.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from motionlcm_node.cli.retarget_command import add_robot_arguments, write_robot_outputs
from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)
DEFAULT_INPUT = Path("../shared/data/bandai-namco")
FIXTURE_INPUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "bandai"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    demo = subparsers.add_parser("demo", help="prepare a slice of the data and render a captioned clip")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    demo.add_argument(
        "--input",
        type=Path,
        default=None,
        help=f"Bandai-Namco archives or folders (default: {DEFAULT_INPUT}, else the committed test clips)",
    )
    demo.add_argument("--clips", type=int, default=40, help="clips to prepare (spread over the corpus)")
    demo.add_argument("--format", choices=("gif", "mp4"), default="gif", help="animation format")
    add_robot_arguments(demo, default_robot="g1")
    demo.set_defaults(handler=run_demo)


def _resolve_input(requested: Path | None) -> Path:
    if requested is not None:
        return requested
    if DEFAULT_INPUT.is_dir():
        return DEFAULT_INPUT
    if FIXTURE_INPUT.is_dir():
        LOGGER.info("%s not found: using the committed test clips in %s", DEFAULT_INPUT, FIXTURE_INPUT)
        return FIXTURE_INPUT
    raise MotionLCMError(f"no motion data: pass --input (the Bandai-Namco archives), {DEFAULT_INPUT} is absent")


def run_demo(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm demo``."""
    from motionlcm_node.cli.data_commands import print_prepare_report
    from motionlcm_node.data.dataset import parse_text_file
    from motionlcm_node.data.prepare import MIRROR_PREFIX, prepare_dataset
    from motionlcm_node.data.render import render_animation, render_contact_sheet
    from motionlcm_node.data.skeleton_map import SkeletonMap
    from motionlcm_node.data.sources import bandai_clips, spread_selection
    from motionlcm_node.data.splits import splits_for_clips

    if args.clips < 1:
        raise MotionLCMError("--clips must be at least 1")
    start = time.perf_counter()
    source = _resolve_input(args.input)
    data_dir = args.out / "data"
    clips = spread_selection(bandai_clips(source, args.out / "source"), args.clips)
    owner = splits_for_clips(((c.name, c.group) for c in clips), "bandai")
    report = prepare_dataset(clips, owner, SkeletonMap.builtin("bandai"), data_dir, workers=2)
    print_prepare_report(report)

    motions = {
        path.stem: np.load(path)
        for path in sorted((data_dir / "new_joints").glob("*.npy"))
        if not path.stem.startswith(MIRROR_PREFIX)
    }
    if not motions:
        raise MotionLCMError("no clip could be converted; see the skipped list above")
    hero = max(motions, key=lambda name: (("wave" in name) + ("hand" in name), len(motions[name])))
    caption = parse_text_file(data_dir / "texts" / f"{hero}.txt")[0][0]
    joints = motions[hero]
    animation = render_animation(joints, args.out / f"{hero}.{args.format}", title=caption)
    sheet_names = list(motions)[:: max(1, len(motions) // 8)][:8]
    sheet = render_contact_sheet([motions[n] for n in sheet_names], args.out / "contact_sheet.png", titles=sheet_names)
    robot = write_robot_outputs(joints, 20.0, args, args.out)
    summary = {
        "input": str(source),
        "prepared": str(data_dir),
        "clips_converted": report.converted,
        "clips_skipped": report.skipped,
        "roundtrip_max_mm": report.roundtrip_max_mm,
        "clip": hero,
        "caption": caption,
        "animation": str(animation),
        "contact_sheet": str(sheet),
        "robot": None
        if robot is None
        else {"trajectory": str(robot.trajectory), "video": str(robot.video), **robot.summary},
        "seconds": round(time.perf_counter() - start, 2),
    }
    (args.out / "demo.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"prepared {report.converted} clips into {data_dir}")
    print(f'"{caption}" -> {animation}')
    print(f"contact sheet -> {sheet}")
    if robot is not None:
        print(f"{args.robot} joint trajectory at {args.robot_rate:g} Hz -> {robot.trajectory}; video -> {robot.video}")
    print(f"summary -> {args.out / 'demo.json'} ({summary['seconds']} s)")
    return 0
