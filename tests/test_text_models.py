"""Text models by id: the default MiniLM, its first-N-layer cuts, cached caption vectors, one id per model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from benchmarks.latency_setup import Settings, shared_text_model
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.model_store import text_model_of
from motionlcm_node.onnx_text_encoder import load_text_encoder
from motionlcm_node.text_encoder import TextEncoder, default_model_path, model_id_of
from motionlcm_node.text_models import first_layers_model, resolve_text_model, text_model_folder
from motionlcm_node.training.text_vectors import dataset_text_vectors

SENTENCES = ["a person walks forward", "someone waves with the right hand", ""]


@pytest.fixture(scope="module")
def cut_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("text_models")


def test_first_layers_model_keeps_n_layers_and_gets_its_own_id(cut_root: Path) -> None:
    folder = first_layers_model(2, cut_root)
    config = json.loads((folder / "config.json").read_text())
    assert folder.name == "minilm-first2" and config["num_hidden_layers"] == 2
    assert model_id_of(folder).startswith("minilm-first2-") and model_id_of(folder) != model_id_of(default_model_path())
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert first_layers_model(2, cut_root) == folder and (folder / "config.json").stat().st_mtime_ns == stamp


def test_a_cut_with_a_broken_link_is_built_again(tmp_path: Path) -> None:
    folder = first_layers_model(1, tmp_path)
    weights = folder / "model.safetensors"
    weights.unlink()
    weights.symlink_to(tmp_path / "gone.safetensors")  # the environment it pointed into moved away
    assert not weights.exists()
    assert first_layers_model(1, tmp_path) == folder and weights.exists()


def test_a_cut_keeps_only_its_layers_weights_and_encodes_as_the_full_file(cut_root: Path, tmp_path: Path) -> None:
    folder = first_layers_model(2, cut_root)
    names = safe_open(str(folder / "model.safetensors"), "pt").keys()
    layers = {int(match.group(1)) for name in names if (match := re.search(r"encoder\.layer\.(\d+)\.", name))}
    assert layers == {0, 1} and not (folder / "model.safetensors").is_symlink()
    linked = tmp_path / "linked"  # the same cut over the package's full weights file
    shutil.copytree(folder, linked, symlinks=True)
    (linked / "model.safetensors").unlink()
    (linked / "model.safetensors").symlink_to(default_model_path() / "model.safetensors")
    assert torch.allclose(TextEncoder(folder).encode(SENTENCES), TextEncoder(linked).encode(SENTENCES), atol=1e-6)


def test_a_cut_encodes_into_another_space(cut_root: Path) -> None:
    cut = TextEncoder(first_layers_model(2, cut_root)).encode(SENTENCES[:2])
    full = TextEncoder().encode(SENTENCES[:2])
    assert cut.shape == full.shape == (2, 384)
    assert torch.allclose(cut.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert (cut * full).sum(-1).max() < 0.9  # another vector space: models trained on one cannot use the other


@pytest.mark.parametrize("layers", [0, 7])
def test_first_layers_model_refuses_impossible_counts(cut_root: Path, layers: int) -> None:
    with pytest.raises(MotionLCMError, match="layers must be"):
        first_layers_model(layers, cut_root)


def test_text_model_folder_resolves_ids(cut_root: Path) -> None:
    assert text_model_folder(model_id_of(default_model_path())) == default_model_path()
    wanted = model_id_of(first_layers_model(3, cut_root / "elsewhere"))
    built = text_model_folder(wanted, cut_root)
    assert built == cut_root / "minilm-first3" and model_id_of(built) == wanted
    with pytest.raises(MotionLCMError, match="pass its sentence-transformers folder"):
        text_model_folder("sentence-t5-large-0123abcd", cut_root)
    with pytest.raises(MotionLCMError, match="not minilm-first3-00000000"):
        text_model_folder("minilm-first3-00000000", cut_root)


def test_resolve_text_model(tmp_path: Path) -> None:
    assert resolve_text_model(None) == default_model_path()
    built = resolve_text_model(tmp_path / "minilm-first1")
    assert json.loads((built / "config.json").read_text())["num_hidden_layers"] == 1
    assert resolve_text_model(str(built)) == built
    with pytest.raises(MotionLCMError, match="does not exist"):
        resolve_text_model(tmp_path / "no-such-model")


def test_load_text_encoder_by_model_id(cut_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTIONLCM_TEXT_MODELS_DIR", str(cut_root))
    cut_id = model_id_of(first_layers_model(2, cut_root))
    encoder = load_text_encoder("torch", model_id=cut_id)
    assert encoder.model_id == cut_id
    with pytest.raises(MotionLCMError, match="not both"):
        load_text_encoder("torch", model_path=default_model_path(), model_id=cut_id)


def _write_captions(data_dir: Path) -> None:
    (data_dir / "texts").mkdir(parents=True)
    lines = [f"{sentence}.#{sentence}#0.0#0.0" for sentence in SENTENCES[:2]]
    (data_dir / "texts" / "clip_000.txt").write_text("\n".join(lines) + "\n")


def test_caption_vectors_are_cached_per_model_and_need_no_model_once_complete(
    tmp_path: Path, cut_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_captions(tmp_path)
    cut = first_layers_model(2, cut_root)
    table, model_id = dataset_text_vectors(tmp_path, str(cut))
    assert model_id == model_id_of(cut) and (tmp_path / "text_vectors" / f"{model_id}.safetensors").is_file()

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text model was loaded although every caption was cached")

    monkeypatch.setattr("motionlcm_node.training.text_vectors.TextEncoder", no_model)
    again, again_id = dataset_text_vectors(tmp_path, str(cut))
    assert again_id == model_id
    captions = ["a person walks forward.", "someone waves with the right hand.", ""]
    assert torch.equal(again.encode(captions), table.encode(captions))
    # A cache file under this id that holds another model's vectors is refused, not used.
    meta_path = tmp_path / "text_vectors" / f"{model_id}.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "model": "model-00000000"}))
    with pytest.raises(MotionLCMError, match="holds vectors of model-00000000"):
        dataset_text_vectors(tmp_path, str(cut))
    meta_path.write_text(json.dumps(meta))
    # A new caption is missing from the cache: now the model must be loaded.
    (tmp_path / "texts" / "clip_001.txt").write_text("a person jumps.#a person jumps#0.0#0.0\n")
    with pytest.raises(AssertionError, match="was loaded"):
        dataset_text_vectors(tmp_path, str(cut))


def _model_folder(path: Path, text_model: str) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"text_model": text_model}))
    (path / "model.safetensors").write_bytes(b"")
    return path


def test_text_model_of_and_the_latency_benchmark_refuses_mixed_text_models(tmp_path: Path) -> None:
    _model_folder(tmp_path / "student", "minilm-first2-a4ea0e5d")
    assert text_model_of(tmp_path / "student") == "minilm-first2-a4ea0e5d"
    assert shared_text_model(tmp_path, Settings()) == "minilm-first2-a4ea0e5d"
    assert shared_text_model(tmp_path, Settings(random_weights=True)) is None
    _model_folder(tmp_path / "teacher", "model-953f9c0d")
    with pytest.raises(MotionLCMError, match="different text models"):
        shared_text_model(tmp_path, Settings())
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(MotionLCMError, match="names no text_model"):
        text_model_of(tmp_path / "empty")
