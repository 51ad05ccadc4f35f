"""Sentence encoder on ONNX Runtime: the torch ``TextEncoder``'s vectors at a fraction of its latency.

At batch 1 a 10-word sentence is ~14 tokens, and PyTorch eager spends most of the MiniLM forward
pass in per-operator overhead; ONNX Runtime runs the same graph (transformer + mean pooling over the
attention mask + L2 normalisation, exported by ``motionlcm export text-encoder``) in about half the
time on one CPU thread. The tokenizer is the Hugging Face fast tokenizer of the same local model
folder, and ``model_id`` equals the torch encoder's, so embedding caches, trained models and their
text-model checks are interchangeable between the two backends.

The export is built on the user's machine from the installed MiniLM package (too large to ship) into
``resources.onnx_cache_dir()`` (``build/onnx`` in a checkout) as ``<model_id>.onnx``, with a JSON
file beside it naming the source ``model_id``; an export of another model (or of an older config
of it) is stale and is not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.resources import onnx_cache_dir
from motionlcm_node.runtime.onnx_session import onnx_providers, read_export_json, session_options, wants_onnx
from motionlcm_node.text.encoder import CachingSentenceEncoder, default_model_path, model_id_of, text_model_folder

if TYPE_CHECKING:
    from motionlcm_node.text.sentence_transformer import TextEncoder

EXPORT_FORMAT = 2  # 2: BERT-family exports carry ORT's fused attention (export/text_onnx.py)
ONNX_INPUTS = ("input_ids", "attention_mask")
ONNX_OUTPUT = "unit_vector"
EXPORT_COMMAND = "motionlcm export text-encoder"
OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")


def default_onnx_path(model_id: str) -> Path:
    """Default export file of the text model ``model_id`` (see ``TextEncoder.model_id``)."""
    return onnx_cache_dir() / f"{model_id}.onnx"


def metadata_path(onnx_path: Path) -> Path:
    """The JSON file beside an export: source model id, embedding size, sequence limit, format."""
    return onnx_path.with_suffix(".json")


def read_export_metadata(onnx_path: Path, model_id: str) -> dict[str, Any]:
    """Metadata of a current export of ``model_id``.

    Args:
        onnx_path: the exported ``.onnx`` file.
        model_id: the id the export must have been made from.

    Returns:
        The JSON beside the export (``model_id``, ``dim``, ``max_seq_length``, ``format`` ...).

    Raises:
        MotionLCMError: the file or its JSON is missing or unreadable, or the export is stale
            (another model id or export format).
    """
    meta = read_export_json(onnx_path, metadata_path(onnx_path), "text encoder", EXPORT_COMMAND)
    if meta.get("model_id") != model_id or meta.get("format") != EXPORT_FORMAT:
        found = meta.get("model_id")
        raise MotionLCMError(
            f"stale ONNX text encoder {onnx_path}: exported from {found}, not {model_id} "
            f"(export format {EXPORT_FORMAT}); run `{EXPORT_COMMAND}` to replace it"
        )
    return meta


def export_is_current(onnx_path: Path, model_id: str) -> bool:
    """Whether ``onnx_path`` is an up-to-date export of ``model_id``."""
    try:
        read_export_metadata(onnx_path, model_id)
    except MotionLCMError:
        return False
    return True


class OnnxTextEncoder(CachingSentenceEncoder):
    """Encode sentences to normalised vectors with an exported model on ONNX Runtime.

    Same interface and cache semantics as ``TextEncoder``.

    Args:
        onnx_path: the export (default: ``default_onnx_path(model_id)``).
        model_path: the local sentence-transformers folder it was exported from (tokenizer, model id;
            default: bundled all-MiniLM-L6-v2).
        device: "cpu", or "cuda" (needs an onnxruntime build with the CUDA provider).
        threads: ONNX Runtime intra-op threads (1 suits batch-1 latency on a shared 2-core CPU).
        batch_size: sentences per forward pass.
        optimization: ONNX Runtime graph optimisation level: "disable", "basic", "extended" or "all".

    Raises:
        MotionLCMError: missing or stale export, bad device or optimisation level.
    """

    def __init__(
        self,
        onnx_path: str | Path | None = None,
        model_path: str | Path | None = None,
        device: str = "cpu",
        threads: int = 1,
        batch_size: int = 64,
        optimization: str = "all",
    ) -> None:
        super().__init__()
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.onnx_path = Path(onnx_path) if onnx_path is not None else default_onnx_path(self.model_id)
        meta = read_export_metadata(self.onnx_path, self.model_id)
        if optimization not in OPTIMIZATION_LEVELS:
            raise MotionLCMError(f"optimization must be one of {OPTIMIZATION_LEVELS}, got {optimization!r}")
        self.dim = int(meta["dim"])
        self.max_seq_length = int(meta["max_seq_length"])
        self.batch_size = batch_size
        self.device = device
        # The model folder's fast tokenizer, read by the `tokenizers` library itself: the same ids as
        # transformers' AutoTokenizer without importing transformers (which takes seconds and may import torch).
        self.tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        options = session_options(threads)
        options.graph_optimization_level = {
            "disable": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[optimization]
        self.session = onnxruntime.InferenceSession(str(self.onnx_path), options, providers=onnx_providers(device))

    def tokenize(self, sentences: list[str]) -> dict[str, np.ndarray]:
        """Token ids and attention mask as the sentence-transformers model would make them.

        Args:
            sentences: B sentences.

        Returns:
            ``input_ids`` and ``attention_mask``, each [B, T] int64, right-padded to the longest
            sentence and truncated to ``max_seq_length`` tokens.
        """
        encodings = self.tokenizer.encode_batch(sentences)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": mask}

    def _compute(self, sentences: list[str]) -> np.ndarray:
        """[len(sentences), dim] float32 unit vectors."""
        chunks = [
            self.session.run([ONNX_OUTPUT], self.tokenize(sentences[start : start + self.batch_size]))[0]
            for start in range(0, len(sentences), self.batch_size)
        ]
        return np.concatenate(chunks)


def load_text_encoder(
    backend: str = "auto",
    model_path: str | Path | None = None,
    onnx_path: str | Path | None = None,
    device: str = "cpu",
    threads: int = 1,
    model_id: str | None = None,
) -> TextEncoder | OnnxTextEncoder:
    """The fastest available sentence encoder of a text model.

    Both backends return the same vectors (cosine >= 0.9999) and the same ``model_id``, so they can
    replace each other anywhere a ``TextEncoder`` is used.

    Args:
        backend: "onnx" (the ONNX Runtime export; an error when it is missing or stale), "torch"
            (sentence-transformers on PyTorch) or "auto" (ONNX when a current export exists and runs
            on ``device``, else torch).
        model_path: local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2).
        onnx_path: the export (default: ``default_onnx_path(model_id)``).
        device: "cpu" or "cuda".
        threads: ONNX Runtime intra-op threads (the torch backend uses torch's own setting).
        model_id: instead of ``model_path``, the ``text_model`` id a model was trained with (the
            default MiniLM; ``encoder.text_model_folder``).

    Returns:
        An ``OnnxTextEncoder`` or a ``TextEncoder``.

    Raises:
        MotionLCMError: unknown backend or fewer than one thread (for every backend, as the VAE
            decoder and denoiser loaders do); with "onnx", a missing or stale export (the message says
            to run ``motionlcm export text-encoder``) or a device ONNX Runtime cannot use.
    """
    if model_id is not None:
        if model_path is not None:
            raise MotionLCMError("give the text model by model_path or by model_id, not both")
        model_path = text_model_folder(model_id)
    from motionlcm_node.text.sentence_transformer import TextEncoder

    if not wants_onnx(backend, device, threads, "text-encoder"):
        return TextEncoder(model_path, device=device)
    if backend == "auto":
        folder = Path(model_path) if model_path is not None else default_model_path()
        path = Path(onnx_path) if onnx_path is not None else default_onnx_path(model_id_of(folder))
        try:
            current = export_is_current(path, model_id_of(folder))
        except MotionLCMError:
            current = False
        if not current:
            return TextEncoder(model_path, device=device)
    return OnnxTextEncoder(onnx_path, model_path, device=device, threads=threads)
