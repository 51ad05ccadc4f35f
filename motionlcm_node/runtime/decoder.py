"""Latent -> raw HumanML3D features: the VAE decoder on PyTorch or on ONNX Runtime.

Both backends take unscaled latents [B, L, D] (numpy) and frame counts and return *un-normalised*
float32 features [B, T, 263] (numpy, T = the longest count), zero past each count, so a pipeline can
swap them freely; the ONNX Runtime backend imports no torch.

The ONNX export (``motionlcm export vae-decoder``) sits beside the VAE as ``decoder.onnx`` with
``decoder.json`` naming the SHA-256 of the weights and feature statistics it came from; an export of
other weights is stale and is refused. Why a second backend: at batch 1 the 196-frame decode is a
few hundred small operators, and PyTorch eager adds per-operator overhead that ONNX Runtime does
not; ``benchmarks/latency.py`` times both side by side (``vae_decoder_batch1`` in its report).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.runtime.onnx_session import (
    files_digest,
    fixed_shape_options,
    onnx_providers,
    read_export_json,
    session_options,
    wants_onnx,
)

if TYPE_CHECKING:
    from motionlcm_node.networks.vae import MotionVAE
    from motionlcm_node.postprocess.normalizer import FeatureNormalizer

DECODER_FILE = "decoder.onnx"
DECODER_METADATA = "decoder.json"
DECODER_FORMAT = 1
DECODER_INPUTS = ("latent", "valid")
DECODER_OUTPUT = "features"
EXPORT_COMMAND = "motionlcm export vae-decoder"
SOURCE_FILES = ("model.safetensors", "normalizer.safetensors")


class FeatureDecoder(Protocol):
    """Anything that turns latents into raw features (both backends below)."""

    backend: str  # "torch" or "onnx"

    def decode_features(self, latent: np.ndarray, lengths: Sequence[int] | np.ndarray) -> np.ndarray: ...  # noqa: D102


def source_digest(vae_dir: Path) -> str:
    """SHA-256 over the VAE's weights and feature statistics (what an export must match)."""
    return files_digest(vae_dir, SOURCE_FILES, "VAE")


def read_decoder_metadata(vae_dir: Path) -> dict[str, Any]:
    """Metadata of a current decoder export of the VAE in ``vae_dir``.

    Raises:
        MotionLCMError: export or JSON missing or unreadable, or exported from other weights.
    """
    command = f"{EXPORT_COMMAND} --vae {vae_dir}"
    meta_path = vae_dir / DECODER_METADATA
    meta = read_export_json(vae_dir / DECODER_FILE, meta_path, "VAE decoder", command)
    if meta.get("format") != DECODER_FORMAT:
        raise MotionLCMError(f"{meta_path}: unknown export format; run `{command}`")
    if meta.get("source_sha256") != source_digest(vae_dir):
        raise MotionLCMError(f"stale ONNX VAE decoder in {vae_dir}: exported from other weights; run `{command}`")
    return meta


def decoder_export_is_current(vae_dir: Path) -> bool:
    """Whether ``vae_dir`` holds an up-to-date ONNX export of its VAE decoder."""
    try:
        read_decoder_metadata(vae_dir)
    except MotionLCMError:
        return False
    return True


