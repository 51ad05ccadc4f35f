"""Cache names follow their inputs, and a cache is built once then read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.training.cache_keys import input_digest, load_or_build


def test_the_digest_changes_with_any_weight_byte_and_any_setting(tmp_path: Path) -> None:
    first, second = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    first.write_bytes(b"weights of a")
    second.write_bytes(b"weights of b")
    base = input_digest([first, second], {"count": 4, "seed": 0})
    assert len(base) == 12 and base == input_digest([first, second], {"seed": 0, "count": 4})  # key order is free
    assert input_digest([second, first], {"count": 4, "seed": 0}) != base  # file order is part of the key
    assert input_digest([first, second], {"count": 5, "seed": 0}) != base
    assert input_digest([first, second]) != base  # no settings
    second.write_bytes(b"weights of B")
    assert input_digest([first, second], {"count": 4, "seed": 0}) != base


def test_a_missing_weight_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MotionLCMError, match="teacher trajectories: no weights at"):
        input_digest([tmp_path / "missing.safetensors"], {}, "teacher trajectories")


class _Numbers:
    """A tiny cache: a list of numbers in a JSON file."""

    def __init__(self, values: list[int]) -> None:
        self.values = values

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.values))

    @classmethod
    def load(cls, path: Path) -> _Numbers:
        return cls(json.loads(path.read_text()))


def test_load_or_build_builds_once_and_then_reads_the_file(tmp_path: Path) -> None:
    path, builds = tmp_path / "numbers.json", []

    def build() -> _Numbers:
        builds.append(1)
        return _Numbers([1, 2, 3])

    assert load_or_build(path, _Numbers.load, build).values == [1, 2, 3]
    assert path.is_file() and len(builds) == 1
    path.write_text("[7]")  # what is read is the file, not a rebuilt cache
    assert load_or_build(path, _Numbers.load, build).values == [7]
    assert len(builds) == 1
