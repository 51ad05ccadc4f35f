"""Names of the training caches (latent bank, denoised pairs, teacher trajectories) by their inputs.

Each cache is expensive to build (minutes of encoding or teacher sampling) and cheap to read, and it
is only valid for the exact weights and settings it was made from. Its file name therefore carries a
digest of those inputs: the bytes of each weight file, then the settings as sorted JSON. A change
to any input gives a new name, so a stale cache is never read, and runs that share their inputs
(the teacher and a student of one VAE, a resumed run) share the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from motionlcm_node.errors import MotionLCMError

DIGEST_CHARS = 12


class SavedCache(Protocol):
    """A cache that writes itself to one file (its class reads it back)."""

    def save(self, path: Path) -> None: ...  # noqa: D102


Cache = TypeVar("Cache", bound=SavedCache)


def input_digest(weight_files: Sequence[Path], settings: object | None = None, what: str = "cache") -> str:
    """First 12 hex digits of SHA-256 over the weight files' bytes, then ``settings`` as sorted JSON.

    Args:
        weight_files: files whose exact contents the cache depends on, in a fixed order.
        settings: JSON-serialisable settings that shape the cache (None: weights only).
        what: the cache's name, for the error message.

    Raises:
        MotionLCMError: a weight file is missing.
    """
    digest = hashlib.sha256()
    for path in weight_files:
        if not path.is_file():
            raise MotionLCMError(f"{what}: no weights at {path}")
        digest.update(path.read_bytes())
    if settings is not None:
        digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:DIGEST_CHARS]


def cache_file(folder: Path, name: str, model_dirs: Sequence[Path], settings: object) -> Path:
    """``folder/<name>_<digest>.safetensors``, the digest over the models' ``model.safetensors`` and ``settings``.

    Raises:
        MotionLCMError: a model folder has no ``model.safetensors``.
    """
    weights = [directory / "model.safetensors" for directory in model_dirs]
    return folder / f"{name}_{input_digest(weights, settings, name.replace('_', ' '))}.safetensors"


def load_or_build(path: Path, load: Callable[[Path], Cache], build: Callable[[], Cache]) -> Cache:
    """``load(path)`` when the cache file exists, else ``build()``, saved to ``path`` before returning."""
    if path.is_file():
        return load(path)
    cache = build()
    cache.save(path)
    return cache
