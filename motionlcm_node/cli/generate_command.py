"""``motionlcm generate``: text in, motion out, with the MotionLCM student (1-4 consistency steps).

Examples::

    motionlcm generate "a person waves with the right hand" --seconds 6 --out out/generate
    motionlcm generate --prompt-file prompts.txt --num-samples 3 --steps 2 --video-format mp4
    motionlcm generate "a person walks forward" --seconds 4 --robot g1 --out out/walk

A prompt file holds one prompt per line; blank lines and lines starting with ``#`` are skipped, and a
line may start with its own duration in seconds: ``6.0 | a person walks in a circle``
(``generate_requests.py`` reads and checks the prompts).

Every sample ``k`` goes to ``DIR/<k>_<slug>/``: ``joints.npy`` ([T, 22, 3] float32, metres, Y up,
20 fps), ``features.npy`` ([T, 263] float32 HumanML3D features), ``motion.gif`` or ``motion.mp4`` (a
stick figure) and, with ``--robot``, ``robot_trajectory.npz`` and ``robot.mp4``. ``DIR/generate.json``
records the request of every sample (prompt, seconds, frames, steps, timesteps, guidance, seed), the
model folder, device, machine and timings (model loading = cold start; generation per stage). All
samples are generated in one batched call (chunks of ``MAX_BATCH``); the same seed and request give
identical joints. On the default ONNX Runtime backends the command never imports torch, which keeps
its start-up short (``python -m benchmarks.startup``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from motionlcm_node.cli.generate_requests import collect_requests, slugify
from motionlcm_node.cli.retarget_command import add_robot_arguments, write_robot_outputs
from motionlcm_node.data.layout import FPS
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.text import STUDENT_TEXT_BACKENDS
from motionlcm_node.postprocess.smoothing import DEFAULT_SIGMA_FRAMES

if TYPE_CHECKING:
    from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline

MAX_BATCH = 256  # sequences per pipeline call
STUDENT_HELP = "see models/MODEL_CARD.md for the commands that train the student and its VAE"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` command."""
    parser = subparsers.add_parser(
        "generate",
        help="generate human motion from text with the MotionLCM student",
        description="Text to motion with the consistency-distilled student: joints, features, a stick-figure "
        "video per sample, optionally a robot trajectory, and generate.json.",
    )
    parser.add_argument("prompts", nargs="*", metavar="PROMPT", help="sentences describing the motion")
    parser.add_argument("--prompt-file", type=Path, default=None, help="one prompt per line ('6.0 | prompt' sets s)")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each motion, s (default: 6.0)")
    parser.add_argument("--steps", type=int, default=1, help="consistency steps, a key of the step table (1)")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the step table's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--num-samples", type=int, default=1, help="samples per prompt (default: 1)")
    parser.add_argument(
        "--models", type=Path, default=None, help="folder with student/ and vae/ (default: the shipped models)"
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda", "auto"), default="auto",
        help="cpu or cuda (auto: cuda where ONNX Runtime has its CUDA provider)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per stage (default: the cores, up to 8)")
    parser.add_argument(
        "--text-backend", choices=STUDENT_TEXT_BACKENDS, default="auto",
        help="sentence encoder: the student's static one (models/student_text), MiniLM on ONNX Runtime "
        "(`motionlcm export text-encoder`) or on torch (auto: static if shipped, else ONNX if built)",
    )  # fmt: skip
    parser.add_argument(
        "--decoder-backend", choices=("auto", "onnx", "torch"), default="auto",
        help="VAE decoder: ONNX Runtime export beside the VAE (`motionlcm export vae-decoder`) or torch "
        "(auto: ONNX if current)",
    )  # fmt: skip
    parser.add_argument(
        "--denoiser-backend", choices=("auto", "onnx", "torch"), default="auto",
        help="student network: ONNX Runtime export beside its weights (`motionlcm export denoiser`) or torch "
        "(auto: ONNX if current)",
    )  # fmt: skip
    parser.add_argument(
        "--stabilize-feet", action=argparse.BooleanOptionalAction, default=True,
        help="move the root so that the feet the model labels planted do not slide (postprocess/foot_contacts.py; "
        "the pose is unchanged; default: on)",
    )  # fmt: skip
    parser.add_argument(
        "--smoothing", type=float, default=DEFAULT_SIGMA_FRAMES,
        help=f"Gaussian sigma along time, frames (postprocess/smoothing.py; 0: off; default {DEFAULT_SIGMA_FRAMES:g})",
    )  # fmt: skip
    parser.add_argument(
        "--no-understanding", action="store_true",
        help="give the student the prompt as written: no reading as a known action, no refusal",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("out/generate"), help="output folder (out/generate)")
    parser.add_argument("--video-format", choices=("gif", "mp4"), default="gif", help="stick-figure format (gif)")
    parser.add_argument("--no-video", action="store_true", help="write no videos (stick figure or robot)")
    add_robot_arguments(parser, default_robot=None)
    parser.set_defaults(handler=run_generate)


