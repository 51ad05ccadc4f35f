"""Batch-1 time of the per-request ONNX stages (text encoder, VAE decoder) in cheaper graph variants.

    python -m benchmarks.onnx_variants --models models

Every request pays the text encoder and the VAE decoder, the teacher as much as the 1-step student,
so they bound the end-to-end teacher/student ratio (``benchmarks/latency.py``). This script asks
whether ONNX Runtime's own tools make those stages cheaper, and at what cost in accuracy:

* the shipped exports (fp32, ORT_ENABLE_ALL: the baseline; a BERT text encoder's export already
  carries ORT's transformer fusions, ``export/text_onnx.py``);
* ``onnxruntime.transformers.optimizer`` fusions (BERT rules) for the VAE decoder: only GELU and
  layer norms match (ORT finds no attention pattern in its export);
* dynamic int8 quantisation with per-channel weights (``quantize_dynamic``), also with reduce_range;
* 8-bit weight-only blocks (``MatMulNBits``, block 32, int8 compute) for the text encoder;
* for scale, graphs of cheaper models that the shipped weights cannot fill: the text model's first
  2 layers (its vectors are another space, so every generator would have to be retrained on them),
  the previous, unfused text export, and a 3-layer decoder with untrained weights (a trained one:
  ``config/vae_decoder3_cpu.json``, docs/models.md, *Thirteenth session*).

Each variant is written to a temporary folder; the calls go round-robin over the variants of a
stage (medians of ``--repeats`` after ``--warmup``), and the error column compares each variant with
the shipped export: the smallest cosine between sentence vectors over a fixed set of captions, or
the largest absolute difference of raw decoded features (metres, m/frame, radians) over
``--latents`` random latents. The decoder runs with fixed shapes, as the pipelines run it.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from benchmarks.report import emit, interleaved_medians
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.export.text_onnx import export_text_encoder
from motionlcm_node.export.vae_onnx import export_vae_decoder
from motionlcm_node.machine import machine_description
from motionlcm_node.networks.vae import MotionVAE, MotionVAEConfig
from motionlcm_node.onnx_runtime import fixed_shape_options, session_options
from motionlcm_node.onnx_text_encoder import OnnxTextEncoder
from motionlcm_node.training.checkpoint import export_model
from motionlcm_node.vae_decoding import DECODER_FILE, read_decoder_metadata

SENTENCES = (
    "a person waves with the right hand and then walks forward",
    "someone jumps in place",
    "a person walks in a circle happily while looking around and clapping",
    "a person dances angrily",
    "a person runs slowly then stops",
    "a tired person sits down on the floor",
    "a person kicks with the left foot twice",
    "a person turns left and walks away proudly",
)
Variant = Callable[[Path, Path], None]  # (source graph, destination graph)


def _fused(heads: int, width: int) -> Variant:
    def make(source: Path, destination: Path) -> None:
        from onnxruntime.transformers.optimizer import optimize_model

        optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=width).save_model_to_file(
            str(destination)
        )

    return make


def _int8_dynamic(reduce_range: bool) -> Variant:
    def make(source: Path, destination: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        options = {"DefaultTensorType": onnx.TensorProto.FLOAT}  # fused graphs hold ORT's own operators
        quantize_dynamic(source, destination, per_channel=True, reduce_range=reduce_range,
                         weight_type=QuantType.QInt8, extra_options=options)  # fmt: skip

    return make


def _weight_only_8bit(source: Path, destination: Path) -> None:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(onnx.load(source), bits=8, block_size=32, is_symmetric=True, accuracy_level=4)
    quantizer.process()
    onnx.save_model(quantizer.model.model, destination)


def _unfused_text_export(model_path: Path) -> Variant:
    def make(source: Path, destination: Path) -> None:
        export_text_encoder(destination, model_path, fuse=False)

    return make


def _first_text_layers(model_path: Path, layers: int) -> Variant:
    """The text model cut to its first ``layers`` layers (its vectors are another space: timing only)."""

    def make(source: Path, destination: Path) -> None:
        folder = destination.with_suffix("")
        shutil.copytree(model_path, folder)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "num_hidden_layers": layers}))
        export_text_encoder(destination, folder)

    return make


def _other_decoder(vae_dir: Path, **changes: int) -> Variant:
    """The shipped decoder's config with ``changes`` and untrained weights (timing only), exported alike."""

    def make(source: Path, destination: Path) -> None:
        folder = destination.with_suffix("")
        folder.mkdir()
        shutil.copy(vae_dir / "normalizer.safetensors", folder)
        config = {**json.loads((vae_dir / "config.json").read_text())["vae"], **changes}
        torch.manual_seed(0)
        export_model(MotionVAE(MotionVAEConfig.from_dict(config)), {"vae": config}, folder)
        export_vae_decoder(folder)
        shutil.copy(folder / DECODER_FILE, destination)

    return make


