"""The latent denoiser (teacher or consistency student) on ONNX Runtime, a drop-in for ``LatentDenoiser``.

Why a second backend: the denoisers are small (about 80 MFLOP a forward at batch 1), so on the CPU
PyTorch eager spends most of a forward on per-operator overhead: 5.3 ms for the shipped student at
batch 1 against 2.0 ms on ONNX Runtime on the 2-core development machine (measured by
``benchmarks/latency.py``, which times both backends side by side). It serves text-conditioned
sampling; ControlNet residuals need the PyTorch module.

The export (``motionlcm export denoiser --model DIR``) is written to the git-ignored build folder
(``$MOTIONLCM_ONNX_DIR`` or ``<repository>/build/onnx``) as ``denoiser-<digest>.onnx``, where the
digest is the SHA-256 of the weights and config it came from, with a JSON file beside it; new
weights have a new digest, so a stale export is never picked up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.networks.denoiser import DenoiserConfig, LatentDenoiser
from motionlcm_node.onnx_runtime import (
    files_digest,
    onnx_providers,
    read_export_json,
    session_options,
    wants_onnx,
)
from motionlcm_node.onnx_text_encoder import default_onnx_dir

DENOISER_FORMAT = 1
DENOISER_INPUTS = ("latent", "timesteps", "text", "guidance")
DENOISER_OUTPUT = "noise"
EXPORT_COMMAND = "motionlcm export denoiser"
SOURCE_FILES = ("model.safetensors", "config.json")


def denoiser_source_digest(model_dir: Path) -> str:
    """SHA-256 over a teacher or student folder's weights and config (what names its export)."""
    return files_digest(model_dir, SOURCE_FILES, "denoiser")


def denoiser_onnx_path(model_dir: Path, onnx_dir: Path | None = None, digest: str | None = None) -> Path:
    """Where the export of the denoiser in ``model_dir`` lives (``onnx_dir``: default build folder).

    ``digest``: its ``denoiser_source_digest`` when the caller has it already (hashing reads the weights).
    """
    folder = onnx_dir if onnx_dir is not None else default_onnx_dir()
    digest = digest if digest is not None else denoiser_source_digest(model_dir)
    return folder / f"denoiser-{digest[:16]}.onnx"


def denoiser_metadata_path(onnx_path: Path) -> Path:
    """The JSON file beside a denoiser export."""
    return onnx_path.with_suffix(".json")


def current_denoiser_export(model_dir: Path, onnx_dir: Path | None = None) -> Path:
    """The up-to-date export of the denoiser in ``model_dir`` (its weights are hashed once).

    Raises:
        MotionLCMError: export or JSON missing or unreadable, unknown format, or other weights.
    """
    digest = denoiser_source_digest(model_dir)
    onnx_path = denoiser_onnx_path(model_dir, onnx_dir, digest)
    command = f"{EXPORT_COMMAND} --model {model_dir}"
    meta = read_export_json(onnx_path, denoiser_metadata_path(onnx_path), "denoiser", command)
    if meta.get("format") != DENOISER_FORMAT:
        raise MotionLCMError(f"{onnx_path}: unknown denoiser export format; run `{command}`")
    if meta.get("source_sha256") != digest:
        raise MotionLCMError(f"{onnx_path} was exported from other weights than {model_dir}; run `{command}`")
    return onnx_path


def denoiser_export_is_current(model_dir: Path, onnx_dir: Path | None = None) -> bool:
    """Whether the build folder holds an up-to-date export of the denoiser in ``model_dir``."""
    try:
        current_denoiser_export(model_dir, onnx_dir)
    except MotionLCMError:
        return False
    return True


