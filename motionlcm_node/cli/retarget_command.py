"""``motionlcm retarget``: human joint positions to a robot joint trajectory (and an optional video).

Example::

    motionlcm retarget motion.npy --robot g1 --rate 50 --out traj.npz --render robot.mp4

The helpers :func:`add_robot_arguments` and :func:`write_robot_outputs` let other commands (``demo``,
later ``generate``) retarget the motion they produce with the same options. Errors of the
``retargeting`` package are re-raised as :class:`RetargetCommandError` (a ``MotionLCMError``) so the
command line prints them without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError

LOGGER = logging.getLogger(__name__)
DEFAULT_RATE_HZ = 50.0
DEFAULT_FPS = 20.0


class RetargetCommandError(MotionLCMError):
    """Bad input to retargeting: unreadable motion file, unknown robot, bad YAML, bad rate or output path."""


@dataclass(frozen=True)
class RobotOutputs:
    """Files written by :func:`write_robot_outputs`.

    Attributes:
        trajectory: The ``.npz`` robot trajectory.
        video: The robot-beside-human video, or ``None`` when rendering was disabled.
        summary: Key numbers of the run (robot, frames, rate, IK frames per second, limit checks).
    """

    trajectory: Path
    video: Path | None
    summary: dict[str, object]


def _positive(text: str) -> float:
    """Argparse type: a positive finite number."""
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from error
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return value


def _count(text: str) -> int:
    """Argparse type: an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got '{text}'")
    return int(text)


