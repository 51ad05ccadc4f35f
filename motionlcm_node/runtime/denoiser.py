"""The latent denoiser (teacher or consistency student) on ONNX Runtime or PyTorch, with numpy in and out.

Why two backends: the denoisers are small (about 80 MFLOP a forward at batch 1), so on the CPU
PyTorch eager spends most of a forward on per-operator overhead; ONNX Runtime runs the shipped
student about twice as fast at batch 1 on the 2-core development machine (``python -m
benchmarks.latency`` times both side by side), and it needs no torch at all.

The export (``motionlcm export denoiser --model DIR``) sits beside the weights as ``denoiser.onnx``
with ``denoiser.json`` naming the SHA-256 of the weights and network sizes it came from; an export of
other weights is stale and is refused (the ``auto`` backend then falls back to PyTorch).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import read_denoiser_spec
from motionlcm_node.networks.config import DenoiserConfig
from motionlcm_node.runtime.onnx_session import onnx_providers, read_export_json, session_options, wants_onnx

if TYPE_CHECKING:
    from motionlcm_node.networks.denoiser import LatentDenoiser

DENOISER_FILE = "denoiser.onnx"
DENOISER_METADATA = "denoiser.json"
DENOISER_FORMAT = 2  # 2: shipped beside the weights; digest over the weights and the network sizes
DENOISER_INPUTS = ("latent", "timesteps", "text", "guidance")
DENOISER_OUTPUT = "noise"
EXPORT_COMMAND = "motionlcm export denoiser"


class DenoiserBackend(Protocol):
    """A denoiser called as ``denoiser(latent, timesteps, text[, guidance])`` on numpy arrays."""

    backend: str  # "onnx" or "torch"
    config: DenoiserConfig

    def __call__(  # noqa: D102
        self, latent: np.ndarray, timesteps: np.ndarray, text: np.ndarray, guidance: np.ndarray | None = None
    ) -> np.ndarray: ...


def denoiser_source_digest(model_dir: Path) -> str:
    """SHA-256 over a teacher or student folder's weights and network sizes (what its export must match)."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise MotionLCMError(f"{model_dir} is not a denoiser folder: model.safetensors is missing")
    digest = hashlib.sha256(weights.read_bytes())
    digest.update(json.dumps(read_denoiser_spec(model_dir).denoiser.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def current_denoiser_export(model_dir: Path) -> Path:
    """The up-to-date export of the denoiser in ``model_dir``.

    Raises:
        MotionLCMError: export or JSON missing or unreadable, unknown format, or other weights.
    """
    onnx_path = model_dir / DENOISER_FILE
    command = f"{EXPORT_COMMAND} --model {model_dir}"
    meta = read_export_json(onnx_path, model_dir / DENOISER_METADATA, "denoiser", command)
    if meta.get("format") != DENOISER_FORMAT:
        raise MotionLCMError(f"{onnx_path}: unknown denoiser export format; run `{command}`")
    if meta.get("source_sha256") != denoiser_source_digest(model_dir):
        raise MotionLCMError(f"{onnx_path} was exported from other weights than {model_dir}; run `{command}`")
    return onnx_path


def denoiser_export_is_current(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds an up-to-date export of its denoiser."""
    try:
        current_denoiser_export(model_dir)
    except MotionLCMError:
        return False
    return True


def _check_inputs(config: DenoiserConfig, latent: np.ndarray, guidance: np.ndarray | None) -> None:
    if latent.ndim != 3 or tuple(latent.shape[1:]) != (config.latent_tokens, config.latent_dim):
        raise MotionLCMError(
            f"latent must be [B, {config.latent_tokens}, {config.latent_dim}], got {list(latent.shape)}"
        )
    if (guidance is None) == config.guidance_embedding:
        needs = "needs a" if config.guidance_embedding else "takes no"
        raise MotionLCMError(f"this denoiser {needs} guidance scale")


class OnnxDenoiser:
    """A ``LatentDenoiser`` export on ONNX Runtime.

    Batches of up to ``SINGLE_THREAD_BATCH`` run in a second, single-threaded session: on the 2-core
    development machine one thread is faster there (batch 1: 2.5 ms against 3.4 ms with 2 threads;
    batch 2, the teacher's guided step: even), while large batches gain from more (batch 256: 299 ms
    with 2 threads, 473 ms with 1).

    Args:
        onnx_path: the export.
        config: the sizes of the exported network.
        device: "cpu", or "cuda" (an onnxruntime build with the CUDA provider).
        threads: intra-op threads for batches above ``SINGLE_THREAD_BATCH``.

    Raises:
        MotionLCMError: a device ONNX Runtime cannot use, or a bad thread count.
    """

    backend = "onnx"
    SINGLE_THREAD_BATCH = 2

    def __init__(self, onnx_path: Path, config: DenoiserConfig, device: str = "cpu", threads: int = 2) -> None:
        import onnxruntime

        self.config, self.device, self.onnx_path = config, device, onnx_path
        providers = onnx_providers(device)
        self.session = onnxruntime.InferenceSession(str(onnx_path), session_options(threads), providers=providers)
        self.small_batch_session = self.session
        if threads > 1 and device == "cpu":
            self.small_batch_session = onnxruntime.InferenceSession(
                str(onnx_path), session_options(1), providers=providers
            )

    def __call__(
        self, latent: np.ndarray, timesteps: np.ndarray, text: np.ndarray, guidance: np.ndarray | None = None
    ) -> np.ndarray:
        """[B, L, D] float32 predicted noise for [B, L, D] latents, [B] timesteps, [B, text_dim] text.

        ``guidance`` ([B] scales) is required by a guidance-embedding student and refused otherwise.
        """
        _check_inputs(self.config, latent, guidance)
        batch = latent.shape[0]
        inputs: dict[str, Any] = {
            "latent": np.ascontiguousarray(latent, dtype=np.float32),
            "timesteps": np.ascontiguousarray(np.broadcast_to(timesteps, (batch,)), dtype=np.int64),
            "text": np.ascontiguousarray(text, dtype=np.float32),
        }
        if guidance is not None:
            inputs["guidance"] = np.ascontiguousarray(np.broadcast_to(guidance, (batch,)), dtype=np.float32)
        session = self.small_batch_session if batch <= self.SINGLE_THREAD_BATCH else self.session
        return session.run([DENOISER_OUTPUT], inputs)[0]


class TorchDenoiser:
    """A PyTorch ``LatentDenoiser`` behind the same numpy interface as ``OnnxDenoiser``.

    Args:
        module: the network (moved to ``device`` and put in eval mode).
        device: torch device name.
    """

    backend = "torch"

    def __init__(self, module: LatentDenoiser, device: str = "cpu") -> None:
        self.module, self.device = module.to(device).eval(), device
        self.config = module.config

    def __call__(
        self, latent: np.ndarray, timesteps: np.ndarray, text: np.ndarray, guidance: np.ndarray | None = None
    ) -> np.ndarray:
        """[B, L, D] float32 predicted noise (see ``OnnxDenoiser.__call__``)."""
        import torch

        _check_inputs(self.config, latent, guidance)
        batch = latent.shape[0]

        def tensor(values: np.ndarray, dtype: Any) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(values), dtype=dtype, device=self.device)

        with torch.inference_mode():
            noise = self.module(
                tensor(latent, torch.float32),
                tensor(np.broadcast_to(timesteps, (batch,)).copy(), torch.long),
                tensor(text, torch.float32),
                None if guidance is None else tensor(np.broadcast_to(guidance, (batch,)).copy(), torch.float32),
            )
        return noise.float().cpu().numpy()


def load_denoiser_backend(
    model_dir: Path, backend: str = "auto", device: str = "cpu", threads: int = 2
) -> OnnxDenoiser | TorchDenoiser:
    """The denoiser of a teacher or student folder on the requested backend.

    Args:
        model_dir: the teacher or student folder.
        backend: "onnx" (the export beside the weights; an error when it is missing or stale),
            "torch", or "auto" (ONNX when a current export exists and ONNX Runtime runs on ``device``).
        device: "cpu" or "cuda".
        threads: ONNX Runtime intra-op threads for large batches (``OnnxDenoiser``).

    Raises:
        MotionLCMError: unknown backend or thread count, a folder that holds no denoiser, or with
            "onnx" a missing or stale export.
    """
    spec = read_denoiser_spec(model_dir)
    if wants_onnx(backend, device, threads, "denoiser"):
        try:
            return OnnxDenoiser(current_denoiser_export(model_dir), spec.denoiser, device, threads)
        except MotionLCMError:
            if backend == "onnx":
                raise
    from motionlcm_node.loading.models import load_denoiser

    return TorchDenoiser(load_denoiser(model_dir), device)
