"""Benchmark the retargeter over every test clip of a HumanML3D-layout dataset.

Usage::

    .venv/bin/python benchmarks/retarget.py --data /tmp/bandai-prepared --robot g1 --rate 50 --workers 2

Reads ``DIR/test.txt`` and ``DIR/new_joints/<name>.npy`` (``[T, 22, 3]``, 20 fps) and reports, on this
machine:

* speed: input frames per second of the whole pipeline (sanitise, scale, IK, resample, limits), with
  one process and with ``--workers`` processes sharing the clips;
* keypoint error after scaling (m), against the scaled human targets;
* keypoint error on reachable targets (m): the forward kinematics of the retargeted motions, solved
  again from scratch, so every target is exactly reachable;
* joint-limit and velocity-limit violations at the output rate, non-finite values, foot sliding while
  the human foot is in contact (m/s), foot penetration (m).

Prints a JSON document and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.report import machine_description
from retargeting import RetargetResult, RobotModel, evaluate, load_robot, retarget
from retargeting.scaling import KeypointTargets
from retargeting.sequence import solve_sequence

_ROBOT: RobotModel | None = None


def load_clips(data: Path) -> dict[str, np.ndarray]:
    """Every clip named in ``data/test.txt``, as ``[T, 22, 3]`` arrays."""
    split = data / "test.txt"
    if not split.is_file():
        raise SystemExit(f"benchmark: {split} not found (expected a HumanML3D-layout dataset)")
    names = [line.strip() for line in split.read_text().splitlines() if line.strip()]
    clips = {}
    for name in names:
        path = data / "new_joints" / f"{name}.npy"
        if not path.is_file():
            raise SystemExit(f"benchmark: clip listed in test.txt is missing: {path}")
        clips[name] = np.load(path)
    return clips


def _init_worker(robot: str) -> None:
    global _ROBOT
    _ROBOT = load_robot(robot)


def _retarget_in_worker(joints: np.ndarray, rate: float) -> int:
    assert _ROBOT is not None
    return retarget(joints, 20.0, _ROBOT, rate=rate).trajectory.sample_count


def parallel_frames_per_second(clips: dict[str, np.ndarray], robot: str, rate: float, workers: int) -> float:
    """Input frames per second with ``workers`` processes sharing the clips (pool start-up excluded)."""
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(robot,)) as pool:
        list(pool.map(_retarget_in_worker, [next(iter(clips.values()))] * workers, [rate] * workers))  # warm-up
        start = time.perf_counter()
        list(pool.map(_retarget_in_worker, clips.values(), [rate] * len(clips), chunksize=4))
        seconds = time.perf_counter() - start
    return sum(len(clip) for clip in clips.values()) / seconds


def reachable_error(robot: RobotModel, result: RetargetResult) -> np.ndarray:
    """Keypoint errors (m) when the targets are the robot's own forward kinematics along the clip."""
    configurations = result.configurations
    rotations = np.array([robot.keypoint_poses(q)[1] for q in configurations])
    positions = robot.keypoint_positions(configurations)
    targets = KeypointTargets(
        fps=result.targets.fps,
        positions=positions,
        rotations=rotations,
        position_weights=result.targets.position_weights,
        orientation_weights=result.targets.orientation_weights,
        contacts=np.zeros_like(result.targets.contacts),
        ground_heights=result.targets.ground_heights,
        root_scale=1.0,
        human_joints=result.targets.human_joints,
    )
    solution = solve_sequence(robot, targets)
    tracked = targets.position_weights > 0
    return np.linalg.norm(robot.keypoint_positions(solution)[:, tracked] - positions[:, tracked], axis=-1)