def _sessions(
    source: Path, variants: dict[str, Variant], folder: Path, threads: int, shapes: dict[str, tuple[int, ...]] | None
) -> dict[str, onnxruntime.InferenceSession]:
    """A session per variant (the shipped graph first); with ``shapes`` (per input), fixed-shape sessions."""
    paths = {"shipped export (fp32)": source}
    for name, make in variants.items():
        paths[name] = folder / f"{source.stem}-{len(paths)}.onnx"
        make(source, paths[name])
    providers = ["CPUExecutionProvider"]
    options = session_options(threads)
    if shapes is not None:  # the variants keep the shipped graph's inputs and axis names
        graph_inputs = onnxruntime.InferenceSession(str(source), options, providers=providers).get_inputs()
        options = fixed_shape_options(threads, graph_inputs, shapes)
    return {name: onnxruntime.InferenceSession(str(path), options, providers=providers) for name, path in paths.items()}


def text_encoder_rows(
    encoder: OnnxTextEncoder, folder: Path, threads: int, repeats: int, warmup: int
) -> list[dict[str, object]]:
    """An exported text encoder and its variants: batch-1 ms on the first sentence, smallest cosine to fp32."""
    variants = {  # a BERT export already carries ORT's transformer fusions (export/text_onnx.py)
        "dynamo export, unfused (before the thirteenth session)": _unfused_text_export(encoder.model_path),
        "first 2 layers (timing only: another vector space)": _first_text_layers(encoder.model_path, 2),
        "int8 dynamic, per-channel": _int8_dynamic(False),
        "int8 dynamic, per-channel, reduce_range": _int8_dynamic(True),
        "8-bit weight-only blocks (MatMulNBits)": _weight_only_8bit,
    }
    sessions = _sessions(encoder.onnx_path, variants, folder, threads, shapes=None)
    inputs = [encoder.tokenize([sentence]) for sentence in SENTENCES]
    vectors = {name: np.concatenate([s.run(None, x)[0] for x in inputs]) for name, s in sessions.items()}
    baseline = vectors["shipped export (fp32)"]
    times = interleaved_medians(
        {name: (lambda s=s: s.run(None, inputs[0])) for name, s in sessions.items()}, repeats, warmup
    )
    tokens = int(inputs[0]["input_ids"].shape[1])
    return [
        {"stage": f"text encoder ({tokens} tokens)", "variant": name, "ms": times[name],
         "error": float((vectors[name] * baseline).sum(axis=1).min()), "error_kind": "smallest cosine to fp32"}
        for name in sessions
    ]  # fmt: skip


