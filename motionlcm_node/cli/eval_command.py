"""``motionlcm eval``: the quality table of the shipped models on the test split (markdown + JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from motionlcm_node.cli import command_eval
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.machine import machine_description

#: Row-name suffix of the samples after ``stabilize_foot_contacts``.
STABILIZED_SUFFIX = "planted-foot root fix"


def _step_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated step counts, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("step counts must be positive")
    return counts


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` command."""
    evaluate = subparsers.add_parser("eval", help="metrics of real data, VAE, teacher and student on a split")
    evaluate.add_argument("--data", type=Path, default=Path("data/bandai"), help="prepared dataset")
    evaluate.add_argument(
        "--models", type=Path, default=None, help="folder with evaluator/, vae/, teacher/, student/ (default: shipped)"
    )
    evaluate.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="split to score (tune sampling settings on val, report on test)",
    )
    evaluate.add_argument("--out", type=Path, default=None, help="write the markdown table here (and .json beside)")
    evaluate.add_argument("--repeats", type=int, default=3, help="independent repeats for the 95%% intervals")
    evaluate.add_argument("--steps", type=int, default=50, help="teacher DDIM steps")
    evaluate.add_argument("--guidance", type=float, default=7.5, help="teacher classifier-free guidance scale")
    evaluate.add_argument(
        "--student-steps", type=_step_counts, default=(1, 2, 4), help="student step counts, comma separated"
    )
    evaluate.add_argument(
        "--student-guidance", type=float, default=None, help="student guidance scale (default: its step table's)"
    )
    evaluate.add_argument(
        "--smoothing", type=float, default=None,
        help="student rows: Gaussian sigma along time, frames (default: the pipeline's, postprocess/smoothing.py)",
    )  # fmt: skip
    evaluate.add_argument(
        "--denoiser-backend", choices=("auto", "onnx", "torch"), default="auto",
        help="teacher and student networks: ONNX Runtime exports beside their weights (`motionlcm export "
        "denoiser`) or torch (auto: ONNX if current)",
    )  # fmt: skip
    evaluate.add_argument("--no-teacher", action="store_true", help="leave the teacher row out")
    evaluate.add_argument("--no-student", action="store_true", help="leave the MotionLCM rows out")
    evaluate.add_argument(
        "--stabilized-rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score each generator's samples after the planted-foot root correction "
        "(postprocess/foot_contacts.py; same samples, so the pair isolates its effect)",
    )
    evaluate.add_argument(
        "--timing-sentences", type=int, default=10, help="sentences timed at batch 1 (0: no timing column)"
    )
    evaluate.add_argument("--pool-size", type=int, default=32, help="R-precision pool size")
    evaluate.add_argument("--seed", type=int, default=0)
    command_eval.add_arguments(evaluate)
    evaluate.set_defaults(handler=run_eval)


def _batched(pipeline: Callable[..., object], **settings: object) -> Callable[..., object]:
    """A row generator: raw features [B, max(lengths), 263] in chunks of 128 prompts."""

    def generate(prompts: list[str], lengths: list[int], generator: np.random.Generator) -> np.ndarray:
        features = np.zeros((len(prompts), max(lengths), 263), np.float32)
        for start in range(0, len(prompts), 128):
            output = pipeline(
                prompts[start : start + 128], lengths[start : start + 128], generator=generator, **settings
            )
            features[start : start + 128, : output.features.shape[1]] = output.features
        return features

    return generate


def _stabilized(features: object, lengths: object) -> object:
    """``stabilize_foot_contacts`` on the protocol's torch tensors."""
    import torch

    from motionlcm_node.postprocess.foot_contacts import stabilize_foot_contacts

    return torch.from_numpy(stabilize_foot_contacts(features.numpy(), lengths.numpy()))


