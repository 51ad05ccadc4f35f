"""Export the sentence encoder to ONNX and check that the export returns the torch encoder's vectors.

The exported graph is the whole sentence-transformers pipeline after tokenisation: transformer,
pooling (mean over the attention mask for all-MiniLM-L6-v2), any further modules the model folder
lists, and L2 normalisation; i.e. exactly the vectors ``TextEncoder.encode`` returns. Inputs are
``input_ids`` and ``attention_mask`` ([batch, sequence] int64, both axes dynamic); the output is
``unit_vector`` ([batch, dim] float32). A JSON file beside the ``.onnx`` names the source
``model_id`` so that ``OnnxTextEncoder`` refuses a stale export.

BERT-family models (all-MiniLM-L6-v2 among them) are exported differently, for speed: with eager
attention through the TorchScript exporter, then through ONNX Runtime's transformer optimiser, which
fuses each layer's attention into one ``Attention`` operator (plus embedding + layer norm, skip + layer
norm, bias + GELU). ORT does not recognise the attention of a dynamo export (with SDPA or eager
attention alike: only GELU and layer norms fuse, no measurable gain). On the 2-core development CPU the
fused MiniLM encodes a 13-token sentence 1.2-1.35x faster than the dynamo export, with cosine 1.000000
to it (4.8 against 5.8 ms; docs/experiments.md). Other models keep the dynamo export.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.text.encoder import UNCONDITIONAL_TEXT
from motionlcm_node.text.onnx_encoder import (
    EXPORT_FORMAT,
    ONNX_INPUTS,
    ONNX_OUTPUT,
    OnnxTextEncoder,
    default_onnx_path,
    metadata_path,
)
from motionlcm_node.text.sentence_transformer import TextEncoder

LOGGER = logging.getLogger(__name__)
OPSET = 18
MIN_COSINE = 0.9999
#: ``config.model_type`` of the transformers whose export ORT's BERT optimiser fuses (module docstring).
FUSED_MODEL_TYPES = ("bert",)
#: Opset of the fused export: ORT fuses skip + layer norm in opset-17 graphs, not in opset-18 ones
#: (MiniLM, 13 tokens: 5.8 against 6.0 ms, same run).
FUSED_OPSET = 17
VERIFY_SENTENCES = (
    UNCONDITIONAL_TEXT,
    "run!",
    "a person walks forward.",
    "A man jumps up and down twice, then waves with his LEFT hand.",
    "someone kicks with the right foot while turning around slowly to the left",
    "The figure crouches, crawls on all fours, stands up again and bows politely to the audience.",
    "a person " + "walks in a circle and " * 70 + "stops",  # longer than 256 tokens: truncated
)


@dataclass(frozen=True)
class TextExportReport:
    """Outcome of ``export_text_encoder``.

    Attributes:
        onnx_path: the exported model.
        model_id: id of the source model (``TextEncoder.model_id``).
        min_cosine: smallest cosine similarity to the torch vectors over the check sentences.
        seconds: wall time of export and check, in seconds.
    """

    onnx_path: Path
    model_id: str
    min_cosine: float
    seconds: float


class _SentenceVectors(torch.nn.Module):
    """The sentence-transformers modules + L2 normalisation, with tensor inputs for the exporter."""

    def __init__(self, model: torch.nn.Module, token_types: bool) -> None:
        super().__init__()
        self.model = model
        self.token_types = token_types

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, T] token ids and mask -> [B, dim] unit vectors."""
        features = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.token_types:
            features["token_type_ids"] = torch.zeros_like(input_ids)
        return torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=-1)


def verify_export(
    onnx_path: Path,
    encoder: TextEncoder,
    sentences: Sequence[str] = VERIFY_SENTENCES,
    min_cosine: float = MIN_COSINE,
) -> float:
    """Check an export against the torch encoder: same token ids, same vectors.

    Every sentence is encoded alone (batch 1, no padding) and all together (one padded batch).

    Args:
        onnx_path: the export (with its JSON beside it).
        encoder: the torch encoder it was exported from.
        sentences: check sentences; include "" and sentences of different lengths.
        min_cosine: the smallest acceptable cosine similarity.

    Returns:
        The smallest cosine similarity found.

    Raises:
        MotionLCMError: different token ids, or a cosine similarity below ``min_cosine``.
    """
    onnx = OnnxTextEncoder(onnx_path, encoder.model_path)
    batch = list(sentences)
    reference_tokens = encoder.model.preprocess(batch)
    tokens = onnx.tokenize(batch)
    for name in ONNX_INPUTS:
        if not torch.equal(reference_tokens[name].long(), torch.from_numpy(tokens[name])):
            raise MotionLCMError(f"ONNX text encoder {onnx_path}: its tokenizer's {name} differ from the torch model's")
    reference = torch.from_numpy(encoder.encode(batch))
    candidates = (onnx._compute(batch), np.concatenate([onnx._compute([sentence]) for sentence in batch]))
    worst = min(
        float(torch.nn.functional.cosine_similarity(torch.from_numpy(v), reference, dim=-1).min()) for v in candidates
    )
    if not worst >= min_cosine:
        raise MotionLCMError(f"ONNX text encoder {onnx_path}: cosine similarity {worst:.6f} < {min_cosine} to torch")
    return worst


