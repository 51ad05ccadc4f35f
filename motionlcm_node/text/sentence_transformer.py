"""Sentence encoder on PyTorch: a local sentence-transformers model (default: all-MiniLM-L6-v2).

The reference backend: the ONNX Runtime export (``onnx_encoder.py``) is checked against it, and any
local sentence-transformers folder (sentence-t5-large, MotionLCM's choice, or a CLIP text model
converted to sentence-transformers) can be named by path. The hub is switched off before the
library loads, so nothing is ever downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.text.encoder import CachingSentenceEncoder, default_model_path


class TextEncoder(CachingSentenceEncoder):
    """Encode sentences to normalised vectors with sentence-transformers (PyTorch).

    Args:
        model_path: a local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2).
        device: torch device for the model.
        batch_size: sentences per forward pass.

    Raises:
        MotionLCMError: ``model_path`` is not a sentence-transformers folder.
    """

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        if not (self.model_path / "modules.json").is_file() and not (self.model_path / "config.json").is_file():
            raise MotionLCMError(f"{self.model_path} is not a sentence-transformers model folder")
        self.model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
        self.model.eval()
        self.device = device
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension())

    def _compute(self, sentences: list[str]) -> np.ndarray:
        """[len(sentences), dim] float32 unit vectors."""
        import torch

        with torch.no_grad():
            if len(sentences) <= self.batch_size:
                # One forward pass through the sentence-transformers modules (tokenize, transformer,
                # pooling): ~1.5 ms less per call than ``encode``'s batching wrapper at batch 1.
                features = self.model.preprocess(sentences)
                device = next(self.model.parameters()).device
                output = self.model({k: v.to(device) if torch.is_tensor(v) else v for k, v in features.items()})
                vectors = torch.nn.functional.normalize(output["sentence_embedding"], dim=-1)
            else:
                vectors = self.model.encode(
                    sentences, batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=True,
                    show_progress_bar=len(sentences) > 10 * self.batch_size,
                )  # fmt: skip
        return vectors.float().cpu().numpy()
