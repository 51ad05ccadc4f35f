"""Text models by id, the caption-vector cache and the sentence-vector table (text/encoder.py, training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import text_model_of
from motionlcm_node.text.encoder import (
    CachedTextVectors,
    default_model_path,
    model_id_of,
    resolve_text_model,
    text_model_folder,
)
from motionlcm_node.training.text_vectors import dataset_text_vectors

SENTENCES = ["a person walks forward", "someone waves with the right hand"]


def test_text_model_folder_resolves_the_default_id_only(tmp_path: Path) -> None:
    assert text_model_folder(model_id_of(default_model_path())) == default_model_path()
    with pytest.raises(MotionLCMError, match="pass its sentence-transformers folder"):
        text_model_folder("sentence-t5-large-0123abcd")
    assert resolve_text_model(None) == default_model_path()
    assert resolve_text_model(str(default_model_path())) == default_model_path()
    with pytest.raises(MotionLCMError, match=r"no config\.json"):
        resolve_text_model(tmp_path / "no-such-model")


def _write_captions(data_dir: Path) -> None:
    (data_dir / "texts").mkdir(parents=True)
    lines = [f"{sentence}.#{sentence}#0.0#0.0" for sentence in SENTENCES]
    (data_dir / "texts" / "clip_000.txt").write_text("\n".join(lines) + "\n")


def test_caption_vectors_are_cached_and_need_no_model_once_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_captions(tmp_path)
    table, model_id = dataset_text_vectors(tmp_path)
    assert model_id == model_id_of(default_model_path())
    assert (tmp_path / "text_vectors" / f"{model_id}.safetensors").is_file()

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text model was loaded although every caption was cached")

    monkeypatch.setattr("motionlcm_node.training.text_vectors.TextEncoder", no_model)
    again, again_id = dataset_text_vectors(tmp_path)
    assert again_id == model_id
    captions = ["a person walks forward.", "someone waves with the right hand.", ""]
    vectors = again.encode(captions)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_array_equal(vectors, table.encode(captions))
    # A cache file under this id that holds another model's vectors is refused, not used.
    meta_path = tmp_path / "text_vectors" / f"{model_id}.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "model": "model-00000000"}))
    with pytest.raises(MotionLCMError, match="holds vectors of model-00000000"):
        dataset_text_vectors(tmp_path)
    meta_path.write_text(json.dumps(meta))
    # A new caption is missing from the cache: now the model must be loaded.
    (tmp_path / "texts" / "clip_001.txt").write_text("a person jumps.#a person jumps#0.0#0.0\n")
    with pytest.raises(AssertionError, match="was loaded"):
        dataset_text_vectors(tmp_path)


def test_a_vector_table_needs_the_unconditional_sentence_and_names_missing_ones() -> None:
    with pytest.raises(MotionLCMError, match="empty sentence"):
        CachedTextVectors({"walk": np.ones(4)})
    table = CachedTextVectors({"": np.zeros(4), "walk": np.ones(4)})
    assert table.encode(["walk", ""]).shape == (2, 4) and table.dim == 4
    with pytest.raises(MotionLCMError, match="not in the vector table"):
        table.encode(["fly"])


def test_text_model_of_reads_the_config_only(tmp_path: Path) -> None:
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "config.json").write_text(json.dumps({"text_model": "model-953f9c0d"}))
    assert text_model_of(tmp_path / "student") == "model-953f9c0d"
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(MotionLCMError, match="names no text_model"):
        text_model_of(tmp_path / "empty")
    with pytest.raises(MotionLCMError, match=r"no readable config\.json"):
        text_model_of(tmp_path / "missing")
