"""ONNX Runtime text encoder: export (CLI), equivalence with the torch encoder, caches, stale exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.text_onnx import verify_export
from motionlcm_node.text.onnx_encoder import (
    OnnxTextEncoder,
    export_is_current,
    load_text_encoder,
    metadata_path,
)
from motionlcm_node.text.sentence_transformer import TextEncoder

SENTENCES = [
    "",
    "a person walks forward",
    "a person walks forward",
    "someone jumps up and down three times and then waves with both hands above the head",
    "Run!",
    "the man sits down on a chair",
]


@pytest.fixture(scope="module")
def torch_encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, torch_encoder: TextEncoder) -> Iterator[Path]:
    """One export through the CLI (reusing the loaded torch model) for the whole module."""
    out = tmp_path_factory.mktemp("onnx") / "minilm.onnx"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("motionlcm_node.export.text_onnx.TextEncoder", lambda model_path, device: torch_encoder)
        assert main(["export", "text-encoder", "--out", str(out)]) == 0
    yield out


@pytest.fixture(scope="module")
def onnx_encoder(exported: Path) -> OnnxTextEncoder:
    return OnnxTextEncoder(exported)


@pytest.fixture
def _shared_torch_encoder(monkeypatch: pytest.MonkeyPatch, torch_encoder: TextEncoder) -> None:
    monkeypatch.setattr(
        "motionlcm_node.text.sentence_transformer.TextEncoder", lambda model_path, device: torch_encoder
    )


def test_cli_export_writes_a_current_export(exported: Path, torch_encoder: TextEncoder) -> None:
    meta = json.loads(metadata_path(exported).read_text())
    assert meta["model_id"] == torch_encoder.model_id
    assert meta["dim"] == torch_encoder.dim == 384
    assert meta["min_cosine"] >= 0.9999
    assert export_is_current(exported, torch_encoder.model_id)
    assert sorted(p.name for p in exported.parent.iterdir()) == ["minilm.json", "minilm.onnx"]  # no temp files
    # MiniLM is BERT: TorchScript export, one fused ORT attention operator per layer.
    assert meta["exporter"] == "torchscript" and meta["ort_fusions"]["Attention"] == 6 and meta["opset"] == 17
    assert sum(node.op_type == "Attention" for node in onnx.load(str(exported)).graph.node) == 6


def test_other_model_types_keep_the_dynamo_export(torch_encoder: TextEncoder, tmp_path: Path) -> None:
    from motionlcm_node.export.text_onnx import export_text_encoder

    out = tmp_path / "plain.onnx"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("motionlcm_node.export.text_onnx.TextEncoder", lambda model_path, device: torch_encoder)
        patch.setattr("motionlcm_node.export.text_onnx.FUSED_MODEL_TYPES", ())
        report = export_text_encoder(out)
    meta = json.loads(metadata_path(out).read_text())
    assert meta["exporter"] == "dynamo" and meta["ort_fusions"] == {} and report.min_cosine >= 0.9999
    assert not any(node.op_type == "Attention" for node in onnx.load(str(out)).graph.node)


def test_cli_skips_a_current_export(exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "text-encoder", "--out", str(exported), "--if-stale"]) == 0
    assert "is current" in capsys.readouterr().out


def test_cli_exports_the_text_models_a_models_folder_names(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model_id = json.loads(metadata_path(exported).read_text())["model_id"]
    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    (onnx_dir / f"{model_id}.onnx").write_bytes(exported.read_bytes())
    metadata_path(onnx_dir / f"{model_id}.onnx").write_text(metadata_path(exported).read_text())
    monkeypatch.setenv("MOTIONLCM_ONNX_DIR", str(onnx_dir))
    models = tmp_path / "models"
    for part in ("student", "evaluator"):
        (models / part).mkdir(parents=True)
        (models / part / "config.json").write_text(json.dumps({"text_model": model_id}))
    assert main(["export", "text-encoder", "--for-models", str(models), "--if-stale"]) == 0
    assert f"{onnx_dir / model_id}.onnx ({model_id}) is current" in capsys.readouterr().out
    assert main(["export", "text-encoder", "--for-models", str(models), "--out", str(exported)]) == 2
    assert "drop --model and --out" in capsys.readouterr().err
    (models / "student" / "config.json").write_text(json.dumps({"text_model": "clip-vit-0123abcd"}))
    assert main(["export", "text-encoder", "--for-models", str(models), "--if-stale"]) == 2
    assert "pass its sentence-transformers folder" in capsys.readouterr().err
    assert main(["export", "text-encoder", "--for-models", str(tmp_path / "empty"), "--if-stale"]) == 2
    assert "names a text model" in capsys.readouterr().err


def test_cli_rejects_a_non_onnx_path(
    tmp_path: Path, torch_encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("motionlcm_node.export.text_onnx.TextEncoder", lambda model_path, device: torch_encoder)
    assert main(["export", "text-encoder", "--out", str(tmp_path / "model.bin")]) == 2
    assert ".onnx" in capsys.readouterr().err


def test_same_vectors_as_torch(onnx_encoder: OnnxTextEncoder, torch_encoder: TextEncoder) -> None:
    assert onnx_encoder.model_id == torch_encoder.model_id
    assert onnx_encoder.dim == torch_encoder.dim
    batch = onnx_encoder._compute(SENTENCES)  # one padded batch, no cache
    alone = np.concatenate([onnx_encoder._compute([s]) for s in SENTENCES])  # batch 1 each, no padding
    reference = torch_encoder.encode(SENTENCES)
    for vectors in (batch, alone, onnx_encoder.encode(SENTENCES)):
        assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), np.ones(len(SENTENCES)), atol=1e-5)
        assert (vectors * reference).sum(axis=-1).min() >= 0.9999  # cosine of unit vectors
    tokens = onnx_encoder.tokenize(SENTENCES)
    assert tokens["attention_mask"].sum(axis=1).min() == 2  # "" is [CLS] [SEP] padded to the longest
    assert onnx_encoder.encode([]).shape == (0, 384)


def test_verify_rejects_a_bad_export(exported: Path, torch_encoder: TextEncoder) -> None:
    assert verify_export(exported, torch_encoder, sentences=("", "hi")) >= 0.9999
    with pytest.raises(MotionLCMError, match="cosine similarity"):
        verify_export(exported, torch_encoder, sentences=("", "hi"), min_cosine=1.5)


def test_cache_round_trip_and_shared_with_torch(
    exported: Path, onnx_encoder: OnnxTextEncoder, torch_encoder: TextEncoder, tmp_path: Path
) -> None:
    vectors = onnx_encoder.encode(SENTENCES[:3])
    onnx_encoder.save_cache(tmp_path / "vectors.safetensors")
    fresh = OnnxTextEncoder(exported)
    assert fresh.load_cache(tmp_path / "vectors.safetensors") >= 2

    def no_compute(sentences: list[str]) -> np.ndarray:
        raise AssertionError(f"cached sentences were encoded again: {sentences}")

    fresh._compute = no_compute  # type: ignore[method-assign]
    np.testing.assert_array_equal(fresh.encode(SENTENCES[:3]), vectors)
    # the same file loads into the torch encoder (same model_id), and vice versa
    assert torch_encoder.load_cache(tmp_path / "vectors.safetensors") >= 2
    torch_encoder.save_cache(tmp_path / "torch.safetensors")
    assert fresh.load_cache(tmp_path / "torch.safetensors") >= 2
    meta = tmp_path / "vectors.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "model": "other-12345678"}))
    with pytest.raises(MotionLCMError, match="other-12345678"):
        fresh.load_cache(tmp_path / "vectors.safetensors")


@pytest.mark.usefixtures("_shared_torch_encoder")
def test_stale_export_is_refused(exported: Path, torch_encoder: TextEncoder, tmp_path: Path) -> None:
    stale = tmp_path / "stale.onnx"
    stale.symlink_to(exported)
    meta = json.loads(metadata_path(exported).read_text())
    metadata_path(stale).write_text(json.dumps({**meta, "model_id": "model-00000000"}))
    assert not export_is_current(stale, torch_encoder.model_id)
    with pytest.raises(MotionLCMError, match=r"stale .*model-00000000.*motionlcm export text-encoder"):
        OnnxTextEncoder(stale)
    with pytest.raises(MotionLCMError, match="stale"):
        load_text_encoder("onnx", onnx_path=stale)
    assert load_text_encoder("auto", onnx_path=stale) is torch_encoder


@pytest.mark.usefixtures("_shared_torch_encoder")
def test_missing_export(tmp_path: Path, torch_encoder: TextEncoder) -> None:
    missing = tmp_path / "missing.onnx"
    with pytest.raises(MotionLCMError, match=r"no ONNX text encoder at .*missing\.onnx: run `motionlcm export"):
        OnnxTextEncoder(missing)
    with pytest.raises(MotionLCMError, match="run `motionlcm export text-encoder`"):
        load_text_encoder("onnx", onnx_path=missing)
    assert load_text_encoder("auto", onnx_path=missing) is torch_encoder
    assert load_text_encoder("torch") is torch_encoder
    with pytest.raises(MotionLCMError, match="backend"):
        load_text_encoder("tensorrt")


def test_auto_prefers_a_current_export(exported: Path) -> None:
    encoder = load_text_encoder("auto", onnx_path=exported, threads=1)
    assert isinstance(encoder, OnnxTextEncoder)
    with pytest.raises(MotionLCMError, match="optimization"):
        OnnxTextEncoder(exported, optimization="max")
