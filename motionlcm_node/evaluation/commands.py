"""The command benchmark: do free-form commands produce the action they ask for, and are impossible ones refused?

Command files hold one command per line: ``label | text`` for commands the models can do (``label``
one of :data:`motionlcm_node.evaluation.actions.ACTIONS`), or just ``text`` in a refusal file;
``#`` lines and blank lines are ignored. ``benchmarks/commands/dev*.txt`` choose methods and
thresholds; ``benchmarks/commands/test*.txt`` are held out and only measured.

Every valid command is generated with several seeds; the action classifier judges each motion, and
a command counts as right (fine) when the judge names its label, right (coarse) when it names an
action of the same coarse group. A valid command the generator refuses counts as wrong.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionlcm_node.data.captions import action_phrases
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.actions import ACTIONS, coarse_group

#: ``generate(texts, seed)`` -> per text the joints [T, 22, 3] of its motion, or None when refused.
Generator = Callable[[list[str], int], list[np.ndarray | None]]
#: ``judge(motions)`` -> the action each motion shows.
Judge = Callable[[Sequence[np.ndarray]], list[str]]


@dataclass(frozen=True)
class CommandCase:
    """One command: the action it asks for (None in a refusal file) and its text."""

    action: str | None
    text: str


def read_command_file(path: Path, labelled: bool = True) -> list[CommandCase]:
    """Commands of a file: ``label | text`` lines (``labelled``) or plain text lines (a refusal file).

    Raises:
        MotionLCMError: a line without a known label (labelled files), or an empty file.
    """
    cases = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not labelled:
            cases.append(CommandCase(None, line))
            continue
        label, separator, text = (part.strip() for part in line.partition("|"))
        if not separator or label not in ACTIONS or not text:
            raise MotionLCMError(f"{path}:{number}: expected 'label | text' with a known label, got {line!r}")
        cases.append(CommandCase(label, text))
    if not cases:
        raise MotionLCMError(f"{path}: no commands")
    return cases


def comparable(text: str) -> str:
    """Lower case, words only: two commands are the same command when these are equal."""
    return " ".join(re.findall(r"\w+", text.lower()))


def training_style_commands(actions: Sequence[str] = ACTIONS) -> list[CommandCase]:
    """``a person <phrase>`` for every training phrase of every action (the captions' own wording)."""
    return [CommandCase(action, f"a person {phrase}") for action in actions for phrase in action_phrases(action)]


@dataclass
class ActionScore:
    """Judged motions of one action's commands."""

    motions: int = 0
    fine: int = 0
    coarse: int = 0
    refused: int = 0


def score_commands(cases: Sequence[CommandCase], generate: Generator, judge: Judge, seeds: int) -> dict[str, object]:
    """Generate every valid command with ``seeds`` seeds, judge each motion; per-action and overall shares.

    Returns:
        ``{"actions": {action: {"commands", "motions", "fine", "coarse", "refused"}}, "fine", "coarse",
        "refused", "min_action_coarse", "mistakes": [(text, asked, shown)]}``; shares in [0, 1].
    """
    valid = [case for case in cases if case.action is not None]
    if not valid or seeds < 1:
        raise MotionLCMError("need at least one labelled command and one seed")
    scores: dict[str, ActionScore] = defaultdict(ActionScore)
    mistakes: list[tuple[str, str, str]] = []
    for seed in range(seeds):
        motions = generate([case.text for case in valid], seed)
        generated = [(case, motion) for case, motion in zip(valid, motions, strict=True) if motion is not None]
        shown = judge([motion for _, motion in generated]) if generated else []
        for case, motion in zip(valid, motions, strict=True):
            scores[case.action].motions += 1
            scores[case.action].refused += motion is None
        for (case, _), label in zip(generated, shown, strict=True):
            score = scores[case.action]
            score.fine += label == case.action
            score.coarse += coarse_group(label) == coarse_group(case.action)
            if label != case.action:
                mistakes.append((case.text, case.action, label))
    counts = defaultdict(int)
    for case in valid:
        counts[case.action] += 1
    actions = {
        action: {"commands": counts[action], "motions": score.motions, "fine": score.fine / score.motions,
                 "coarse": score.coarse / score.motions, "refused": score.refused / score.motions}
        for action, score in sorted(scores.items())
    }  # fmt: skip
    total = sum(score.motions for score in scores.values())
    return {
        "actions": actions,
        "commands": len(valid),
        "seeds": seeds,
        "fine": sum(score.fine for score in scores.values()) / total,
        "coarse": sum(score.coarse for score in scores.values()) / total,
        "refused": sum(score.refused for score in scores.values()) / total,
        "min_action_coarse": min(entry["coarse"] for entry in actions.values()),
        "mistakes": mistakes,
    }


def refusal_share(cases: Sequence[CommandCase], refuses: Callable[[str], bool]) -> dict[str, object]:
    """Share of commands ``refuses`` refuses, with the ones it let through."""
    passed = [case.text for case in cases if not refuses(case.text)]
    return {"commands": len(cases), "refused": 1.0 - len(passed) / len(cases), "let_through": passed}