def pink_comparison(robot: RobotModel, clips: dict[str, np.ndarray], frame_budget: int) -> dict[str, float]:
    """Same targets solved with pink (QP IK, daqp), one QP per frame as in this package's warm start.

    Needs pin-pink, qpsolvers and daqp (pinned in requirements-dev.txt).
    Pink's FrameTask costs use the square roots of this package's weights (pink squares costs); its
    default configuration and velocity limits come from the URDF. Returns frames per second of the IK
    alone for both solvers on the first ``frame_budget`` frames of the test clips, and both errors.
    """
    import pink
    import pinocchio as pin
    from pink import solve_ik
    from pink.tasks import FrameTask, PostureTask

    from retargeting.robot_model import KEYPOINT_FRAME_PREFIX
    from retargeting.scaling import build_targets

    used, frames, ours_seconds, pink_seconds, ours_error, pink_error = 0, 0, 0.0, 0.0, 0.0, 0.0
    for joints in clips.values():
        if used >= frame_budget:
            break
        targets = build_targets(np.asarray(joints, dtype=np.float64), 20.0, robot)
        start = time.perf_counter()
        ours = solve_sequence(robot, targets)
        ours_seconds += time.perf_counter() - start
        tasks = [
            FrameTask(
                KEYPOINT_FRAME_PREFIX + t.name,
                position_cost=np.sqrt(t.position_weight),
                orientation_cost=np.sqrt(t.orientation_weight),
            )
            for t in robot.config.keypoints
        ]
        posture = PostureTask(cost=np.sqrt(robot.config.solver.posture_weight))
        posture.set_target(robot.reference_q)
        configuration = pink.Configuration(robot.model, robot.model.createData(), ours[0])
        solved = np.empty_like(ours)
        start = time.perf_counter()
        for t in range(targets.frame_count):
            for k, task in enumerate(tasks):
                task.set_target(pin.SE3(targets.rotations[t, k], targets.positions[t, k]))
            velocity = solve_ik(configuration, [*tasks, posture], 1.0 / 20.0, solver="daqp", damping=1e-4)
            configuration.integrate_inplace(velocity, 1.0 / 20.0)
            solved[t] = configuration.q
        pink_seconds += time.perf_counter() - start
        tracked = targets.position_weights > 0
        for solution, bucket in ((ours, "ours"), (solved, "pink")):
            error = np.linalg.norm(
                robot.keypoint_positions(solution)[:, tracked] - targets.positions[:, tracked], axis=-1
            )
            if bucket == "ours":
                ours_error += error.sum()
            else:
                pink_error += error.sum()
        used += targets.frame_count
        frames += targets.frame_count * int(tracked.sum())
    return {
        "frames": used,
        "ik_frames_per_second_this_package": used / ours_seconds,
        "ik_frames_per_second_pink_daqp": used / pink_seconds,
        "keypoint_error_mean_m_this_package": ours_error / frames,
        "keypoint_error_mean_m_pink_daqp": pink_error / frames,
    }


def run(data: Path, robot_name: str, rate: float, workers: int) -> dict[str, object]:
    """Run the benchmark and return the JSON-serialisable report."""
    clips = load_clips(data)
    robot = load_robot(robot_name)
    retarget(next(iter(clips.values())), 20.0, robot, rate=rate)  # warm-up (imports, caches)
    frames = samples = 0
    seconds = {"targets": 0.0, "ik": 0.0, "resample": 0.0, "total": 0.0, "total_cpu": 0.0}
    per_clip, errors, reachable = [], [], []
    for name, joints in clips.items():
        start, cpu_start = time.perf_counter(), time.process_time()
        result = retarget(joints, 20.0, robot, rate=rate)
        seconds["total"] += time.perf_counter() - start
        seconds["total_cpu"] += time.process_time() - cpu_start
        for stage, value in result.timings.items():
            seconds[stage] += value
        metrics = evaluate(robot, result)
        frames += metrics.input_frames
        samples += metrics.output_samples
        errors.append(metrics.keypoint_error_mean_m * metrics.input_frames)
        reachable.append(reachable_error(robot, result).mean() * metrics.input_frames)
        per_clip.append({"clip": name, **metrics.as_dict()})
    total = {
        key: sum(clip[key] for clip in per_clip)
        for key in ("joint_limit_violations", "velocity_limit_violations", "non_finite_values")
    }
    sliding = [clip["foot_sliding_m_s"] for clip in per_clip]
    report: dict[str, object] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {**machine_description(), "load_average_1min_at_start": os.getloadavg()[0]},
        "robot": robot_name,
        "rate_hz": rate,
        "clips": len(clips),
        "input_frames": frames,
        "output_samples": samples,
        "frames_per_second_1_process": frames / seconds["total"],
        "frames_per_cpu_second_1_process": frames / seconds["total_cpu"],
        f"frames_per_second_{workers}_processes": parallel_frames_per_second(clips, robot_name, rate, workers)
        if workers > 1
        else None,
        "stage_seconds_1_process": seconds,
        "keypoint_error_mean_m": sum(errors) / frames,
        "keypoint_error_reachable_mean_m": sum(reachable) / frames,
        "keypoint_error_p95_worst_clip_m": max(clip["keypoint_error_p95_m"] for clip in per_clip),
        **total,
        "foot_sliding_mean_m_s": float(np.mean(sliding)),
        "foot_sliding_worst_clip_m_s": float(np.max(sliding)),
        "foot_penetration_max_m": max(clip["foot_penetration_max_m"] for clip in per_clip),
        "joint_acceleration_rms_mean": float(np.mean([clip["joint_acceleration_rms"] for clip in per_clip])),
        "load_average_1min_at_end": os.getloadavg()[0],
    }
    return report


