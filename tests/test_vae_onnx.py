"""The VAE decoder on ONNX Runtime: export, check against torch, staleness, pipeline and CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlcm_node.cli.main import main
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.vae_onnx import export_vae_decoder, verify_decoder_export
from motionlcm_node.loading.models import load_vae
from motionlcm_node.networks.config import MotionVAEConfig
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer, save_normalizer
from motionlcm_node.runtime.decoder import (
    OnnxFeatureDecoder,
    TorchFeatureDecoder,
    decoder_export_is_current,
    load_feature_decoder,
    load_onnx_decoder,
)
from motionlcm_node.sampling.lcm_pipeline import MotionLCMPipeline
from motionlcm_node.text.sentence_transformer import TextEncoder
from motionlcm_node.training.checkpoint import export_model, save_weights
from tests.test_networks import TINY_VAE
from tests.tiny_models import write_tiny_models


@pytest.fixture(scope="module")
def exported_models(prepared_fixture_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny student + VAE, with the VAE decoder exported once for the module."""
    root = tmp_path_factory.mktemp("models")
    write_tiny_models(root, prepared_fixture_dataset)
    report = export_vae_decoder(root / "vae")
    assert report.onnx_path == root / "vae" / "decoder.onnx" and report.max_abs_error <= 1e-3
    return root


def _copy_vae(models: Path, tmp_path: Path) -> Path:
    target = tmp_path / "vae"
    shutil.copytree(models / "vae", target)
    return target


def test_onnx_features_match_torch_for_odd_lengths_and_batches(exported_models: Path) -> None:
    vae_dir = exported_models / "vae"
    torch_decoder, onnx_decoder = TorchFeatureDecoder(*load_vae(vae_dir)), OnnxFeatureDecoder(vae_dir, threads=1)
    rng = np.random.default_rng(1)
    config = torch_decoder.vae.config
    for lengths in ([5], [33, 12, 20], [64, 64]):
        latent = rng.standard_normal((len(lengths), config.latent_tokens, config.latent_dim), dtype=np.float32)
        expected, found = torch_decoder.decode_features(latent, lengths), onnx_decoder.decode_features(latent, lengths)
        assert found.shape == (len(lengths), max(lengths), 263) and found.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(found, expected, atol=1e-4)
        for row, length in enumerate(lengths):
            assert np.all(found[row, length:] == 0) and np.any(found[row, :length] != 0)
    assert load_onnx_decoder(vae_dir) is not None and isinstance(load_feature_decoder(vae_dir), OnnxFeatureDecoder)


def test_repeated_shapes_get_fixed_shape_sessions_with_the_same_output(exported_models: Path) -> None:
    vae_dir = exported_models / "vae"
    decoder = OnnxFeatureDecoder(vae_dir, threads=1, specialise_after=2, max_specialised=2)
    dynamic = OnnxFeatureDecoder(vae_dir, threads=1, specialise_after=0)
    config = load_vae(vae_dir)[0].config
    latent = np.random.default_rng(2).standard_normal((2, config.latent_tokens, config.latent_dim), dtype=np.float32)
    patch = config.temporal_patch
    padded = -(-33 // patch) * patch
    first = decoder.decode_features(latent, [33, 20])
    assert decoder.specialised_shapes == []  # one request of a shape does not pay for a session
    second = decoder.decode_features(latent, [33, 12])  # same batch and padded frames
    assert decoder.specialised_shapes == [(2, padded)]
    np.testing.assert_allclose(second, dynamic.decode_features(latent, [33, 12]), atol=1e-5)
    np.testing.assert_allclose(first, dynamic.decode_features(latent, [33, 20]), atol=1e-5)
    assert np.all(second[1, 12:] == 0)
    for frames in (8, 8, 16, 16):  # two more shapes: the least recently used session leaves
        decoder.decode_features(latent[:1], [frames])
    assert decoder.specialised_shapes == [(1, 8), (1, 16)]
    assert dynamic.specialised_shapes == []
    with pytest.raises(MotionLCMError, match="specialisation"):
        OnnxFeatureDecoder(vae_dir, specialise_after=-1)


def test_one_decoder_serves_several_threads(exported_models: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    vae_dir = exported_models / "vae"
    decoder = OnnxFeatureDecoder(vae_dir, threads=1)
    dynamic = OnnxFeatureDecoder(vae_dir, threads=1, specialise_after=0)
    config = load_vae(vae_dir)[0].config
    latent = np.random.default_rng(3).standard_normal((1, config.latent_tokens, config.latent_dim), dtype=np.float32)
    requests = [8, 16, 24, 8, 16, 24] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda frames: decoder.decode_features(latent, [frames]), requests))
    for frames, result in zip(requests, results, strict=True):
        np.testing.assert_allclose(result, dynamic.decode_features(latent, [frames]), atol=1e-5)
    assert 1 <= len(decoder.specialised_shapes) <= 3


