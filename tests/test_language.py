"""Reading commands: phrases, sides, refusals, the shipped phrase vectors, and the command files.

The interpreter's logic is tested with a bag-of-words encoder (deterministic, no model); the shipped
folder and MiniLM are tested on the refusal cases the issue names and on sided commands.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.evaluation.actions import ACTIONS
from motionlcm_node.evaluation.commands import comparable, read_command_file
from motionlcm_node.language.interpreter import CommandInterpreter, CommandRefusedError, with_named_side
from motionlcm_node.language.phrase_vectors import read_phrase_vectors
from motionlcm_node.language.phrases import all_sentences, base_form, imperative, training_captions

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ROOT / "benchmarks" / "commands"


class WordsEncoder:
    """Unit bag-of-words vectors over a fixed vocabulary (similarity = shared words)."""

    model_id = "words"

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}

    def encode(self, sentences: list[str]) -> np.ndarray:
        rows = []
        for sentence in sentences:
            vector = np.zeros(4096, np.float32)
            for word in re.findall(r"[a-z]+", sentence.lower()):
                if word not in ("a", "person", "the", "your", "to"):
                    vector[self.vocabulary.setdefault(word, len(self.vocabulary))] += 1.0
            rows.append(vector / max(np.linalg.norm(vector), 1e-6))
        return np.stack(rows)


def test_verbs_become_orders() -> None:
    assert [base_form(verb) for verb in ("walks", "dashes", "carries", "does", "strafes", "punches")] == [
        "walk", "dash", "carry", "do", "strafe", "punch",
    ]  # fmt: skip
    assert imperative("waves the left hand") == "wave your left hand"
    assert imperative("raises both hands") == "raise both your hands"


def test_a_named_side_wins_over_the_encoders_guess() -> None:
    assert with_named_side("wave-left-hand", "the robot waves its right hand") == "wave-right-hand"
    assert with_named_side("raise-up-left-hand", "lift both hands") == "raise-up-both-hands"
    assert with_named_side("wave-both-hands", "wave with the left hand") == "wave-left-hand"
    assert with_named_side("walk-turn-right", "curve to the left") == "walk-turn-left"
    assert with_named_side("walk", "walk on the left") == "walk"  # no sided action to move to
    assert with_named_side("wave-left-hand", "left, then right") == "wave-left-hand"  # two sides: unchanged


def test_the_interpreter_grounds_refuses_and_reports() -> None:
    interpreter = CommandInterpreter(WordsEncoder(), threshold=0.3)
    texts = ["kicks forward hard", "waves the right hand", "make me a sandwich", "  "]
    kick, wave, sandwich, empty = interpreter.understand(texts)
    assert kick.action == "kick" and kick.caption in training_captions("kick") and not kick.refused
    assert wave.action == "wave-right-hand" and "right hand" in wave.caption
    assert sandwich.refused and "cannot do" in sandwich.message and len(sandwich.closest) == 3
    assert empty.refused and empty.reason == "the command is empty"
    with pytest.raises(CommandRefusedError) as refused:
        interpreter.require(["waves the right hand", "zzz qqq"])
    assert refused.value.understanding.text == "zzz qqq" and "closest known actions" in str(refused.value)


def test_the_shipped_phrase_vectors_hold_every_phrase() -> None:
    model, vectors = read_phrase_vectors(ROOT / "models" / "language")
    assert set(vectors) == set(all_sentences()), "rebuild with: motionlcm export language"
    assert model == "model-953f9c0d"


@pytest.fixture(scope="module")
def shipped() -> CommandInterpreter:
    return CommandInterpreter.from_models(ROOT / "models")


@pytest.mark.parametrize(
    "text", ["make me a sandwich", "do a backflip", "asdf qwerty zxcv", "", "   ", "what time is it?"]
)
def test_commands_the_models_cannot_do_are_refused(shipped: CommandInterpreter, text: str) -> None:
    (reading,) = shipped.understand([text])
    assert reading.refused, reading.message


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("wave with your right hand", "wave-right-hand"),
        ("please raise your left arm", "raise-up-left-hand"),
        ("walk backwards", "walk-back"),
        ("bow", "bow"),
        ("kick", "kick"),
    ],
)
def test_plain_commands_are_understood(shipped: CommandInterpreter, text: str, action: str) -> None:
    (reading,) = shipped.understand([text])
    assert reading.action == action, reading.message
    assert reading.caption.startswith("A person ") and reading.similarity >= shipped.threshold


def test_the_development_and_test_command_files_never_overlap() -> None:
    files = {name: read_command_file(COMMANDS / f"{name}.txt", labelled=not name.endswith("refuse"))
             for name in ("dev", "test", "dev_refuse", "test_refuse")}  # fmt: skip
    development = {comparable(case.text) for name in ("dev", "dev_refuse") for case in files[name]}
    held_out = {comparable(case.text) for name in ("test", "test_refuse") for case in files[name]}
    assert development and held_out and not development & held_out
    assert len(files["test"]) >= 150 and len(files["test_refuse"]) >= 40
    assert {case.action for case in files["test"]} == set(ACTIONS)


def test_no_command_file_holds_a_caption_of_the_training_grammar() -> None:
    from motionlcm_node.data.captions import seen_caption_corpus

    grammar = {comparable(caption) for caption in seen_caption_corpus(held_out=True)}
    for name, labelled in (("dev", True), ("test", True), ("dev_refuse", False), ("test_refuse", False)):
        cases = read_command_file(COMMANDS / f"{name}.txt", labelled=labelled)
        assert not {comparable(case.text) for case in cases} & grammar, name