def _frame_counts(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    counts = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if counts.size == 0 or int(counts.min()) < 1:
        raise MotionLCMError(f"frame counts must be positive, got {counts.tolist()}")
    return counts


class TorchFeatureDecoder:
    """The VAE decoder + de-normalisation on PyTorch.

    Args:
        vae: the motion VAE.
        normalizer: its feature statistics.
        device: torch device the VAE runs on.
    """

    backend = "torch"

    def __init__(self, vae: MotionVAE, normalizer: FeatureNormalizer, device: str = "cpu") -> None:
        self.vae, self.normalizer, self.device = vae.to(device).eval(), normalizer.to(device), device

    def decode_features(self, latent: np.ndarray, lengths: Sequence[int] | np.ndarray) -> np.ndarray:
        """[B, L, D] unscaled latents + [B] frame counts -> [B, T, 263] float32 raw features."""
        import torch

        counts = torch.as_tensor(_frame_counts(lengths), device=self.device)
        with torch.inference_mode():
            values = torch.as_tensor(np.ascontiguousarray(latent), dtype=torch.float32, device=self.device)
            features = self.normalizer.denormalize(self.vae.decode(values, counts))
            valid = torch.arange(features.shape[1], device=self.device)[None, :] < counts[:, None]
            return (features * valid[..., None]).float().cpu().numpy()


class OnnxFeatureDecoder:
    """The exported VAE decoder (de-normalisation included) on ONNX Runtime.

    The export has dynamic batch and frame axes, so every run re-derives positions, masks and
    reshape targets from the input shapes (about a hundred small shape operators). A request shape
    (batch, padded frames) seen ``specialise_after`` times gets its own session with those axes
    fixed, in which ONNX Runtime folds all of that into constants: 0.6-1.1 ms (7-14%) off a batch-1
    196-frame decode on the 2-core development machine (``benchmarks/latency.py`` times both, in
    its ``vae_decoder_batch1`` report). Creating one costs ~0.1 s, once, so shapes used only once
    never pay it; at most ``max_specialised`` are kept, the least recently used leaves first.

    Args:
        vae_dir: the VAE folder holding ``decoder.onnx`` and ``decoder.json``.
        device: "cpu", or "cuda" (an onnxruntime build with the CUDA provider).
        threads: intra-op threads.
        specialise_after: requests of one shape before it gets a fixed-shape session (0: never).
        max_specialised: fixed-shape sessions kept.

    Raises:
        MotionLCMError: missing or stale export, a device ONNX Runtime cannot use, or negative
            specialisation settings.
    """

    backend = "onnx"

    def __init__(
        self,
        vae_dir: Path,
        device: str = "cpu",
        threads: int = 2,
        specialise_after: int = 2,
        max_specialised: int = 4,
    ) -> None:
        import onnxruntime

        if specialise_after < 0 or max_specialised < 0:
            raise MotionLCMError(f"specialisation settings must be >= 0, got {specialise_after}, {max_specialised}")
        meta = read_decoder_metadata(vae_dir)
        self.temporal_patch = int(meta["temporal_patch"])
        self.latent_shape = (int(meta["latent_tokens"]), int(meta["latent_dim"]))
        self.threads, self.providers = threads, onnx_providers(device)
        self._graph = (vae_dir / DECODER_FILE).read_bytes()  # sessions made later need no file on disk
        self.session = onnxruntime.InferenceSession(self._graph, session_options(threads), providers=self.providers)
        self.specialise_after, self.max_specialised = specialise_after, max_specialised
        self._specialised: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._requests: Counter[tuple[int, int]] = Counter()
        self._cache_lock = threading.Lock()  # ORT runs are thread-safe; the shape cache needs this lock

    @property
    def specialised_shapes(self) -> list[tuple[int, int]]:
        """(batch, padded frames) shapes with a fixed-shape session, least recently used first."""
        with self._cache_lock:
            return list(self._specialised)

    def _fixed_shape_session(self, batch: int, frames: int) -> Any:
        import onnxruntime

        shapes = {"latent": (batch, *self.latent_shape), "valid": (batch, frames)}
        options = fixed_shape_options(self.threads, self.session.get_inputs(), shapes)
        return onnxruntime.InferenceSession(self._graph, options, providers=self.providers)

    def _session_for(self, batch: int, frames: int) -> Any:
        key = (batch, frames)
        with self._cache_lock:
            if key in self._specialised:
                self._specialised.move_to_end(key)
                return self._specialised[key]
            if not self.specialise_after or not self.max_specialised:
                return self.session
            if len(self._requests) > 1024:  # forget rare shapes rather than grow without bound
                self._requests.clear()
            self._requests[key] += 1
            if self._requests[key] < self.specialise_after:
                return self.session
            self._specialised[key] = self._fixed_shape_session(batch, frames)
            while len(self._specialised) > self.max_specialised:
                self._specialised.popitem(last=False)
            return self._specialised[key]

    def decode_features(self, latent: np.ndarray, lengths: Sequence[int] | np.ndarray) -> np.ndarray:
        """[B, L, D] unscaled latents + [B] frame counts -> [B, T, 263] float32 raw features.

        The frame axis is padded to a multiple of the VAE's temporal patch for the graph and cropped
        back; padded frames never influence valid ones (the VAE masks them).
        """
        counts = _frame_counts(lengths)
        if latent.ndim != 3 or tuple(latent.shape[1:]) != self.latent_shape or latent.shape[0] != counts.size:
            raise MotionLCMError(
                f"latent must be [{counts.size}, {self.latent_shape[0]}, {self.latent_shape[1]}], "
                f"got {list(latent.shape)}"
            )
        frames = int(counts.max())
        padded = -(-frames // self.temporal_patch) * self.temporal_patch
        valid = np.arange(padded)[None, :] < counts[:, None]
        inputs = {"latent": np.ascontiguousarray(latent, dtype=np.float32), "valid": valid}
        session = self._session_for(counts.size, padded)
        return np.ascontiguousarray(session.run([DECODER_OUTPUT], inputs)[0][:, :frames])


def load_onnx_decoder(
    vae_dir: Path, backend: str = "auto", device: str = "cpu", threads: int = 2
) -> OnnxFeatureDecoder | None:
    """The ONNX Runtime decoder that ``backend`` asks for, or None where it asks for torch.

    Args:
        vae_dir: the VAE folder.
        backend: "onnx" (the export; an error when it is missing or stale), "torch" (None), or
            "auto" (the export when it is current and ONNX Runtime runs on ``device``, else None).
        device: "cpu" or "cuda".
        threads: ONNX Runtime intra-op threads.

    Raises:
        MotionLCMError: unknown backend or thread count, or with "onnx" a missing or stale export.
    """
    if not wants_onnx(backend, device, threads, "VAE decoder"):
        return None
    try:
        return OnnxFeatureDecoder(vae_dir, device, threads)
    except MotionLCMError:
        if backend == "onnx":
            raise
        return None


def load_feature_decoder(
    vae_dir: Path, backend: str = "auto", device: str = "cpu", threads: int = 2
) -> TorchFeatureDecoder | OnnxFeatureDecoder:
    """The VAE decoder of ``vae_dir`` on the requested backend.

    Args:
        vae_dir: the VAE folder (weights, config, normaliser, and optionally the ONNX export).
        backend: "onnx" (an error when the export is missing or stale), "torch", or "auto" (ONNX when
            a current export exists and runs on ``device``, else torch).
        device: "cpu" or "cuda" (torch backend: any torch device string).
        threads: ONNX Runtime intra-op threads (torch uses its own setting).

    Raises:
        MotionLCMError: unknown backend, or with "onnx" a missing or stale export.
    """
    decoder = load_onnx_decoder(vae_dir, backend, device, threads)
    if decoder is not None:
        return decoder
    from motionlcm_node.loading.models import load_vae

    vae, normalizer = load_vae(vae_dir)
    return TorchFeatureDecoder(vae, normalizer, device)
