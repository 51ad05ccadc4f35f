"""``motionlcm train vae|teacher|student|evaluator|student-text --config FILE``: train one stage.

The network stages are resumable; ``student-text`` (the student's static text encoder, ~15 minutes on
the CPU) restarts but reuses its cached MiniLM vectors.

Run on one CPU or GPU as is, or across processes with torchrun:
``torchrun --nproc_per_node 2 -m motionlcm_node.cli.main train vae --config config/training/01_vae.json``.
The recipe of the shipped models is the numbered configs in ``config/training/``, in order (models/MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from motionlcm_node.errors import MotionLCMError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    train = subparsers.add_parser("train", help="train one of the models (see config/training/)")
    train.add_argument(
        "stage", choices=("vae", "teacher", "student", "evaluator", "student-text", "classifier"), help="what to train"
    )
    train.add_argument("--config", type=Path, required=True, help="stage config JSON (see config/training/)")
    train.add_argument("--data", type=Path, default=None, help="override train.data_dir")
    train.add_argument("--out", type=Path, default=None, help="override train.out_dir (the run folder)")
    train.add_argument("--steps", type=int, default=None, help="override train.steps")
    train.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    train.set_defaults(handler=run_train)


def _with_overrides(config: object, args: argparse.Namespace) -> object:
    changes = {}
    if args.data is not None:
        changes["data_dir"] = str(args.data)
    if args.out is not None:
        changes["out_dir"] = str(args.out)
    if args.steps is not None:
        changes["steps"] = args.steps
    try:
        train = dataclasses.replace(config.train, **changes)
    except ValueError as error:
        raise MotionLCMError(str(error)) from None
    return dataclasses.replace(config, train=train)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm train``."""
    from motionlcm_node.training.config import TeacherStageConfig, VAEStageConfig, load_stage_config
    from motionlcm_node.training.loop import train

    if args.stage == "student-text":
        from motionlcm_node.training.student_text import StudentTextConfig, train_student_text

        if args.steps is not None or args.no_resume:
            raise MotionLCMError("student-text takes no --steps or --no-resume: set epochs / task_steps in its config")
        text_config = StudentTextConfig.from_file(args.config)
        changes = {"data_dir": str(args.data)} if args.data is not None else {}
        if args.out is not None:
            changes["out_dir"] = str(args.out)
        exported = train_student_text(dataclasses.replace(text_config, **changes))
        print(f"trained student-text: {exported} (copy it to models/student_text)")
        return 0
    if args.stage == "vae":
        from motionlcm_node.networks.config import MotionVAEConfig
        from motionlcm_node.training.stages import VAEStage

        config = _with_overrides(load_stage_config(VAEStageConfig, args.config, MotionVAEConfig), args)
        stage = VAEStage(config)
    elif args.stage == "teacher":
        from motionlcm_node.networks.config import DenoiserConfig
        from motionlcm_node.training.stages import TeacherStage

        config = _with_overrides(load_stage_config(TeacherStageConfig, args.config, DenoiserConfig), args)
        stage = TeacherStage(config)
    elif args.stage == "student":
        from motionlcm_node.training.config import StudentStageConfig
        from motionlcm_node.training.consistency_stage import StudentStage

        config = _with_overrides(load_stage_config(StudentStageConfig, args.config, dict), args)
        stage = StudentStage(config)
    elif args.stage == "classifier":
        from motionlcm_node.training.classifier_stage import ClassifierSizes, ClassifierStage, ClassifierStageConfig

        config = _with_overrides(load_stage_config(ClassifierStageConfig, args.config, ClassifierSizes), args)
        stage = ClassifierStage(config)
    else:
        from motionlcm_node.networks.evaluator import EvaluatorConfig
        from motionlcm_node.training.evaluator_stage import EvaluatorStage, EvaluatorStageConfig

        config = _with_overrides(load_stage_config(EvaluatorStageConfig, args.config, EvaluatorConfig), args)
        stage = EvaluatorStage(config)
    run = train(stage, config.train, resume=not args.no_resume)
    print(f"trained {args.stage}: {run} (exported model in {run / 'model'})")
    return 0
