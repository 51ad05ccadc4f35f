"""The phrases commands are grounded on: what each known action is called, and what the models cannot do.

Three sources per action, all in the words of a sentence about a person (``a person <phrase>``):

* the training captions' own action phrases (``data.captions``; the generator is conditioned on
  these, so every grounded command is generated from one of them);
* the same phrases as commands (``walks forward`` -> ``walk forward``, ``the left hand`` -> ``your
  left hand``), since operators give orders;
* a few more ways of saying each action (:data:`MORE_PHRASES`), chosen on the development command set
  (``benchmarks/commands/dev.txt``), never on the held-out test set.

:data:`UNSUPPORTED_PHRASES` names activities the data has no clip of (jumping, sitting, dancing...):
a command closer to one of them than to any known action is refused, whatever its similarity.
"""

from __future__ import annotations

import re

from motionlcm_node.data.captions import action_phrases, manner_phrases, plain_caption
from motionlcm_node.evaluation.actions import ACTIONS

#: Third-person verbs whose imperative the general rule gets wrong.
_IRREGULAR = {"does": "do", "goes": "go", "has": "have", "lies": "lie", "dies": "die"}


def base_form(verb: str) -> str:
    """The base form of a third-person singular verb (``waves`` -> ``wave``, ``carries`` -> ``carry``)."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z)es$", verb):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb


#: More ways of saying each action (development set only; see the module docstring).
MORE_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks", "goes forward", "moves forward", "takes a walk forward"),
    "run": ("runs", "jogs", "runs ahead"),
    "dash": ("sprints", "runs as fast as possible", "races ahead at full speed"),
    "walk-back": ("moves backward", "goes backwards", "retreats backwards"),
    "walk-left": ("steps sideways to the left", "shuffles to the left"),
    "walk-right": ("steps sideways to the right", "shuffles to the right"),
    "walk-turn-left": ("turns left", "walks and veers left", "curves to the left while walking"),
    "walk-turn-right": ("turns right", "walks and veers right", "curves to the right while walking"),
    "bow": ("bows politely", "bows in greeting"),
    "bye": ("says bye", "waves farewell"),
    "byebye": ("waves bye bye", "keeps waving farewell"),
    "guide": ("shows the direction with a hand", "points the way"),
    "respond": ("acknowledges someone with a hand", "replies with a gesture"),
    "call": ("beckons", "calls someone over with a hand"),
    "punch": ("punches", "hits forward with a fist"),
    "kick": ("kicks a leg forward", "kicks the air"),
    "slash": ("swings a blade", "slashes"),
    "wave-left-hand": ("waves the left arm", "waves hello with the left hand"),
    "wave-right-hand": ("waves the right arm", "waves hello with the right hand"),
    "wave-both-hands": ("waves both arms",),
    "raise-up-left-hand": ("holds the left hand up", "raises the left arm"),
    "raise-up-right-hand": ("holds the right hand up", "raises the right arm"),
    "raise-up-both-hands": ("holds both hands up", "raises both arms"),
}

#: Activities the models cannot do (no clip in the data).
UNSUPPORTED_PHRASES: tuple[str, ...] = (
    "jumps", "jumps up and down", "hops on one foot", "does a backflip", "sits down", "lies down", "crawls",
    "climbs", "swims", "dances", "spins around", "claps the hands", "picks something up", "carries a box",
    "opens a door", "cooks a meal", "cleans the floor", "sings a song", "talks", "types on a keyboard",
    "stretches", "falls down", "sleeps", "eats", "drinks", "reads a book", "writes", "makes a sandwich",
    "plays the guitar", "throws a ball", "catches a ball", "shakes hands", "hugs someone",
)  # fmt: skip
#: The action phrases are completed to sentences about this subject before encoding.
SUBJECT = "a person"


def imperative(phrase: str) -> str:
    """``waves the left hand`` -> ``wave your left hand``: the phrase as an order."""
    words = phrase.split()
    words[0] = base_form(words[0])
    text = " ".join(words)
    return re.sub(r"\bthe (left|right) (hand|arm|leg)\b", r"your \1 \2", text).replace("both hands", "both your hands")


def action_bank() -> list[tuple[str, str]]:
    """(action, sentence) pairs: every phrase of every action, as a statement and as an order."""
    bank = []
    for action in ACTIONS:
        phrases = (*action_phrases(action), *MORE_PHRASES.get(action, ()))
        for phrase in dict.fromkeys(phrases):
            bank.append((action, f"{SUBJECT} {phrase}"))
            bank.append((action, imperative(phrase)))
    return bank


def unsupported_bank() -> list[str]:
    """Sentences of the activities the models cannot do (statements and orders)."""
    return [text for phrase in UNSUPPORTED_PHRASES for text in (f"{SUBJECT} {phrase}", imperative(phrase))]


def training_captions(action: str) -> list[str]:
    """The sentences the generator may be given for ``action``: every training phrase with every manner.

    In the training captions' own form (``A person walks forward happily.``); the manner-less ones first.
    """
    return [plain_caption(phrase, manner) for manner in manner_phrases() for phrase in action_phrases(action)]


def all_sentences() -> list[str]:
    """Every sentence the interpreter embeds (the shipped vector file must hold them all)."""
    sentences = [text for _, text in action_bank()] + unsupported_bank()
    sentences += [caption for action in ACTIONS for caption in training_captions(action)]
    return list(dict.fromkeys(sentences))