def resolve_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``auto`` (cuda where ONNX Runtime has its CUDA provider) to a device name."""
    if name != "auto":
        return name
    from motionlcm_node.runtime.onnx_session import onnx_runs_on

    return "cuda" if onnx_runs_on("cuda") else "cpu"


def default_threads() -> int:
    """CPU threads per stage: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def load_pipeline(
    models: Path | None,
    device: str,
    text_backend: str = "auto",
    decoder_backend: str = "auto",
    denoiser_backend: str = "auto",
    threads: int | None = None,
    understand: bool = True,
) -> MotionLCMPipeline:
    """The student pipeline of ``models`` (default: the shipped models) on ``device``, text encoder included.

    Raises:
        MotionLCMError: missing student or VAE, or a text-model mismatch.
    """
    from motionlcm_node.resources import models_dir
    from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline

    models = models if models is not None else models_dir()
    if not (models / "student" / "model.safetensors").is_file():
        raise MotionLCMError(f"no student model in {models / 'student'}: {STUDENT_HELP}")
    if not (models / "vae" / "model.safetensors").is_file():
        raise MotionLCMError(f"no VAE in {models / 'vae'}: the student decodes with the VAE it was distilled on")
    return MotionLCMPipeline.from_models(
        models,
        None,
        device,
        decoder_backend,
        denoiser_backend,
        text_backend,
        threads or default_threads(),
        understand=understand,
    )


