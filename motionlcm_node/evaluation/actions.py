"""The actions the models know: fine labels (the data's content labels) and the coarse groups they fall in.

Fine labels are the Bandai-Namco content labels present in the train split (23; ``dance-short`` and
``dance-long`` have no training clip, so the models cannot dance). A mirrored clip (``M`` prefix)
carries the mirrored label (``wave-left-hand`` -> ``wave-right-hand``).

Coarse groups say what matters first on a robot: which way the body moves, which arm gestures, or
which whole-body action it is. A motion in the right coarse group but the wrong fine label (a run
for a walk, raising the right hand for waving it) is a smaller error than a wrong group.
"""

from __future__ import annotations

from motionlcm_node.data.captions import mirror_label

#: Fine label -> coarse group.
COARSE_GROUPS: dict[str, str] = {
    "walk": "forward",
    "run": "forward",
    "dash": "forward",
    "walk-back": "backward",
    "walk-left": "sidestep left",
    "walk-right": "sidestep right",
    "walk-turn-left": "turn left",
    "walk-turn-right": "turn right",
    "bow": "bow",
    "kick": "kick",
    "punch": "punch",
    "slash": "slash",
    "bye": "one-arm gesture",
    "byebye": "one-arm gesture",
    "guide": "one-arm gesture",
    "respond": "one-arm gesture",
    "call": "one-arm gesture",
    "wave-left-hand": "left arm",
    "raise-up-left-hand": "left arm",
    "wave-right-hand": "right arm",
    "raise-up-right-hand": "right arm",
    "wave-both-hands": "both arms",
    "raise-up-both-hands": "both arms",
}
ACTIONS: tuple[str, ...] = tuple(sorted(COARSE_GROUPS))
GROUPS: tuple[str, ...] = tuple(sorted(set(COARSE_GROUPS.values())))
#: Actions with at most 26 training clips (mirrors included; the others have 300 or more): learned least well.
RARE_ACTIONS: tuple[str, ...] = (
    "bow", "bye", "byebye", "call", "dash", "guide", "kick", "punch", "respond", "slash", "walk-back", "walk-left",
    "walk-right",
)  # fmt: skip


def clip_action(name: str) -> str:
    """The fine label of a prepared clip (``dataset-2_wave-left-hand_happy_003``; ``M`` prefix: mirrored).

    Raises:
        KeyError: the clip's content is not a known action.
    """
    mirrored = name.startswith("M")
    content = name.removeprefix("M").split("_")[1]
    label = mirror_label(content) if mirrored else content
    if label not in COARSE_GROUPS:
        raise KeyError(f"{name}: {label!r} is not one of the known actions")
    return label


def coarse_group(action: str) -> str:
    """The coarse group of a fine label."""
    return COARSE_GROUPS[action]
