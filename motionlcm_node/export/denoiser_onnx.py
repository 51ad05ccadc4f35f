"""Export a latent denoiser (teacher or consistency student) to ONNX and check it against PyTorch.

The graph maps ``latent`` [B, L, D] float32 (scaled diffusion latents), ``timesteps`` [B] int64,
``text`` [B, text_dim] float32 and, for a student, ``guidance`` [B] float32 to ``noise`` [B, L, D];
the batch axis is dynamic. It is written beside the weights as ``denoiser.onnx``, with
``denoiser.json`` naming the SHA-256 of the weights and sizes it came from (``runtime/denoiser.py``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.text_onnx import dynamo_export
from motionlcm_node.loading.models import load_denoiser
from motionlcm_node.networks.denoiser import LatentDenoiser
from motionlcm_node.runtime.denoiser import (
    DENOISER_FILE,
    DENOISER_FORMAT,
    DENOISER_INPUTS,
    DENOISER_METADATA,
    DENOISER_OUTPUT,
    OnnxDenoiser,
    denoiser_source_digest,
)
from motionlcm_node.runtime.onnx_session import ExportReport

OPSET = 18
MAX_ABS_ERROR = 1e-4  # predicted noise is unit scale
VERIFY_BATCHES = (1, 2, 5)
FORWARD_ARGUMENTS = ("latent", "timesteps", "text", "guidance")  # LatentDenoiser.forward's names


def _example_inputs(denoiser: LatentDenoiser, batch: int, generator: torch.Generator) -> list[torch.Tensor]:
    c = denoiser.config
    inputs = [
        torch.randn(batch, c.latent_tokens, c.latent_dim, generator=generator),
        torch.randint(0, 1000, (batch,), generator=generator),
        torch.nn.functional.normalize(torch.randn(batch, c.text_dim, generator=generator), dim=-1),
    ]
    if c.guidance_embedding:
        inputs.append(5.0 + 10.0 * torch.rand(batch, generator=generator))
    return inputs


def verify_denoiser_export(onnx_path: Path, denoiser: LatentDenoiser, max_abs_error: float = MAX_ABS_ERROR) -> float:
    """Compare the export at ``onnx_path`` with ``denoiser`` on fixed random inputs.

    Returns:
        The largest absolute difference found.

    Raises:
        MotionLCMError: a difference above ``max_abs_error`` or a shape mismatch.
    """
    candidate = OnnxDenoiser(onnx_path, denoiser.config, threads=1)
    generator = torch.Generator().manual_seed(0)
    worst = 0.0
    for batch in VERIFY_BATCHES:
        inputs = _example_inputs(denoiser, batch, generator)
        with torch.no_grad():
            expected = denoiser(*inputs).numpy()
        found = candidate(*(value.numpy() for value in inputs))
        if expected.shape != found.shape:
            raise MotionLCMError(f"ONNX denoiser: shape {list(found.shape)} != torch {list(expected.shape)}")
        worst = max(worst, float(abs(expected - found).max()))
    if not worst <= max_abs_error:
        raise MotionLCMError(f"ONNX denoiser {onnx_path}: max abs error {worst:.2e} > {max_abs_error:.0e}")
    return worst


def export_denoiser(model_dir: Path, opset: int = OPSET) -> ExportReport:
    """Export the denoiser in ``model_dir`` (a teacher or student folder) beside its weights and verify it.

    Args:
        model_dir: folder with ``model.safetensors`` and ``config.json`` (a ``denoiser`` section).
        opset: ONNX opset.

    Raises:
        MotionLCMError: not a denoiser folder, export failure, or the check fails (files are removed).
    """
    start = time.perf_counter()
    denoiser = load_denoiser(model_dir)
    names = list(DENOISER_INPUTS if denoiser.config.guidance_embedding else DENOISER_INPUTS[:3])
    batch = torch.export.Dim("batch", min=1, max=65536)
    digest = denoiser_source_digest(model_dir)
    onnx_path, meta_path = model_dir / DENOISER_FILE, model_dir / DENOISER_METADATA
    meta_path.unlink(missing_ok=True)
    inputs = tuple(_example_inputs(denoiser, 2, torch.Generator().manual_seed(0)))
    shapes = {name: {0: batch} for name in FORWARD_ARGUMENTS[: len(names)]}
    try:
        dynamo_export(denoiser, inputs, onnx_path, names, DENOISER_OUTPUT, shapes, opset)
    except Exception as error:  # the exporter raises many types; report them as one
        onnx_path.unlink(missing_ok=True)
        raise MotionLCMError(f"ONNX export of the denoiser in {model_dir} failed: {error}") from error
    try:
        worst = verify_denoiser_export(onnx_path, denoiser)
    except MotionLCMError:
        onnx_path.unlink(missing_ok=True)
        raise
    meta = {
        "format": DENOISER_FORMAT,
        "source_sha256": digest,
        "denoiser": denoiser.config.to_dict(),
        "opset": opset,
        "torch": torch.__version__,
        "max_abs_error": worst,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # written last: the export counts once it exists
    return ExportReport(onnx_path, worst, time.perf_counter() - start)
