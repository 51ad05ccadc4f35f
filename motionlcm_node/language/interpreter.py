"""From a free-form command to a known action, or a refusal: the generator's reading of what it is asked.

The command and every phrase of :mod:`motionlcm_node.language.phrases` are embedded with MiniLM
(all-MiniLM-L6-v2, unit vectors; the understanding is in it, not in the generator). Each action
scores the highest cosine similarity of its phrases to the command, taken as written and as a
sentence about a person (``a person <command>``). The command is refused when

* it is empty or blank, or
* its best action scores below ``threshold``, or
* an activity the models cannot do (``UNSUPPORTED_PHRASES``) scores higher than its best action;

otherwise the generator is given the training caption of the best action closest to the command, so
it always sees the wording it was trained on. Sentence encoders barely tell "left" from "right"
(measured on the development set: "waves its right hand" read as the left hand), so a command that
names one side only, or "both" hands or arms, gets the action of that side when the best action is a
sided one (:func:`with_named_side`). Every reading is reported: the action, the caption
generated, and the closest actions with their similarity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.actions import ACTIONS
from motionlcm_node.language.phrases import SUBJECT, action_bank, training_captions, unsupported_bank

#: Similarity below which a command matches no known action (the shipped value is in ``language/config.json``).
DEFAULT_THRESHOLD = 0.5
LANGUAGE_FOLDER = "language"


class CommandRefusedError(MotionLCMError):
    """A command the models cannot do; ``understanding`` says what it was closest to."""

    def __init__(self, understanding: Understanding) -> None:
        super().__init__(understanding.message)
        self.understanding = understanding


@dataclass(frozen=True)
class Understanding:
    """What a command was read as.

    Attributes:
        text: the command as given.
        action: the known action it asks for, or None when refused.
        caption: the sentence the generator is given ("" when refused).
        similarity: cosine similarity of the command to ``action`` (or to the closest action), -1 to 1.
        closest: the best (action, similarity) pairs, best first.
        reason: why it was refused ("" when accepted).
        seconds: the action's typical length (its training clips' median), s; 0 when refused or unknown.
    """

    text: str
    action: str | None
    caption: str
    similarity: float
    closest: tuple[tuple[str, float], ...]
    reason: str = ""
    seconds: float = 0.0

    @property
    def refused(self) -> bool:
        """Whether the command was refused."""
        return self.action is None

    @property
    def message(self) -> str:
        """One line for people: what was understood, or why it was refused and what is close."""
        options = ", ".join(f"{action} ({similarity:.2f})" for action, similarity in self.closest)
        if self.refused:
            return f"cannot do {self.text!r}: {self.reason}; closest known actions: {options}"
        return f"understood {self.text!r} as {self.action} ({self.similarity:.2f}): generating {self.caption!r}"


_SIDES = re.compile(r"\b(left|right|both)\b")


def with_named_side(action: str, text: str) -> str:
    """``action`` moved to the side ``text`` names (one of left / right, or both hands or arms), when it has one.

    ``wave-left-hand`` + "wave your right hand" -> ``wave-right-hand``; + "wave both hands" ->
    ``wave-both-hands``; ``walk-turn-right`` + "curve to the left" -> ``walk-turn-left``. Actions
    without a side, and texts naming no side or several, are left as they are.
    """
    named = set(_SIDES.findall(text.lower()))
    sides = [side for side in ("left", "right", "both") if side in action.split("-")]
    if len(named) != 1 or not sides or named == set(sides):
        return action
    (wanted,) = named
    candidate = "-".join(wanted if part == sides[0] else part for part in action.split("-"))
    for option in (candidate, candidate.replace("-hand", "-hands"), candidate.replace("-hands", "-hand")):
        if option in ACTIONS:
            return option
    return action


_FORWARD = ("walk", "run", "dash")
_LOCOMOTION = (*_FORWARD, "walk-back", "walk-left", "walk-right", "walk-turn-left", "walk-turn-right")
_ONE_ARM = ("bye", "byebye", "guide", "respond", "call")
_CUES = {
    "backward": re.compile(r"\bbackwards?\b|\bback (up|away)\b|\breverse\b"),
    "sideways": re.compile(r"\b(sidestep|side-step|sideways|shuffle)"),
    "turning": re.compile(r"\b(turn|curv|veer|arc|around|circle|bend)"),
    "repeated": re.compile(r"\b(again|repeated|over and over|keep|continu|many times|several times|non-?stop)"),
    "come": re.compile(r"\bcome\b|\bover here\b|\bcloser\b"),
    "farewell": re.compile(r"\b(bye|goodbye|farewell)"),
    "wave": re.compile(r"\bwav(e|es|ing)\b"),
    "raise": re.compile(r"\b(raise|lift|hold|put|stick|reach)\w*\b.*\b(up|high|above|air|overhead|sky)\b"),
}


def refine_action(action: str, text: str) -> str:
    """``action`` corrected by the words that sentence encoders weigh too little.

    Sentence encoders read "walk backward a few paces" as walking, "wave farewell again and again" as
    one goodbye and "hold your left hand up" as something about the left (measured on the development
    set). When the command says so in so many words, the direction (backward, sideways, turning),
    the repetition of a farewell, a call to come over, or a named hand waving or raised wins; then
    :func:`with_named_side` puts the action on the side the command names.
    """
    words = text.lower()
    named = set(_SIDES.findall(words))
    side = next(iter(named)) if len(named) == 1 else None
    if action in _LOCOMOTION and side in ("left", "right"):
        if _CUES["sideways"].search(words):
            return f"walk-{side}"
        if _CUES["turning"].search(words):
            return f"walk-turn-{side}"
    if action in _FORWARD and _CUES["backward"].search(words):
        return "walk-back"
    if action in ("bye", "byebye"):
        return "byebye" if _CUES["repeated"].search(words) else "bye"
    if action in _ONE_ARM and _CUES["come"].search(words):
        return "call"
    if side is not None and action not in _LOCOMOTION and not _CUES["farewell"].search(words):
        hands = "hands" if side == "both" else "hand"
        if _CUES["wave"].search(words):
            return f"wave-{side}-{hands}"
        if _CUES["raise"].search(words):
            return f"raise-up-{side}-{hands}"
    return with_named_side(action, text)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


class CommandInterpreter:
    """Grounds commands on the known actions with a sentence encoder (see the module docstring).

    Args:
        encoder: MiniLM (``encode(list[str]) -> [N, 384]``), e.g. ``load_model_text_encoder``.
        threshold: the lowest best-action similarity accepted.
        alternatives: how many closest actions each reading reports.
        seconds: each action's typical length, s (reported with each reading).
    """

    def __init__(
        self,
        encoder: object,
        threshold: float = DEFAULT_THRESHOLD,
        alternatives: int = 3,
        seconds: dict[str, float] | None = None,
    ) -> None:
        self.encoder, self.threshold, self.alternatives = encoder, float(threshold), int(alternatives)
        self.seconds = dict(seconds or {})
        bank = action_bank()
        self.bank_actions = np.array([ACTIONS.index(action) for action, _ in bank])
        self.bank_vectors = _unit(encoder.encode([text for _, text in bank]))
        self.unsupported_vectors = _unit(encoder.encode(unsupported_bank()))
        self.captions = {action: training_captions(action) for action in ACTIONS}
        self.caption_vectors = {action: _unit(encoder.encode(texts)) for action, texts in self.captions.items()}

    @classmethod
    def from_models(cls, models_dir: Path | None = None, encoder: object | None = None) -> CommandInterpreter:
        """The interpreter of a models folder: ``language/`` (threshold, phrase vectors) and MiniLM.

        Args:
            models_dir: folder in the ``models/`` layout (default: the shipped models).
            encoder: an already loaded MiniLM (default: ONNX Runtime when exported, else torch).
        """
        from motionlcm_node.language.phrase_vectors import load_language_config, remember_phrase_vectors
        from motionlcm_node.loading.text import load_model_text_encoder
        from motionlcm_node.resources import models_dir as shipped

        folder = Path(models_dir or shipped()) / LANGUAGE_FOLDER
        config = load_language_config(folder)
        encoder = encoder or load_model_text_encoder(folder)
        remember_phrase_vectors(encoder, folder)
        return cls(encoder, threshold=float(config["threshold"]), seconds=config["seconds"])

    def action_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per command: [A] best similarity of each action, the best unsupported similarity, and the vectors."""
        written = _unit(self.encoder.encode(list(texts)))
        about_a_person = _unit(self.encoder.encode([f"{SUBJECT} {text}" for text in texts]))
        similarity = np.maximum(written @ self.bank_vectors.T, about_a_person @ self.bank_vectors.T)
        scores = np.full((len(texts), len(ACTIONS)), -1.0, np.float32)
        for index in range(len(ACTIONS)):
            columns = self.bank_actions == index
            scores[:, index] = similarity[:, columns].max(axis=1)
        unsupported = np.maximum(written @ self.unsupported_vectors.T, about_a_person @ self.unsupported_vectors.T)
        return scores, unsupported.max(axis=1), about_a_person

    def understand(self, texts: Sequence[str]) -> list[Understanding]:
        """The reading of every command (refusals included; nothing raised)."""
        readings: list[Understanding | None] = [None] * len(texts)
        blank = [index for index, text in enumerate(texts) if not str(text).strip()]
        for index in blank:
            readings[index] = Understanding(str(texts[index]), None, "", -1.0, (), "the command is empty")
        rows = [index for index in range(len(texts)) if index not in set(blank)]
        if rows:
            scores, unsupported, vectors = self.action_scores([str(texts[index]).strip() for index in rows])
            for row, index in enumerate(rows):
                readings[index] = self._reading(str(texts[index]), scores[row], float(unsupported[row]), vectors[row])
        return readings  # type: ignore[return-value]

    def _reading(self, text: str, scores: np.ndarray, unsupported: float, vector: np.ndarray) -> Understanding:
        order = np.argsort(-scores)[: self.alternatives]
        closest = tuple((ACTIONS[index], round(float(scores[index]), 3)) for index in order)
        top = float(scores[order[0]])
        if top < self.threshold:
            reason = f"it matches no known action (best similarity {top:.2f} < {self.threshold:.2f})"
            return Understanding(text, None, "", top, closest, reason)
        if unsupported > top:
            reason = f"it is closer to an activity the models cannot do ({unsupported:.2f})"
            return Understanding(text, None, "", top, closest, reason)
        best = refine_action(ACTIONS[order[0]], text)
        caption = self.captions[best][int(np.argmax(self.caption_vectors[best] @ vector))]
        similarity = float(scores[ACTIONS.index(best)])
        return Understanding(text, best, caption, similarity, closest, seconds=self.seconds.get(best, 0.0))

    def require(self, texts: Sequence[str]) -> list[Understanding]:
        """The readings of commands that must all be doable.

        Raises:
            CommandRefusedError: for the first refused command.
        """
        readings = self.understand(texts)
        for reading in readings:
            if reading.refused:
                raise CommandRefusedError(reading)
        return readings