def run_eval(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm eval``."""
    if command_eval.wants_command_eval(args):
        return command_eval.run_command_eval(args)
    import torch

    from motionlcm_node.evaluation.protocol import evaluate, markdown_table, time_per_sentence
    from motionlcm_node.loading.models import load_evaluator, load_vae
    from motionlcm_node.loading.text import load_model_text_encoder
    from motionlcm_node.resources import models_dir
    from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
    from motionlcm_node.sampling.pipeline import LatentDiffusionPipeline

    if args.repeats < 1 or args.steps < 1:
        raise MotionLCMError("--repeats and --steps must be at least 1")
    if args.pool_size < 2:
        raise MotionLCMError(f"--pool-size must be at least 2, got {args.pool_size}")
    if args.timing_sentences < 0:
        raise MotionLCMError(f"--timing-sentences must be 0 (no timing) or more, got {args.timing_sentences}")
    models = args.models if args.models is not None else models_dir()
    if not (models / "evaluator").is_dir():
        raise MotionLCMError(f"no evaluator in {models / 'evaluator'}: train one with `motionlcm train evaluator`")
    evaluator = load_evaluator(models / "evaluator")
    # MiniLM for the evaluator and the teacher (the student reads its own static encoder, as
    # `motionlcm generate` runs it); ONNX Runtime when exported, else torch: the same vectors.
    text_encoder = load_model_text_encoder(models / "evaluator")
    note = statistics_note(args.data, evaluator.normalizer.mean.numpy())
    if note:
        print(note, file=sys.stderr)
    vae = load_vae(models / "vae") if (models / "vae").is_dir() else None
    generators, extra, backends = {}, {}, {}

    def add_row(name: str, pipeline: Callable[..., object], **settings: object) -> None:
        """A generator row, timed at batch 1 unless ``--timing-sentences 0``."""
        generators[name] = _batched(pipeline, **settings)
        if args.timing_sentences:
            # Sentences no caption (and no other row) uses, so every row's timing includes text encoding.
            prompts = [f"a person does motion number {k} for {name}" for k in range(args.timing_sentences)]
            seconds = time_per_sentence(pipeline, prompts, **settings)
            extra[name] = {"s / sentence (batch 1, 196 frames)": f"{seconds:.3f}"}

    if vae is not None and (models / "teacher").is_dir() and not args.no_teacher:
        teacher = LatentDiffusionPipeline.from_models(models, text_encoder, denoiser_backend=args.denoiser_backend)
        name = f"Teacher (DDIM {args.steps}, w = {args.guidance:g})"
        backends[name] = {"denoiser": type(teacher.denoiser).__name__, "vae_decoder": type(teacher.decoder).__name__,
                          "text_encoder": type(teacher.text_encoder).__name__}  # fmt: skip
        add_row(name, teacher, num_steps=args.steps, guidance=args.guidance)
    if vae is not None and (models / "student").is_dir() and not args.no_student:
        # The captions as written (no command interpreter): the protocol scores the generator on them.
        student = MotionLCMPipeline.from_models(models, denoiser_backend=args.denoiser_backend, understand=False)
        for steps in args.student_steps:
            plan = student.plan(steps, args.student_guidance)
            name = f"MotionLCM ({steps} step{'s' if steps > 1 else ''}, w = {plan.guidance:g})"
            smoothing = {} if args.smoothing is None else {"smoothing": args.smoothing}
            add_row(name, student, num_steps=steps, guidance=plan.guidance, **smoothing)
            backends[name] = {"denoiser": type(student.student).__name__, "vae_decoder": type(student.decoder).__name__,
                              "text_encoder": type(student.text_encoder).__name__}  # fmt: skip
    with torch.no_grad():
        rows = evaluate(
            args.data,
            evaluator,
            text_encoder,
            vae,
            generators,
            repeats=args.repeats,
            seed=args.seed,
            pool_size=args.pool_size,
            split=args.split,
            post_processes={STABILIZED_SUFFIX: _stabilized} if args.stabilized_rows else None,
        )
    table = markdown_table(rows, extra)
    described = machine_description()
    machine = f"{described['cpu']}, {described['logical_cores']} logical cores, {torch.get_num_threads()} torch threads"
    print(table)
    print(f"\n{args.repeats} repeats on {args.data}/{args.split}.txt; machine: {machine}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n")
        summary = {row.name: row.summary() for row in rows}
        report = {"rows": summary, "extra": extra, "backends": backends, "machine": described, "split": args.split,
                  "repeats": args.repeats}  # fmt: skip
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def statistics_note(data_dir: Path, trained_mean: np.ndarray, tolerance: float = 1e-6) -> str | None:
    """A note when ``data_dir`` was prepared differently from the data the models were trained on.

    The models ship the feature mean of their training split; a dataset whose ``Mean.npy`` differs
    (another version of ``motionlcm data prepare``, other source files) still evaluates, but its
    figures are not comparable with ones published for the models. None when they match or when
    the dataset has no ``Mean.npy`` (the loader reports that).
    """
    path = data_dir / "Mean.npy"
    if not path.is_file():
        return None
    mean = np.load(path)
    if mean.shape != trained_mean.shape:
        return f"note: {path} has {mean.shape} features, the models were trained on {trained_mean.shape}"
    gap = float(np.max(np.abs(mean.astype(np.float64) - trained_mean.astype(np.float64))))
    if gap <= tolerance:
        return None
    return (
        f"note: {path} differs from the feature mean the models were trained with (max |difference| {gap:.1e}): "
        "this dataset was prepared differently (another code version or source files), so its figures are not "
        "directly comparable with ones measured on the training-time preparation"
    )
