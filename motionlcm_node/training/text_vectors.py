"""Sentence vectors of every caption of a prepared dataset, computed once and cached beside it."""

from __future__ import annotations

import logging
from pathlib import Path

from motionlcm_node.data.dataset import parse_text_file
from motionlcm_node.text_encoder import (
    UNCONDITIONAL_TEXT,
    CachedTextVectors,
    TextEncoder,
    model_id_of,
    read_vector_file,
)
from motionlcm_node.text_models import resolve_text_model

LOGGER = logging.getLogger(__name__)


def dataset_text_vectors(data_dir: str | Path, text_model: str | None = None) -> tuple[CachedTextVectors, str]:
    """Vectors of all captions in ``data_dir/texts`` plus the empty sentence, and the model id.

    The table is cached as ``data_dir/text_vectors/<model id>.safetensors``; only captions missing
    from the cache are encoded (so adding clips later costs only their captions), and the text model
    is not even loaded when the cache holds them all (its folder then needs only ``config.json``).
    """
    root = Path(data_dir)
    sentences = {UNCONDITIONAL_TEXT}
    for path in sorted((root / "texts").glob("*.txt")):
        sentences.update(caption for caption, _, _ in parse_text_file(path))
    folder = resolve_text_model(text_model)
    model_id = model_id_of(folder)
    cache = root / "text_vectors" / f"{model_id}.safetensors"
    cached = read_vector_file(cache, model_id) if cache.is_file() else {}
    if sentences <= cached.keys():
        LOGGER.info("sentence vectors of %d captions (%s; all cached)", len(sentences), model_id)
        return CachedTextVectors(cached), model_id
    encoder = TextEncoder(folder)
    encoder.remember(cached)  # read once above: only the missing captions are encoded
    LOGGER.info("sentence vectors of %d captions (%s; cached ones are reused)", len(sentences), encoder.model_id)
    vectors = encoder.encode(sorted(sentences))
    encoder.save_cache(cache)
    return CachedTextVectors(dict(zip(sorted(sentences), vectors, strict=True))), encoder.model_id
