"""Captions (determinism, mirroring, held-out wording) and fixed splits (disjoint, stratified)."""

from __future__ import annotations

from collections import Counter

import pytest

from motionlcm_node.data.captions import captions_for_clip, known_contents, mirror_caption, mirror_label
from motionlcm_node.data.splits import SPLIT_NAMES, assign_splits, builtin_splits, split_of
from motionlcm_node.errors import MotionLCMError


def test_captions_are_deterministic_distinct_and_mention_the_side() -> None:
    first = captions_for_clip("clip_a", "wave-left-hand", "happy", held_out=False)
    assert first == captions_for_clip("clip_a", "wave-left-hand", "happy", held_out=False)
    assert len(first) == len(set(first)) == 3
    assert all("left" in caption and "right" not in caption for caption in first)
    assert captions_for_clip("clip_b", "wave-left-hand", "happy", held_out=False) != first


def test_right_side_contents_are_derived_from_left_ones() -> None:
    captions = captions_for_clip("x", "raise-up-right-hand", "normal", held_out=False)
    assert all("right" in caption and "left" not in caption for caption in captions)
    assert mirror_label("walk-turn-left") == "walk-turn-right"
    assert "wave-right-hand" in known_contents()


def test_mirror_caption_swaps_words_only() -> None:
    assert mirror_caption("Left hand up, then the right.") == "Right hand up, then the left."
    assert mirror_caption("a person leftover bright") == "a person leftover bright"


def test_held_out_wording_appears_only_in_test_captions() -> None:
    from motionlcm_node.data import captions as module

    held_out_phrases = {p for seen, held in module._ACTIONS.values() for p in held} | {
        p for seen, held in module._MANNERS.values() for p in held
    }
    train_text = " ".join(c for i in range(200) for c in captions_for_clip(f"train{i}", "walk", "sad", held_out=False))
    assert not any(phrase in train_text for phrase in held_out_phrases if phrase)
    test = captions_for_clip("t", "walk", "sad", held_out=True)
    assert len(test) == 5
    assert any(
        any(p in c for p in held_out_phrases) or c.startswith(("In this clip", "An individual", "The character"))
        for c in test[3:]
    )


def test_unknown_labels_raise() -> None:
    with pytest.raises(KeyError, match="moonwalk"):
        captions_for_clip("x", "moonwalk", "normal", held_out=False)
    with pytest.raises(KeyError, match="sleepy"):
        captions_for_clip("x", "walk", "sleepy", held_out=False)


def test_assignment_is_stratified_and_stable() -> None:
    clips = [(f"g{g}_{i}", f"group{g}") for g in range(5) for i in range(40)]
    splits = assign_splits(clips)
    assert splits == assign_splits(list(reversed(clips)))
    owner = split_of(splits)
    for g in range(5):
        counts = Counter(owner[f"g{g}_{i}"] for i in range(40))
        assert counts["train"] == 32 and counts["val"] == 4 and counts["test"] == 4


def test_committed_bandai_splits_are_disjoint_and_cover_every_group() -> None:
    splits = builtin_splits("bandai")
    owner = split_of(splits)  # raises if a clip is in two splits
    assert sum(len(v) for v in splits.values()) == len(owner) == 3076
    assert 0.75 < len(splits["train"]) / len(owner) < 0.85
    for split in ("val", "test"):
        contents = {name.split("_")[1] for name in splits[split] if name.startswith("dataset-2")}
        assert len(contents) == 10  # every dataset-2 content is represented
    assert not any(name.startswith("M") for name in owner)  # mirrors follow their source


def test_a_clip_in_two_splits_is_an_error() -> None:
    with pytest.raises(MotionLCMError, match="both"):
        split_of({"train": ["a"], "val": [], "test": ["a"]})
    assert set(SPLIT_NAMES) == {"train", "val", "test"}
