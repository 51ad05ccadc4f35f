"""``motionlcm eval --commands / --refusals / --training-style / --classifier``: the command benchmark.

    motionlcm eval --classifier                                     # the judge on real test clips
    motionlcm eval --commands benchmarks/commands/dev.txt --refusals benchmarks/commands/dev_refuse.txt
    motionlcm eval --training-style --seeds 5                       # every action in the captions' wording

Motions come from the default pipeline (the shipped student, 1 step, planted-foot fix, as
``motionlcm generate`` runs it) at ``--seconds``; ``evaluation.commands`` explains the scores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.machine import machine_description

#: Length of a motion whose action has no typical length (no interpreter), s.
FALLBACK_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-benchmark options of ``motionlcm eval``."""
    group = parser.add_argument_group("command benchmark (instead of the quality table)")
    group.add_argument("--commands", type=Path, default=None, help="'label | text' command file to score")
    group.add_argument("--refusals", type=Path, default=None, help="file of commands that must be refused")
    group.add_argument("--training-style", action="store_true", help="score every action in training wording")
    group.add_argument("--classifier", action="store_true", help="score the action classifier on real clips")
    group.add_argument("--seeds", type=int, default=3, help="motions per command")
    group.add_argument(
        "--seconds", type=float, default=None,
        help="length of every motion, s (default: the understood action's typical length; 5 without the interpreter)",
    )  # fmt: skip
    group.add_argument("--num-steps", type=int, default=1, help="student steps")
    group.add_argument(
        "--no-understanding", action="store_true", help="give the student the commands as written (no interpreter)"
    )


def wants_command_eval(args: argparse.Namespace) -> bool:
    """Whether ``motionlcm eval`` was asked for the command benchmark."""
    return bool(args.commands or args.refusals or args.training_style or args.classifier)


def _table(report: dict[str, object], title: str) -> str:
    from motionlcm_node.evaluation.actions import coarse_group

    lines = [f"### {title}", "", "| action | group | commands | fine | coarse | refused |", "|---|---|---|---|---|---|"]
    for action, entry in report["actions"].items():
        lines.append(f"| {action} | {coarse_group(action)} | {entry['commands']} | {entry['fine']:.2f} | "
                     f"{entry['coarse']:.2f} | {entry['refused']:.2f} |")  # fmt: skip
    lines.append(f"| **all** | | {report['commands']} x {report['seeds']} seeds | **{report['fine']:.3f}** | "
                 f"**{report['coarse']:.3f}** | {report['refused']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def _accuracy_table(report: dict[str, object]) -> str:
    """Per-action fine accuracy of the classifier on real clips (and after the VAE round trip)."""
    real, round_trip = report["classifier"], report.get("classifier_after_vae")
    lines = ["| action | clips | fine (real) | fine (after the VAE) |", "|---|---|---|---|"]
    for action, entry in real["actions"].items():
        after = f"{round_trip['actions'][action]['fine']:.2f}" if round_trip else ""
        lines.append(f"| {action} | {entry['clips']} | {entry['fine']:.2f} | {after} |")
    return "\n".join(lines)


def run_command_eval(args: argparse.Namespace) -> int:
    """Handler of the command benchmark."""
    from motionlcm_node.evaluation.commands import read_command_file, score_commands, training_style_commands
    from motionlcm_node.evaluation.judge import ActionJudge, split_accuracy
    from motionlcm_node.resources import models_dir

    if args.seeds < 1 or (args.seconds is not None and not 0.5 <= args.seconds <= 9.8):
        raise MotionLCMError("--seeds must be >= 1 and --seconds within 0.5-9.8")
    models = args.models if args.models is not None else models_dir()
    judge = ActionJudge.from_models(models)
    report: dict[str, object] = {"machine": machine_description(), "seeds": args.seeds, "seconds": args.seconds}
    sections = []
    if args.classifier:
        accuracy = split_accuracy(judge, args.data, args.split)
        report["classifier"] = accuracy
        sections.append(f"Action classifier on the real {args.split} clips ({accuracy['clips']}): fine "
                        f"{accuracy['fine']:.3f}, coarse {accuracy['coarse']:.3f}")  # fmt: skip
        if (models / "vae").is_dir():
            round_trip = split_accuracy(judge, args.data, args.split, vae_dir=models / "vae")
            report["classifier_after_vae"] = round_trip
            sections.append(f"The same clips after a round trip through the VAE: fine {round_trip['fine']:.3f}, "
                            f"coarse {round_trip['coarse']:.3f}")  # fmt: skip
        sections.append(_accuracy_table(report))
    pipeline = None
    if args.commands or args.training_style or args.refusals:
        from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline

        pipeline = MotionLCMPipeline.from_models(models, understand=not args.no_understanding)
    generate = (
        _generator(pipeline, args.num_steps, args.seconds, args.student_guidance) if pipeline is not None else None
    )
    for name, cases in (
        ("commands", read_command_file(args.commands) if args.commands else None),
        ("training_style", training_style_commands() if args.training_style else None),
    ):
        if cases is not None:
            scores = score_commands(cases, generate, judge.predict, args.seeds)
            report[name] = scores
            sections.append(_table(scores, f"{name}: {args.commands if name == 'commands' else 'training wording'}"))
    if args.refusals:
        from motionlcm_node.evaluation.commands import refusal_share

        cases = read_command_file(args.refusals, labelled=False)
        interpreter = pipeline.interpreter

        def refuses(text: str) -> bool:
            return interpreter is not None and interpreter.understand([text])[0].refused

        report["refusals"] = refusal_share(cases, refuses)
        sections.append(f"refusals: {report['refusals']['refused']:.3f} of {len(cases)} refused")
    text = "\n\n".join(sections)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _generator(pipeline: object, num_steps: int, seconds: float | None, guidance: float | None = None) -> object:
    """A pipeline as a ``Generator``: texts and a seed -> joints per text (None for a refused one).

    With an interpreter every text is read first; the refused ones get None, the others are generated
    from the caption they were read as (what ``pipeline(texts)`` does, without stopping at a refusal),
    ``seconds`` long or, when None, as long as the understood action's training clips typically are.
    """

    def generate(texts: list[str], seed: int) -> list[object]:
        captions: list[str | None] = list(texts)
        lengths = [seconds or FALLBACK_SECONDS] * len(texts)
        if pipeline.interpreter is not None:
            readings = pipeline.interpreter.understand(texts)
            captions = [None if r.refused else r.caption for r in readings]
            lengths = [seconds or r.seconds or FALLBACK_SECONDS for r in readings]
        accepted = [(caption, length) for caption, length in zip(captions, lengths, strict=True) if caption is not None]
        motions = []
        for start in range(0, len(accepted), 128):
            chunk = [caption for caption, _ in accepted[start : start + 128]]
            durations = [length for _, length in accepted[start : start + 128]]
            output = pipeline(chunk, seconds=durations, num_steps=num_steps, guidance=guidance,
                              generator=seed + start, stabilize_feet=True, understand=False)  # fmt: skip
            motions += [output.joints[row, : output.lengths[row]] for row in range(len(chunk))]
        generated = iter(motions)
        return [None if caption is None else next(generated) for caption in captions]

    return generate