class OnnxDenoiser:
    """A ``LatentDenoiser`` export on ONNX Runtime, called like the module (no ControlNet residuals).

    Batches of up to ``SINGLE_THREAD_BATCH`` run in a second, single-threaded session: on the 2-core
    development machine one thread is faster there (batch 1: 2.5 ms against 3.4 ms with 2 threads;
    batch 2, the teacher's guided step: even), while large batches gain from more (batch 256: 299 ms
    with 2 threads, 473 ms with 1). ``python -m benchmarks.ort_spinning`` times the alternatives in
    the pipelines, with and without spinning workers (``onnx_runtime.set_spinning``): the teacher's
    50 guided steps on two sleeping threads took 1.13-1.18x as long as on one (sixteenth session).

    Args:
        onnx_path: the export.
        config: the sizes of the exported network.
        device: "cpu", or "cuda" (an onnxruntime build with the CUDA provider); outputs are torch
            tensors on this device.
        threads: intra-op threads for batches above ``SINGLE_THREAD_BATCH``.

    Raises:
        MotionLCMError: a device ONNX Runtime cannot use, or a bad thread count.
    """

    backend = "onnx"
    SINGLE_THREAD_BATCH = 2

    def __init__(self, onnx_path: Path, config: DenoiserConfig, device: str = "cpu", threads: int = 2) -> None:
        import onnxruntime

        self.config = config
        self.device = torch.device(device)
        self.onnx_path = onnx_path
        providers = onnx_providers(device)
        self.session = onnxruntime.InferenceSession(str(onnx_path), session_options(threads), providers=providers)
        self.small_batch_session = self.session
        if threads > 1 and device == "cpu":
            self.small_batch_session = onnxruntime.InferenceSession(
                str(onnx_path), session_options(1), providers=providers
            )

    def eval(self) -> OnnxDenoiser:
        """Itself: an inference graph has no training mode (pipelines call ``eval()`` on either backend)."""
        return self

    def __call__(
        self,
        latent: torch.Tensor,
        timesteps: torch.Tensor,
        text: torch.Tensor,
        guidance: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predicted noise [B, L, D] for latents [B, L, D], [B] (or scalar) timesteps, [B, text_dim] text.

        ``guidance`` ([B] scales) is required by a guidance-embedding student and refused otherwise.
        """
        batch = latent.shape[0]
        if tuple(latent.shape[1:]) != (self.config.latent_tokens, self.config.latent_dim):
            raise MotionLCMError(
                f"latent must be [B, {self.config.latent_tokens}, {self.config.latent_dim}], got {list(latent.shape)}"
            )
        if (guidance is None) == self.config.guidance_embedding:
            needs = "needs a" if self.config.guidance_embedding else "takes no"
            raise MotionLCMError(f"this denoiser {needs} guidance scale")
        inputs = {
            "latent": _numpy(latent, np.float32),
            "timesteps": _numpy(timesteps.expand(batch) if timesteps.ndim == 0 else timesteps, np.int64),
            "text": _numpy(text, np.float32),
        }
        if guidance is not None:
            inputs["guidance"] = _numpy(guidance, np.float32)
        session = self.small_batch_session if batch <= self.SINGLE_THREAD_BATCH else self.session
        noise = session.run([DENOISER_OUTPUT], inputs)[0]
        return torch.from_numpy(noise).to(self.device)


#: Either backend of a latent denoiser; both are called as ``denoiser(latent, timesteps, text[, guidance])``.
Denoiser = LatentDenoiser | OnnxDenoiser


def backend_of(denoiser: Denoiser) -> str:
    """What runs ``denoiser``: "onnx" or "torch"."""
    return "onnx" if isinstance(denoiser, OnnxDenoiser) else "torch"


def _numpy(values: torch.Tensor, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(values.detach().cpu().numpy(), dtype=dtype)


def load_denoiser_backend(
    model_dir: Path,
    module: LatentDenoiser,
    backend: str = "auto",
    device: str = "cpu",
    threads: int = 2,
    onnx_dir: Path | None = None,
) -> LatentDenoiser | OnnxDenoiser:
    """The loaded denoiser ``module`` of ``model_dir``, or its ONNX Runtime export where asked for.

    Args:
        model_dir: the teacher or student folder ``module`` was loaded from.
        module: the PyTorch denoiser (returned for "torch", and for "auto" without a current export).
        backend: "onnx" (an error when the export is missing or stale), "torch", or "auto" (ONNX
            when a current export exists and ONNX Runtime runs on ``device``).
        device: "cpu" or "cuda".
        threads: ONNX Runtime intra-op threads for large batches (``OnnxDenoiser``).
        onnx_dir: folder of the exports (default: the build folder).

    Raises:
        MotionLCMError: unknown backend or thread count, or with "onnx" a missing or stale export.
    """
    if not wants_onnx(backend, device, threads, "denoiser"):
        return module
    try:
        onnx_path = current_denoiser_export(model_dir, onnx_dir)
    except MotionLCMError:
        if backend == "onnx":
            raise
        return module
    return OnnxDenoiser(onnx_path, module.config, device, threads)
