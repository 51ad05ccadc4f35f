"""``motionlcm replay``: a recorded node session (rosbag2 MCAP) back as a robot trajectory and a video.

Examples::

    motionlcm replay out/session.mcap --out out/session.mp4
    motionlcm replay out/session --robot g1 --no-render   # only out/session_trajectory.npz

The node records with its ``record_path`` parameter (see ``motionlcm_node.ros.recording``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser(
        "replay",
        help="render a recorded node session (MCAP) to a video",
        description="Rebuild the joint trajectory a controller executed from a bag the node recorded, write it as "
        "<out>_trajectory.npz and render it with the recorded human skeleton.",
    )
    parser.add_argument("bag", type=Path, help="the bag folder, or its .mcap file")
    parser.add_argument("--out", type=Path, default=Path("out/replay.mp4"), help="video (.mp4 or .gif)")
    parser.add_argument("--robot", default="g1", help="robot the session drove (built-in name or YAML)")
    parser.add_argument("--rate", type=float, default=50.0, help="rate of the rebuilt trajectory, Hz")
    parser.add_argument("--no-render", action="store_true", help="write the trajectory only")
    parser.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm replay``."""
    try:
        from motionlcm_node.ros.replay import load_replay, render_replay
    except ImportError as error:
        raise MotionLCMError(f"replay needs the ROS 2 setup (scripts/setup_ros.sh): {error}") from None
    if not (args.rate > 0 and np.isfinite(args.rate)):
        raise MotionLCMError(f"--rate must be a positive number of Hz, got {args.rate}")
    replay = load_replay(args.bag, args.rate)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    trajectory = args.out.with_name(args.out.stem + "_trajectory.npz")
    np.savez(trajectory, times=replay.times, joint_names=np.array(replay.joint_names), positions=replay.positions,
             human_times=replay.human_times, human_joints=replay.human_joints)  # fmt: skip
    print(f"{args.bag}: {replay.times[-1]:.1f} s, {len(replay.commands)} text command(s) -> {trajectory}")
    if not args.no_render:
        print(f"video -> {render_replay(replay, args.robot, args.out)}")
    return 0