@contextmanager
def quiet_loggers(*names: str) -> Iterator[None]:
    """Show only errors of the exporter's loggers (its optimiser logs every rewrite at INFO)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def dynamo_export(
    module: torch.nn.Module,
    inputs: tuple[torch.Tensor, ...],
    path: Path,
    input_names: Sequence[str],
    output_name: str,
    dynamic_shapes: dict[str, dict[int, object]],
    opset: int,
) -> None:
    """``torch.onnx.export`` as every export here runs it: dynamo, one file, no gradients, quiet.

    Args:
        module: the network in eval mode.
        inputs: example inputs, in ``forward``'s order.
        path: the ``.onnx`` file to write (weights inside it).
        input_names: graph input names, in the same order.
        output_name: the graph output's name.
        dynamic_shapes: per ``forward`` argument name, its dynamic axes (``torch.export.Dim``).
        opset: ONNX opset.
    """
    with warnings.catch_warnings(), torch.no_grad(), quiet_loggers("torch.onnx", "onnxscript", "onnx_ir"):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            inputs,
            str(path),
            input_names=list(input_names),
            output_names=[output_name],
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def _fused_bert_export(
    encoder: TextEncoder, module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, opset: int
) -> dict[str, int]:
    """TorchScript export with eager attention, then ORT's BERT fusions; returns the fused operator counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    transformer = encoder.model[0].auto_model
    attention = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")  # the pattern ORT's attention fusion matches
    # ORT's optimiser logs each fusion at INFO under top-level module names (it imports its own
    # modules through sys.path), which no named logger covers: mute INFO for the export's duration.
    logging.disable(logging.INFO)
    try:
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            raw = Path(folder) / "unfused.onnx"
            axes = {name: {0: "batch", 1: "sequence"} for name in ONNX_INPUTS}
            torch.onnx.export(module, inputs, str(raw), input_names=list(ONNX_INPUTS), output_names=[ONNX_OUTPUT],
                              dynamic_axes=axes, opset_version=opset, dynamo=False)  # fmt: skip
            config = transformer.config
            fused = optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size)  # fmt: skip
            fused.save_model_to_file(str(path))
            counts = {name: int(count) for name, count in fused.get_fused_operator_statistics().items() if count}
    finally:
        logging.disable(logging.NOTSET)
        transformer.set_attn_implementation(attention)
    if counts.get("Attention", 0) != transformer.config.num_hidden_layers:
        raise MotionLCMError(f"ORT fused {counts.get('Attention', 0)} attention layers of {encoder.model_id}, "
                             f"not {transformer.config.num_hidden_layers}")  # fmt: skip
    return counts


def _export_graph(encoder: TextEncoder, path: Path, opset: int) -> dict[str, object]:
    """Write the ONNX graph of ``encoder`` to ``path`` and its metadata beside it; returns the metadata."""
    example = encoder.model.preprocess(["a person walks forward and waves", "hi"])  # batch 2, padded
    module = _SentenceVectors(encoder.model, "token_type_ids" in example).eval()
    inputs = tuple(example[name] for name in ONNX_INPUTS)
    transformer = getattr(encoder.model[0], "auto_model", None)
    if transformer is not None and transformer.config.model_type in FUSED_MODEL_TYPES:
        opset = min(opset, FUSED_OPSET)
        graph: dict[str, object] = {"exporter": "torchscript", "ort_fusions": _fused_bert_export(
            encoder, module, inputs, path, opset)}  # fmt: skip
    else:
        batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
        shapes = {name: {0: batch, 1: sequence} for name in ONNX_INPUTS}
        dynamo_export(module, inputs, path, ONNX_INPUTS, ONNX_OUTPUT, shapes, opset)
        graph = {"exporter": "dynamo", "ort_fusions": {}}
    meta: dict[str, object] = {
        "format": EXPORT_FORMAT,
        "model_id": encoder.model_id,
        "model_path": str(encoder.model_path),
        "dim": encoder.dim,
        "max_seq_length": int(encoder.model.max_seq_length),
        "inputs": list(ONNX_INPUTS),
        "output": ONNX_OUTPUT,
        "opset": opset,
        "torch": torch.__version__,
        **graph,
    }
    metadata_path(path).write_text(json.dumps(meta, indent=2))
    return meta


def export_text_encoder(
    out: Path | None = None, model_path: str | Path | None = None, opset: int = OPSET
) -> TextExportReport:
    """Export a sentence-transformers model to ONNX, check it, and write its metadata JSON beside it.

    The file is written under a temporary name and moved into place only after the check passes,
    so a failed export never leaves a file that ``OnnxTextEncoder`` would accept.

    Args:
        out: the ``.onnx`` file (default: ``default_onnx_path(model_id)`` in ``resources.onnx_cache_dir()``).
        model_path: local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2).
        opset: ONNX opset version (at most ``FUSED_OPSET`` for a fused export).

    Returns:
        Where it went and how close it is to the torch encoder.

    Raises:
        MotionLCMError: the export fails or its vectors differ from the torch encoder's.
    """
    start = time.perf_counter()
    encoder = TextEncoder(model_path, device="cpu")
    out = Path(out) if out is not None else default_onnx_path(encoder.model_id)
    if out.suffix != ".onnx":
        raise MotionLCMError(f"the export must be a .onnx file, got {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.stem}.tmp.onnx")
    try:
        meta = _export_graph(encoder, temporary, opset)
        worst = verify_export(temporary, encoder)
    except Exception as error:  # the exporter raises many kinds of errors
        temporary.unlink(missing_ok=True)
        metadata_path(temporary).unlink(missing_ok=True)
        if isinstance(error, MotionLCMError):
            raise
        raise MotionLCMError(f"could not export {encoder.model_path} to ONNX: {error}") from error
    temporary.replace(out)
    meta["min_cosine"] = worst
    metadata_path(out).write_text(json.dumps(meta, indent=2))
    metadata_path(temporary).unlink()
    report = TextExportReport(out, encoder.model_id, worst, time.perf_counter() - start)
    LOGGER.debug("exported %s to %s (cosine >= %.6f to torch, %.1f s)", report.model_id, out, worst, report.seconds)
    return report