def _size(text: str) -> tuple[int, int]:
    """Argparse type: ``WIDTHxHEIGHT`` in pixels."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) >= 16 and int(height) >= 16):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 320x240, got '{text}'")
    return int(width), int(height)


def add_robot_arguments(
    parser: argparse.ArgumentParser, default_robot: str | None = None, standalone: bool = False
) -> None:
    """Add the robot retargeting options to a command.

    Other commands get ``--robot``, ``--robot-rate``, ``--robot-ik-workers`` and ``--robot-video-size``;
    ``motionlcm retarget`` itself (``standalone=True``) uses the shorter ``--rate``, ``--ik-workers`` and
    ``--render-size``. The parsed values are always ``robot``, ``robot_rate``, ``robot_ik_workers`` and
    ``robot_video_size``.

    Args:
        parser: The command's parser.
        default_robot: Value of ``--robot`` when not given; ``None`` means "do not retarget".
        standalone: Use the short option names of ``motionlcm retarget``.
    """
    prefix = "--" if standalone else "--robot-"
    group = parser.add_argument_group("robot retargeting")
    default_text = f" (default: {default_robot})" if default_robot else " (default: no robot output)"
    group.add_argument("--robot", default=default_robot, help="built-in robot (g1, talos) or robot YAML" + default_text)
    group.add_argument(
        f"{prefix}rate",
        dest="robot_rate",
        metavar="HZ",
        type=_positive,
        default=DEFAULT_RATE_HZ,
        help="output rate, Hz (50)",
    )
    group.add_argument(
        f"{prefix}ik-workers",
        dest="robot_ik_workers",
        metavar="N",
        type=_count,
        default=1,
        help="IK processes for long clips (1)",
    )
    size_flag = "--render-size" if standalone else "--robot-video-size"
    group.add_argument(
        size_flag, dest="robot_video_size", metavar="WxH", type=_size, default=(320, 240), help="video WIDTHxHEIGHT"
    )


def write_robot_outputs(
    joints: np.ndarray,
    fps: float,
    args: argparse.Namespace,
    out_dir: Path,
    stem: str = "robot",
    render: bool = True,
) -> RobotOutputs | None:
    """Retarget a motion onto ``args.robot`` and write ``<stem>_trajectory.npz`` (and ``<stem>.mp4``).

    Args:
        joints: ``[T, 22, 3]`` SMPL-22 joint positions, metres, Y up (the data pipeline's format).
        fps: Frame rate of ``joints``.
        args: Parsed arguments holding the options of :func:`add_robot_arguments`.
        out_dir: Folder for the outputs (created if needed).
        stem: File name stem.
        render: Whether to write the video.

    Returns:
        The written files, or ``None`` when ``args.robot`` is not set.

    Raises:
        RetargetCommandError: Unknown robot, invalid YAML, unusable motion, or unwritable output.
    """
    if not getattr(args, "robot", None):
        return None
    return _run(joints, fps, args, out_dir / f"{stem}_trajectory.npz", out_dir / f"{stem}.mp4" if render else None)


def _run(
    joints: np.ndarray, fps: float, args: argparse.Namespace, trajectory_path: Path, video: Path | None
) -> RobotOutputs:
    """Retarget, save, optionally render; every retargeting failure becomes a RetargetCommandError."""
    from retargeting import RetargetingError, evaluate, load_robot, render_video, retarget

    try:
        robot = load_robot(args.robot)
        start = time.perf_counter()
        result = retarget(joints, fps, robot, rate=args.robot_rate, workers=args.robot_ik_workers)
        seconds = time.perf_counter() - start
        result.trajectory.save_npz(trajectory_path)
        metrics = evaluate(robot, result)
        if video is not None:
            render_video(robot, result.trajectory, result.targets.human_joints, fps, video, size=args.robot_video_size)
    except RetargetingError as error:
        raise RetargetCommandError(str(error)) from error
    summary: dict[str, object] = {
        "robot": robot.name,
        "input_frames": int(result.configurations.shape[0]),
        "repaired_frames": int((~result.valid_frames).sum()),
        "rate_hz": args.robot_rate,
        "output_samples": result.trajectory.sample_count,
        "frames_per_second": round(result.configurations.shape[0] / seconds, 1),
        **{
            key: metrics.as_dict()[key]
            for key in (
                "keypoint_error_mean_m",
                "joint_limit_violations",
                "velocity_limit_violations",
                "foot_penetration_max_m",
            )
        },
    }
    LOGGER.info(
        "retargeted %d frames onto %s at %.0f frames/s -> %s",
        summary["input_frames"],
        robot.name,
        summary["frames_per_second"],
        trajectory_path,
    )
    return RobotOutputs(trajectory_path, video, summary)


def load_motion(path: Path) -> np.ndarray:
    """Read a ``[T, 22, 3]`` joint array from ``.npy``.

    Raises:
        RetargetCommandError: Missing or unreadable file, or not a numeric array.
    """
    try:
        joints = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise RetargetCommandError(f"cannot read motion {path}: {error}") from error
    if not isinstance(joints, np.ndarray) or joints.ndim != 3 or joints.shape[1:] != (22, 3):
        shape = getattr(joints, "shape", None)
        raise RetargetCommandError(f"{path}: expected a [T, 22, 3] SMPL-22 joint array, got shape {shape}")
    return joints


def run_retarget(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm retarget``."""
    if args.out.suffix.lower() != ".npz":
        raise RetargetCommandError(f"--out must be an .npz file, got '{args.out}'")
    if args.render is not None and args.render.suffix.lower() not in (".mp4", ".gif"):
        raise RetargetCommandError(f"--render must be an .mp4 or .gif file, got '{args.render}'")
    joints = load_motion(args.motion)
    outputs = _run(joints, args.fps, args, args.out, args.render)
    print(
        json.dumps(
            {
                **outputs.summary,
                "trajectory": str(outputs.trajectory),
                "video": str(outputs.video) if outputs.video else None,
            },
            indent=2,
        )
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``retarget`` command."""
    parser = subparsers.add_parser(
        "retarget",
        help="retarget SMPL-22 joint positions onto a humanoid robot",
        description="Retarget a [T, 22, 3] SMPL-22 joint array (metres, Y up) onto a robot; writes joint "
        "positions, velocities, accelerations and the base trajectory at a controller rate.",
    )
    parser.add_argument("motion", type=Path, help="input .npy of shape [T, 22, 3]")
    parser.add_argument("--fps", type=_positive, default=DEFAULT_FPS, help="frame rate of the input (default: 20)")
    parser.add_argument("--out", type=Path, default=Path("traj.npz"), help="output trajectory .npz (default: traj.npz)")
    parser.add_argument(
        "--render", type=Path, default=None, help="also write a video (.mp4 or .gif) of robot and human"
    )
    add_robot_arguments(parser, default_robot="g1", standalone=True)
    parser.set_defaults(handler=run_retarget)
