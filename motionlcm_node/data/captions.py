"""Natural-language captions from Bandai-Namco content and style labels.

Each caption combines a subject, an action phrase (from the content label), a manner phrase (from
the style label) and a sentence template. Every table has *seen* entries, used for all splits, and
*held-out* entries that appear only in test-split captions, so the test set measures
generalisation to wording never seen in training. Right-side phrases are the left-side ones with
the words swapped (``mirror_caption``), so a mirrored clip's captions are exactly the mirror of its
source's.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

#: content label -> (seen action phrases, held-out action phrases). Right-side contents are derived.
_ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "walk": (("walks forward", "walks straight ahead", "strolls forward", "walks ahead at a steady pace"),
             ("paces forward",)),
    "run": (("runs forward", "jogs forward", "runs straight ahead", "runs at a steady pace"),
            ("goes for a run straight ahead",)),
    "dash": (("sprints forward", "dashes ahead", "runs forward very fast", "bursts into a sprint"),
             ("races forward at full speed",)),
    "walk-back": (("walks backward", "walks backwards", "steps backward several times", "backs up on foot"),
                  ("retreats by walking backwards",)),
    "walk-left": (("walks to the left", "sidesteps to the left", "walks sideways to the left",
                   "moves to the left on foot"), ("shuffles sideways toward the left",)),
    "walk-turn-left": (("walks and turns left", "walks forward and turns to the left",
                        "turns left while walking", "walks in a curve to the left"), ("veers left while walking",)),
    "bow": (("bows", "bows forward", "takes a bow", "bends at the waist to bow"), ("gives a deep bow",)),
    "bye": (("waves goodbye", "waves a hand to say bye", "says goodbye with a wave"), ("bids farewell with a wave",)),
    "byebye": (("waves goodbye over and over", "waves bye bye repeatedly", "keeps waving goodbye"),
               ("bids farewell with many waves",)),
    "guide": (("gestures to guide someone", "points the way with an arm", "shows someone the way with a gesture"),
              ("directs someone with an open hand",)),
    "respond": (("responds with a gesture", "reacts to someone with a gesture", "answers someone with a gesture"),
                ("acknowledges someone with a small gesture",)),
    "call": (("calls out to someone", "beckons someone to come over", "waves someone over"),
             ("signals someone to approach",)),
    "punch": (("throws a punch", "punches forward", "strikes with a fist"), ("jabs ahead with a fist",)),
    "kick": (("kicks", "kicks forward", "does a kick", "kicks with one leg"), ("delivers a forward kick",)),
    "slash": (("slashes with a sword", "swings a sword", "makes a slashing motion"),
              ("cuts through the air as if holding a blade",)),
    "dance-long": (("dances", "performs a dance", "dances for a while"), ("busts some dance moves",)),
    "dance-short": (("dances briefly", "does a short dance", "performs a short dance move"),
                    ("does a quick little dance",)),
    "wave-left-hand": (("waves the left hand", "waves with the left hand", "raises the left hand and waves",
                        "waves hello with the left hand"), ("greets someone by waving the left hand",)),
    "wave-both-hands": (("waves both hands", "waves with both hands", "raises both arms and waves",
                         "waves hello with both hands"), ("greets someone by waving both hands",)),
    "raise-up-left-hand": (("raises the left hand", "lifts the left arm up", "puts the left hand up",
                            "raises the left arm above the head"), ("holds the left hand up high",)),
    "raise-up-both-hands": (("raises both hands", "lifts both arms up", "puts both hands up",
                             "raises both arms above the head"), ("throws both hands into the air",)),
}  # fmt: skip

#: style label -> (seen manner phrases, held-out manner phrases); "" means no manner words.
_MANNERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "normal": (("", "normally", "in a relaxed way"), ("casually",)),
    "happy": (("happily", "cheerfully", "in a happy mood", "joyfully"), ("with a spring in the step",)),
    "sad": (("sadly", "in a sad mood", "gloomily", "dejectedly"), ("with a heavy heart",)),
    "angry": (("angrily", "in an angry way", "furiously"), ("in a fit of rage",)),
    "proud": (("proudly", "with pride", "with the chest out proudly"), ("in a boastful manner",)),
    "not-confident": (("timidly", "without confidence", "hesitantly", "shyly"), ("in an insecure way",)),
    "masculinity": (("in a masculine way", "in a manly style", "with a masculine posture"),
                    ("with a macho attitude",)),
    "masculine": (("in a masculine way", "in a manly style", "with a masculine posture"), ("with a macho attitude",)),
    "feminine": (("in a feminine way", "gracefully", "with a feminine posture"), ("in a ladylike manner",)),
    "childish": (("like a child", "in a childish way", "playfully"), ("like a little kid",)),
    "youthful": (("in a youthful way", "energetically like a young person", "in a lively way"),
                 ("with youthful energy",)),
    "old": (("like an old person", "slowly like an elderly person", "stiffly like an old man"),
            ("with the slow care of an old person",)),
    "elderly": (("like an elderly person", "slowly like an old person", "in an elderly way"),
                ("with the slow care of an old person",)),
    "tired": (("tiredly", "wearily", "like someone who is tired"), ("as if worn out",)),
    "exhausted": (("in an exhausted way", "wearily, out of breath", "as if completely exhausted"),
                  ("like someone at the end of their strength",)),
    "active": (("actively", "energetically", "vigorously", "with lots of energy"), ("in a lively, dynamic way",)),
    "musical": (("rhythmically", "in a musical way", "like a musical performer"), ("as if on a theatre stage",)),
    "giant": (("like a giant", "with heavy steps like a giant", "in a heavy, lumbering way"),
              ("like a huge, heavy creature",)),
    "chimpira": (("like a thug", "in a swaggering, delinquent way", "like a street punk"),
                 ("with a thuggish swagger",)),
}  # fmt: skip

_SUBJECTS = (("a person", "someone", "a man", "a woman", "the person", "a figure"), ("an individual", "the character"))
#: Templates; {S} subject, {A} action, {M} manner (may be empty).
_TEMPLATES = (
    ("{S} {A} {M}.", "{M}, {S} {A}.", "{S} {A}, {M}."),
    ("In this clip {S} {A} {M}.",),
)

_SIDE_SWAP = re.compile(r"\b(left|right|Left|Right|LEFT|RIGHT)\b")
_SWAPPED = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


def mirror_caption(caption: str) -> str:
    """Swap the words left and right (keeping case) to describe the mirrored motion."""
    return _SIDE_SWAP.sub(lambda match: _SWAPPED[match.group(0)], caption)


def mirror_label(content: str) -> str:
    """Content label of the mirrored motion (``wave-left-hand`` <-> ``wave-right-hand``)."""
    return mirror_caption(content)


def known_contents() -> list[str]:
    """Every content label captions can be written for (right-side labels included)."""
    return sorted({*_ACTIONS, *(mirror_label(c) for c in _ACTIONS)})


def _actions(content: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if content in _ACTIONS:
        return _ACTIONS[content]
    mirrored = mirror_label(content)
    if mirrored in _ACTIONS:
        seen, held_out = _ACTIONS[mirrored]
        return tuple(map(mirror_caption, seen)), tuple(map(mirror_caption, held_out))
    raise KeyError(f"no captions for content label {content!r} (known: {', '.join(known_contents())})")


def action_phrases(content: str) -> tuple[str, ...]:
    """The seen (training) action phrases of a content label, e.g. ``("bows", "bows forward", ...)``."""
    return _actions(content)[0]


def manner_phrases() -> tuple[str, ...]:
    """Every seen (training) manner phrase, "" (no manner) first."""
    seen = {phrase for phrases, _ in _MANNERS.values() for phrase in phrases}
    return ("", *sorted(seen - {""}))


def plain_caption(action_phrase: str, manner: str = "") -> str:
    """A caption in the first template of the training captions (``A person walks forward happily.``)."""
    return _render(_TEMPLATES[0][0], _SUBJECTS[0][0], action_phrase, manner)


def _render(template: str, subject: str, action: str, manner: str) -> str:
    if not manner:
        template = template.replace(", {M}", "").replace("{M}, ", "").replace(" {M}", "")
    text = template.format(S=subject, A=action, M=manner)
    return text[0].upper() + text[1:]


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def captions_for_clip(
    name: str, content: str, style: str, *, held_out: bool, num_seen: int = 3, num_held_out: int = 2
) -> list[str]:
    """Deterministic, distinct captions for one clip.

    Args:
        name: clip name, seeds the random choices (so captions never change between runs).
        content: content label, e.g. ``"wave-left-hand"``.
        style: style label, e.g. ``"happy"``.
        held_out: add ``num_held_out`` captions that each use one held-out phrasing (test split only).
        num_seen: captions built from seen phrasings only.
        num_held_out: captions with one held-out component (subject, action, manner or template).

    Returns:
        ``num_seen`` (+ ``num_held_out``) distinct captions.

    Raises:
        KeyError: unknown content or style label.
    """
    actions = _actions(content)
    if style not in _MANNERS:
        raise KeyError(f"no captions for style label {style!r} (known: {', '.join(sorted(_MANNERS))})")
    tables = [_SUBJECTS, actions, _MANNERS[style], _TEMPLATES]
    rng = np.random.default_rng(_seed(name))
    captions: list[str] = []

    def draw(held_out_part: int | None) -> str:
        parts = [table[1 if k == held_out_part else 0] for k, table in enumerate(tables)]
        subject, action, manner, template = (p[int(rng.integers(len(p)))] for p in parts)
        return _render(template, subject, action, manner)

    for want, held_out_part in ((num_seen, None), (num_held_out if held_out else 0, -1)):
        attempts = 0
        added = 0
        while added < want and attempts < 200:
            attempts += 1
            part = int(rng.integers(len(tables))) if held_out_part == -1 else None
            caption = draw(part)
            if caption not in captions:
                captions.append(caption)
                added += 1
    return captions


def seen_caption_corpus(held_out: bool = False) -> list[str]:
    """Every caption the seen phrasings can form (subject x action x manner x template), sorted.

    About 94,000 sentences: the training corpus of the student's static text encoder, which must
    cover the training captions' wording without ever seeing a held-out phrasing (test split only).
    With ``held_out``, the held-out phrasings join every table (the whole caption grammar).
    """
    parts = (0, 1) if held_out else (0,)
    actions = {phrase for content in known_contents() for k in parts for phrase in _actions(content)[k]}
    manners = {phrase for tables in _MANNERS.values() for k in parts for phrase in tables[k]}
    return sorted(
        {
            _render(template, subject, action, manner)
            for k in parts
            for template in _TEMPLATES[k]
            for j in parts
            for subject in _SUBJECTS[j]
            for action in actions
            for manner in manners
        }
    )