def markdown(report: dict[str, object], workers: int) -> str:
    """A two-column markdown table of the headline numbers."""
    machine = report["machine"]
    rows = [
        ("Machine", f"{machine['cpu']}, {machine['logical_cores']} cores, {machine['os']}"),
        ("Robot / output rate", f"{report['robot']} / {report['rate_hz']:g} Hz"),
        ("Clips / input frames (20 fps)", f"{report['clips']} / {report['input_frames']}"),
        ("Frames/s, 1 process (wall clock)", f"{report['frames_per_second_1_process']:.0f}"),
        ("Frames per CPU-second, 1 process", f"{report['frames_per_cpu_second_1_process']:.0f}"),
        (
            "Load average (1 min) at start / end",
            f"{report['machine']['load_average_1min_at_start']:.2f} / {report['load_average_1min_at_end']:.2f}",
        ),
    ]
    if workers > 1:
        rows.append(
            (f"Frames/s, {workers} processes (wall clock)", f"{report[f'frames_per_second_{workers}_processes']:.0f}")
        )
    rows += [
        ("Keypoint error after scaling, mean (m)", f"{report['keypoint_error_mean_m']:.4f}"),
        ("Keypoint error on reachable targets, mean (m)", f"{report['keypoint_error_reachable_mean_m']:.4f}"),
        ("Joint-limit violations at output rate", str(report["joint_limit_violations"])),
        ("Velocity-limit violations at output rate", str(report["velocity_limit_violations"])),
        ("Non-finite output values", str(report["non_finite_values"])),
        (
            "Foot sliding in contact, mean / worst clip (m/s)",
            f"{report['foot_sliding_mean_m_s']:.3f} / {report['foot_sliding_worst_clip_m_s']:.3f}",
        ),
        ("Foot penetration, max (m)", f"{report['foot_penetration_max_m']:.4f}"),
    ]
    pink = report.get("pink_comparison")
    if isinstance(pink, dict):
        rows += [
            (
                f"IK-only frames/s on {pink['frames']} frames: this package / pink+daqp",
                f"{pink['ik_frames_per_second_this_package']:.0f} / {pink['ik_frames_per_second_pink_daqp']:.0f}",
            ),
            (
                "Keypoint error on those frames: this package / pink+daqp (m)",
                f"{pink['keypoint_error_mean_m_this_package']:.4f} / {pink['keypoint_error_mean_m_pink_daqp']:.4f}",
            ),
        ]
    lines = ["| Metric | Value |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="HumanML3D-layout dataset (test.txt, new_joints/)")
    parser.add_argument("--robot", default="g1", help="built-in robot or robot YAML (default: g1)")
    parser.add_argument("--rate", type=float, default=50.0, help="output rate in Hz (default: 50)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel speed run (default: 2)")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON report to this file")
    parser.add_argument("--pink-frames", type=int, default=0, help="also compare with pink on this many frames")
    args = parser.parse_args()
    report = run(args.data, args.robot, args.rate, args.workers)
    if args.pink_frames > 0:
        report["pink_comparison"] = pink_comparison(load_robot(args.robot), load_clips(args.data), args.pink_frames)
    text = json.dumps(report, indent=2)
    print(text)
    print()
    print(markdown(report, args.workers))
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
