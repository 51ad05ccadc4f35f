"""Export the VAE decoder (with feature de-normalisation) to ONNX and check it against PyTorch.

The graph maps ``latent`` [B, L, D] float32 (unscaled, the VAE's own scale) and ``valid`` [B, T]
bool (True on the frames to produce; T a multiple of the temporal patch) to ``features`` [B, T, 263]
float32, un-normalised and zero on invalid frames. Batch and frame axes are dynamic. A JSON file
beside it records the SHA-256 of the weights it came from, so ``OnnxFeatureDecoder`` refuses an
export of other weights.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.text_onnx import dynamo_export
from motionlcm_node.loading.models import load_vae
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.postprocess.normalizer import FeatureNormalizer
from motionlcm_node.runtime.decoder import (
    DECODER_FILE,
    DECODER_FORMAT,
    DECODER_INPUTS,
    DECODER_METADATA,
    DECODER_OUTPUT,
    OnnxFeatureDecoder,
    TorchFeatureDecoder,
    source_digest,
)
from motionlcm_node.runtime.onnx_session import ExportReport

LOGGER = logging.getLogger(__name__)
OPSET = 18
MAX_ABS_ERROR = 1e-3  # raw-feature units (metres, m/frame, radians/2, unit 6D entries)
VERIFY_LENGTHS = ((196,), (196, 150, 24), (37,), (16, 17))


class _RawFeatureDecoder(torch.nn.Module):
    """VAE decode + de-normalisation + zeroing of invalid frames, with tensor-only inputs."""

    def __init__(self, vae: MotionVAE, normalizer: FeatureNormalizer) -> None:
        super().__init__()
        self.vae = vae
        self.register_buffer("mean", normalizer.mean.clone())
        self.register_buffer("std", normalizer.std.clone())

    def forward(self, latent: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """[B, L, D] latents, [B, T] valid-frame mask -> [B, T, F] raw features."""
        lengths = valid.sum(dim=1)
        normalised = self.vae.decode(latent, lengths, valid.shape[1])
        return (normalised * self.std + self.mean) * valid[..., None].to(normalised.dtype)


def verify_decoder_export(vae_dir: Path, max_abs_error: float = MAX_ABS_ERROR) -> float:
    """Compare the export in ``vae_dir`` with the torch decoder on fixed random latents.

    Returns:
        The largest absolute difference found.

    Raises:
        MotionLCMError: a difference above ``max_abs_error`` or a shape mismatch.
    """
    vae, normalizer = load_vae(vae_dir)
    reference, candidate = TorchFeatureDecoder(vae.eval(), normalizer), OnnxFeatureDecoder(vae_dir, threads=1)
    generator = torch.Generator().manual_seed(0)
    worst = 0.0
    for lengths in VERIFY_LENGTHS:
        latent = torch.randn(len(lengths), vae.config.latent_tokens, vae.config.latent_dim, generator=generator)
        expected = reference.decode_features(latent.numpy(), lengths)
        found = candidate.decode_features(latent.numpy(), lengths)
        if expected.shape != found.shape:
            raise MotionLCMError(f"ONNX VAE decoder: shape {list(found.shape)} != torch {list(expected.shape)}")
        worst = max(worst, float(abs(expected - found).max()))
    if not worst <= max_abs_error:
        raise MotionLCMError(f"ONNX VAE decoder in {vae_dir}: max abs error {worst:.2e} > {max_abs_error:.0e}")
    return worst


def export_vae_decoder(vae_dir: Path, opset: int = OPSET) -> ExportReport:
    """Export the decoder of the VAE in ``vae_dir`` to ``vae_dir/decoder.onnx`` and verify it.

    Args:
        vae_dir: a VAE folder (``model.safetensors``, ``config.json``, ``normalizer.safetensors``).
        opset: ONNX opset.

    Raises:
        MotionLCMError: not a VAE folder, export failure, or the check fails (files are removed).
    """
    start = time.perf_counter()
    vae, normalizer = load_vae(vae_dir)
    module = _RawFeatureDecoder(vae.eval(), normalizer).eval()
    patch = vae.config.temporal_patch
    latent = torch.randn(2, vae.config.latent_tokens, vae.config.latent_dim)
    valid = torch.arange(8 * patch)[None, :] < torch.tensor([8 * patch, 5 * patch])[:, None]
    batch, groups = torch.export.Dim("batch"), torch.export.Dim("groups", min=1, max=4096)
    onnx_path, meta_path = vae_dir / DECODER_FILE, vae_dir / DECODER_METADATA
    meta_path.unlink(missing_ok=True)
    shapes = {"latent": {0: batch}, "valid": {0: batch, 1: groups * patch}}
    try:
        dynamo_export(module, (latent, valid), onnx_path, DECODER_INPUTS, DECODER_OUTPUT, shapes, opset)
    except Exception as error:  # the exporter raises many types; report them as one
        raise MotionLCMError(f"ONNX export of the VAE decoder in {vae_dir} failed: {error}") from error
    meta = {
        "format": DECODER_FORMAT,
        "source_sha256": source_digest(vae_dir),
        "temporal_patch": patch,
        "latent_tokens": vae.config.latent_tokens,
        "latent_dim": vae.config.latent_dim,
        "feature_dim": vae.config.feature_dim,
        "opset": opset,
        "torch": torch.__version__,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    try:
        worst = verify_decoder_export(vae_dir)
    except MotionLCMError:
        onnx_path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        raise
    meta["max_abs_error"] = worst
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    LOGGER.debug("exported %s (max abs error %.1e)", onnx_path, worst)
    return ExportReport(onnx_path, worst, time.perf_counter() - start)