def test_bad_requests_are_refused(exported_models: Path) -> None:
    decoder = OnnxFeatureDecoder(exported_models / "vae", threads=1)
    tokens, dim = decoder.latent_shape
    with pytest.raises(MotionLCMError, match="latent must be"):
        decoder.decode_features(np.zeros((1, tokens + 1, dim), np.float32), [10])
    with pytest.raises(MotionLCMError, match="latent must be"):
        decoder.decode_features(np.zeros((2, tokens, dim), np.float32), [10])
    with pytest.raises(MotionLCMError, match="positive"):
        decoder.decode_features(np.zeros((1, tokens, dim), np.float32), [0])
    with pytest.raises(MotionLCMError, match="backend must be"):
        load_feature_decoder(exported_models / "vae", "tensorrt")


def test_an_export_of_other_weights_is_stale_and_auto_falls_back_to_torch(exported_models: Path, tmp_path) -> None:
    vae_dir = _copy_vae(exported_models, tmp_path)
    assert decoder_export_is_current(vae_dir)
    vae, _ = load_vae(vae_dir)
    with torch.no_grad():
        vae.decoder_output.bias.add_(0.5)
    save_weights(vae, vae_dir / "model.safetensors")
    assert not decoder_export_is_current(vae_dir)
    with pytest.raises(MotionLCMError, match=r"stale ONNX VAE decoder.*motionlcm export vae-decoder"):
        OnnxFeatureDecoder(vae_dir)
    with pytest.raises(MotionLCMError, match="stale"):
        load_feature_decoder(vae_dir, "onnx")
    assert isinstance(load_feature_decoder(vae_dir, "auto"), TorchFeatureDecoder)
    (vae_dir / "decoder.onnx").unlink()
    with pytest.raises(MotionLCMError, match="no ONNX VAE decoder"):
        load_feature_decoder(vae_dir, "onnx")


def test_verification_rejects_a_wrong_graph(exported_models: Path, tmp_path: Path) -> None:
    vae_dir = _copy_vae(exported_models, tmp_path)
    vae, _ = load_vae(vae_dir)
    with torch.no_grad():
        vae.decoder_output.bias.add_(0.5)
    save_weights(vae, vae_dir / "model.safetensors")
    meta = json.loads((vae_dir / "decoder.json").read_text())
    from motionlcm_node.runtime.decoder import source_digest

    meta["source_sha256"] = source_digest(vae_dir)  # claims to be current, but the graph has the old weights
    (vae_dir / "decoder.json").write_text(json.dumps(meta))
    with pytest.raises(MotionLCMError, match="max abs error"):
        verify_decoder_export(vae_dir)


def test_pipeline_outputs_are_the_same_on_both_decoders(exported_models: Path) -> None:
    encoder = TextEncoder()
    outputs = {}
    for backend in ("torch", "onnx"):
        pipeline = MotionLCMPipeline.from_models(exported_models, encoder, decoder_backend=backend, threads=1)
        assert pipeline.decoder.backend == backend
        outputs[backend] = pipeline(["a person waves", "a person runs"], [40, 23], generator=0)
    assert np.allclose(outputs["onnx"].joints, outputs["torch"].joints, atol=1e-4)
    assert np.array_equal(outputs["onnx"].lengths, [40, 23]) and np.all(outputs["onnx"].features[1, 23:] == 0)


def test_cli_exports_and_skips_a_current_export(exported_models: Path, tmp_path: Path, capsys) -> None:
    vae_dir = _copy_vae(exported_models, tmp_path)
    assert main(["export", "vae-decoder", "--vae", str(vae_dir), "--if-stale"]) == 0
    assert "is current" in capsys.readouterr().out
    (vae_dir / "decoder.json").unlink()
    assert main(["export", "vae-decoder", "--vae", str(vae_dir), "--if-stale"]) == 0
    assert "max abs error to torch" in capsys.readouterr().out and decoder_export_is_current(vae_dir)
    assert main(["export", "vae-decoder", "--vae", str(tmp_path / "missing")]) != 0


@pytest.mark.parametrize("smoothing", [0, 5])
def test_time_aligned_decoder_exports_and_matches_torch(tmp_path: Path, smoothing: int) -> None:
    torch.manual_seed(3)
    config = MotionVAEConfig(
        **{**TINY_VAE.to_dict(), "temporal_patch": 2, "time_aligned_latent": True, "smoothing_kernel": smoothing}
    )
    export_model(MotionVAE(config), {"vae": config.to_dict()}, tmp_path / "vae")
    normalizer = FeatureNormalizer(torch.randn(263), torch.rand(263) + 0.5)
    save_normalizer(normalizer, tmp_path / "vae" / "normalizer.safetensors")
    report = export_vae_decoder(tmp_path / "vae")  # checks several lengths and batches against torch
    assert report.max_abs_error <= 1e-4