def decoder_rows(
    vae_dir: Path, folder: Path, threads: int, repeats: int, warmup: int, frames: int, latents: int
) -> list[dict[str, object]]:
    """The VAE decoder export and its variants at batch 1, ``frames`` frames, fixed shapes."""
    meta = read_decoder_metadata(vae_dir)
    vae = MotionVAEConfig.from_dict(json.loads((vae_dir / "config.json").read_text())["vae"])
    variants = {
        "transformer fusions": _fused(vae.heads, vae.width),
        "int8 dynamic, per-channel": _int8_dynamic(False),
        "3 decoder layers (timing only: untrained weights)": _other_decoder(vae_dir, decoder_layers=3),
        "3 decoder layers, 32-wide smoothing head (timing only)": _other_decoder(
            vae_dir, decoder_layers=3, smoothing_width=32
        ),
        "1 decoder layer, 32-wide smoothing head (timing only)": _other_decoder(
            vae_dir, decoder_layers=1, smoothing_width=32
        ),
    }
    patch = int(meta["temporal_patch"])
    padded = -(-frames // patch) * patch
    shape = (1, int(meta["latent_tokens"]), int(meta["latent_dim"]))
    sessions = _sessions(vae_dir / DECODER_FILE, variants, folder, threads, {"latent": shape, "valid": (1, padded)})
    generator = np.random.default_rng(0)
    feeds = [
        {"latent": generator.standard_normal(shape).astype(np.float32), "valid": np.ones((1, padded), np.bool_)}
        for _ in range(latents)
    ]
    outputs = {name: [s.run(None, x)[0] for x in feeds] for name, s in sessions.items()}
    baseline = outputs["shipped export (fp32)"]
    times = interleaved_medians(
        {name: (lambda s=s: s.run(None, feeds[0])) for name, s in sessions.items()}, repeats, warmup
    )
    return [
        {"stage": f"VAE decoder ({frames} frames)", "variant": name, "ms": times[name],
         "error": max(float(np.abs(a - b).max()) for a, b in zip(outputs[name], baseline, strict=True)),
         "error_kind": "max abs difference of raw features"}
        for name in sessions
    ]  # fmt: skip


def add_speed_vs_shipped(rows: list[dict[str, object]]) -> None:
    """Give each row its stage's shipped-export time over its own (above 1: the variant is faster)."""
    for row in rows:
        first = next(r for r in rows if r["stage"] == row["stage"])
        row["speed_vs_shipped"] = first["ms"] / row["ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder with vae/ (decoder.onnx)")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per variant")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per variant first")
    parser.add_argument("--frames", type=int, default=196, help="decoded frames (20 fps)")
    parser.add_argument("--latents", type=int, default=8, help="random latents for the decoder's error column")
    args = parser.parse_args()
    if min(args.repeats, args.frames, args.latents) < 1 or args.warmup < 0:
        parser.error("--repeats, --frames and --latents must be >= 1, --warmup >= 0")
    logging.getLogger().setLevel(logging.ERROR)  # the quantisers warn about pre-processing on every call
    threads = args.threads or torch.get_num_threads()
    try:
        with tempfile.TemporaryDirectory(prefix="motionlcm_onnx_variants_") as folder:
            encoder = OnnxTextEncoder(threads=threads)
            read_decoder_metadata(args.models / "vae")  # both exports are checked before any timing
            rows = text_encoder_rows(encoder, Path(folder), threads, args.repeats, args.warmup)
            rows += decoder_rows(args.models / "vae", Path(folder), threads, args.repeats, args.warmup, args.frames,
                                 args.latents)  # fmt: skip
    except MotionLCMError as error:  # a missing or stale export: the message names the command that makes it
        parser.exit(1, f"onnx_variants: {error}\n")
    add_speed_vs_shipped(rows)
    report = {"machine": machine_description(), "threads": threads, "repeats": args.repeats, "rows": rows}
    table = [[r["stage"], r["variant"], f"{r['ms']:.2f}", f"{r['speed_vs_shipped']:.2f}x",
              f"{r['error']:.5f} ({r['error_kind']})"] for r in rows]  # fmt: skip
    emit(report, ["stage", "variant", "batch-1 ms", "speed vs shipped", "error vs shipped"], table)
    print(f"ONNX Runtime {onnxruntime.__version__}, {threads} intra-op threads, medians of {args.repeats}.")


if __name__ == "__main__":
    main()
