"""Sentence vectors of every caption of a prepared dataset, computed once and cached beside it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from motionlcm_node.data.dataset import parse_text_file
from motionlcm_node.text.encoder import (
    UNCONDITIONAL_TEXT,
    CachedTextVectors,
    model_id_of,
    read_vector_file,
    resolve_text_model,
)
from motionlcm_node.text.sentence_transformer import TextEncoder

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
    vectors = cached_sentence_vectors(sentences, folder, root / "text_vectors" / f"{model_id}.safetensors")
    return CachedTextVectors(vectors), model_id


def cached_sentence_vectors(
    sentences: set[str], folder: Path, cache: Path, batch_size: int = 64
) -> dict[str, np.ndarray]:
    """Sentence -> vector of the text model in ``folder``, through the vector file ``cache``.

    The cache is read once; only sentences missing from it are encoded (the model is not even loaded
    when it holds them all) and the file is rewritten only then, with every vector it now has.
    """
    model_id = model_id_of(folder)
    cached = read_vector_file(cache, model_id) if cache.is_file() else {}
    if sentences <= cached.keys():
        LOGGER.info("sentence vectors of %d sentences (%s; all cached)", len(sentences), model_id)
        return cached
    encoder = TextEncoder(folder, batch_size=batch_size)
    encoder.remember(cached)  # read once above: only the missing sentences are encoded
    LOGGER.info("sentence vectors of %d sentences (%s; cached ones are reused)", len(sentences), model_id)
    ordered = sorted(sentences)
    vectors = encoder.encode(ordered)
    encoder.save_cache(cache)
    return {**cached, **dict(zip(ordered, vectors, strict=True))}