def _check_options(args: argparse.Namespace) -> None:
    if args.num_samples < 1:
        raise MotionLCMError(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.steps < 1:
        raise MotionLCMError(f"--steps must be at least 1, got {args.steps}")
    if args.guidance is not None and not (math.isfinite(args.guidance) and args.guidance >= 0):
        raise MotionLCMError(f"--guidance must be a finite number >= 0, got {args.guidance}")
    if args.threads is not None and args.threads < 1:
        raise MotionLCMError(f"--threads must be at least 1, got {args.threads}")
    if not (math.isfinite(args.smoothing) and 0 <= args.smoothing <= 5):
        raise MotionLCMError(f"--smoothing must be 0-5 frames, got {args.smoothing}")


def _generate(
    pipeline: MotionLCMPipeline, prompts: list[str], lengths: list[int], args: argparse.Namespace
) -> tuple[list[np.ndarray], list[np.ndarray], dict[str, float], list[object]]:
    """Joints [T, 22, 3] and features [T, 263] per sample (float32), the summed stage timings (s), the readings."""
    generator = np.random.default_rng(args.seed)
    joints, features, timings, understood = [], [], {}, []
    for start in range(0, len(prompts), MAX_BATCH):
        chunk = slice(start, start + MAX_BATCH)
        output = pipeline(
            prompts[chunk], lengths[chunk], num_steps=args.steps, guidance=args.guidance, generator=generator,
            stabilize_feet=args.stabilize_feet, smoothing=args.smoothing,
        )  # fmt: skip
        understood += output.understood
        for index, frames in enumerate(output.lengths):
            joints.append(output.joints[index, :frames].astype(np.float32))
            features.append(output.features[index, :frames].astype(np.float32))
        for stage, seconds in output.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    return joints, features, timings, understood


def _reading_record(reading: object) -> dict[str, object]:
    """What a prompt was understood as, for ``generate.json``."""
    return {"action": reading.action, "caption": reading.caption, "similarity": reading.similarity,
            "closest": [list(pair) for pair in reading.closest]}  # fmt: skip


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm generate``."""
    from motionlcm_node.machine import machine_description
    from motionlcm_node.sampling.output import lengths_from_seconds

    _check_options(args)
    requests = collect_requests(args)
    threads = args.threads or default_threads()
    device = resolve_device(args.device)
    start = time.perf_counter()
    pipeline = load_pipeline(
        args.models,
        device,
        args.text_backend,
        args.decoder_backend,
        args.denoiser_backend,
        threads,
        understand=not args.no_understanding,
    )
    load_seconds = time.perf_counter() - start
    try:
        plan = pipeline.plan(args.steps, args.guidance)
    except MotionLCMError as error:
        raise MotionLCMError(f"--steps: {error}") from None

    samples = [request for request in requests for _ in range(args.num_samples)]
    prompts = [sample.prompt for sample in samples]
    lengths = lengths_from_seconds([sample.seconds for sample in samples], pipeline.max_frames)
    joints, features, stage_seconds, understood = _generate(pipeline, prompts, lengths, args)

    args.out.mkdir(parents=True, exist_ok=True)
    render_seconds = robot_seconds = 0.0
    records = []
    for index, (sample, motion, feature) in enumerate(zip(samples, joints, features, strict=True)):
        folder = args.out / f"{index:03d}_{slugify(sample.prompt)}"
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "joints.npy", motion)
        np.save(folder / "features.npy", feature)
        mark = time.perf_counter()
        video = None
        if not args.no_video:
            from motionlcm_node.data.render import render_animation

            video = render_animation(motion, folder / f"motion.{args.video_format}", fps=FPS, title=sample.prompt)
        render_seconds += time.perf_counter() - mark
        mark = time.perf_counter()
        robot = write_robot_outputs(motion, FPS, args, folder, render=not args.no_video)
        robot_seconds += time.perf_counter() - mark
        records.append({
            "index": index, "prompt": sample.prompt, "seconds": sample.seconds, "frames": len(motion),
            "steps": args.steps, "timesteps": list(plan.timesteps), "guidance": plan.guidance, "seed": args.seed,
            "folder": str(folder), "joints": str(folder / "joints.npy"), "features": str(folder / "features.npy"),
            "video": None if video is None else str(video),
            "understood": _reading_record(understood[index]) if understood else None,
            "robot": None if robot is None else {
                "trajectory": str(robot.trajectory), "video": None if robot.video is None else str(robot.video),
                **robot.summary,
            },
        })  # fmt: skip
    summary = {
        "models": str(args.models) if args.models is not None else "shipped",
        "device": device,
        "threads": threads,
        "torch_imported": "torch" in sys.modules,
        "text_encoder": type(pipeline.text_encoder).__name__,
        "vae_decoder": type(pipeline.decoder).__name__,
        "denoiser": type(pipeline.student).__name__,
        "machine": machine_description(),
        "fps": FPS,
        "steps": args.steps,
        "timesteps": list(plan.timesteps),
        "guidance": plan.guidance,
        "seed": args.seed,
        "seed_note": "one generator seeded with `seed` draws the noise of the whole batch, in sample order",
        "stabilize_feet": args.stabilize_feet,
        "smoothing_frames": args.smoothing,
        "num_samples_per_prompt": args.num_samples,
        "timings_s": {
            "model_load_cold_start": load_seconds,
            "generation": stage_seconds,
            "generation_per_sample": stage_seconds["total"] / len(samples),
            "render": render_seconds,
            "robot": robot_seconds,
        },
        "samples": records,
    }
    (args.out / "generate.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _print_summary(summary, args.out)
    return 0


def _print_summary(summary: dict[str, object], out: Path) -> None:
    timings = summary["timings_s"]
    stages = timings["generation"]
    for record in summary["samples"]:
        if record["understood"]:
            reading = record["understood"]
            print(f'"{record["prompt"]}" understood as {reading["action"]} ({reading["similarity"]:.2f}): '
                  f'generating "{reading["caption"]}"')  # fmt: skip
        files = ", ".join(Path(path).name for path in (record["joints"], record["video"]) if path)
        if record["robot"]:
            files += ", " + Path(record["robot"]["trajectory"]).name
        print(f'"{record["prompt"]}": {record["frames"]} frames ({record["frames"] / FPS:g} s) -> '
              f"{record['folder']}/ ({files})")  # fmt: skip
    print(
        f"{len(summary['samples'])} sample(s), {summary['steps']} step(s), guidance {summary['guidance']:g}, "
        f"seed {summary['seed']}, on {summary['device']}: model load {timings['model_load_cold_start']:.2f} s "
        f"(cold start); generation {1000 * stages['total']:.0f} ms (text {1000 * stages['text']:.0f}, "
        f"denoise {1000 * stages['denoise']:.0f}, decode {1000 * stages['decode']:.0f}, "
        f"joints {1000 * stages['joints']:.0f})"
    )
    print(f"summary -> {out / 'generate.json'}")
