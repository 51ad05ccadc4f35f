"""``motionlcm export``: deployment formats of the models (ONNX text encoder, VAE decoder and denoisers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from motionlcm_node.errors import MotionLCMError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` command and its ``text-encoder``, ``vae-decoder`` and ``denoiser`` subcommands."""
    export = subparsers.add_parser("export", help="export models to deployment formats (ONNX)")
    commands = export.add_subparsers(dest="export_command", required=True, metavar="SUBCOMMAND")
    text = commands.add_parser(
        "text-encoder",
        help="export the sentence encoder to ONNX Runtime and check it against the torch encoder",
        description=(
            "Export the sentence-transformers text model (transformer + pooling + L2 normalisation) to ONNX "
            "with dynamic batch and sequence axes, check its vectors against the torch encoder "
            "(cosine >= 0.9999) and write a JSON with the source model id beside it."
        ),
    )
    text.add_argument(
        "--out", type=Path, default=None,
        help="the .onnx file (default: <model_id>.onnx in build/onnx of a checkout, else ~/.cache/motionlcm_node/onnx)",
    )  # fmt: skip
    text.add_argument(
        "--model", type=Path, default=None, help="sentence-transformers model folder (default: all-MiniLM-L6-v2)"
    )
    text.add_argument(
        "--for-models", type=Path, default=None,
        help="export the text model(s) that this models folder's student, teacher and evaluator were trained with, "
        "each to its default path",
    )  # fmt: skip
    text.add_argument(
        "--if-stale", action="store_true", help="do nothing when OUT is already a current export of the model"
    )
    text.set_defaults(handler=run_export_text_encoder)
    language = commands.add_parser(
        "language",
        help="write models/language: the command interpreter's phrase vectors and refusal threshold",
        description="Encode every phrase of motionlcm_node.language.phrases with MiniLM into "
        "FOLDER/phrases.safetensors (float16) and write FOLDER/config.json with the refusal threshold.",
    )
    language.add_argument("--out", type=Path, default=None, help="folder (default: the shipped models' language/)")
    language.add_argument("--threshold", type=float, default=None, help="refusal threshold (default: the folder's)")
    language.add_argument(
        "--data", type=Path, default=Path("data/bandai"), help="prepared dataset (each action's typical length)"
    )
    language.set_defaults(handler=run_export_language)
    decoder = commands.add_parser(
        "vae-decoder",
        help="export the VAE decoder to ONNX Runtime (beside the VAE) and check it against torch",
        description=(
            "Export the motion VAE's decoder with feature de-normalisation to VAE/decoder.onnx (dynamic batch and "
            "frame axes), check it against torch (max abs error <= 1e-3 on raw features) and write VAE/decoder.json "
            "with the SHA-256 of the weights it came from."
        ),
    )
    decoder.add_argument("--vae", type=Path, default=None, help="VAE folder (default: the shipped models' vae/)")
    decoder.add_argument(
        "--if-stale", action="store_true", help="do nothing when the folder already holds a current export"
    )
    decoder.set_defaults(handler=run_export_vae_decoder)
    denoiser = commands.add_parser(
        "denoiser",
        help="export a teacher or student denoiser to ONNX Runtime (beside its weights) and check it against torch",
        description=(
            "Export the latent denoiser of a teacher or student folder to FOLDER/denoiser.onnx (dynamic batch axis), "
            "check it against torch (max abs error <= 1e-4 on the predicted noise) and write FOLDER/denoiser.json "
            "with the SHA-256 of the weights and sizes it came from."
        ),
    )
    denoiser.add_argument(
        "--model", type=Path, action="append", default=None,
        help="teacher or student folder (repeat for several; default: the shipped student and teacher)",
    )  # fmt: skip
    denoiser.add_argument("--if-stale", action="store_true", help="do nothing for models that have a current export")
    denoiser.set_defaults(handler=run_export_denoiser)


def run_export_language(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm export language``."""
    from motionlcm_node.language.interpreter import DEFAULT_THRESHOLD, LANGUAGE_FOLDER
    from motionlcm_node.language.phrase_vectors import load_language_config, typical_seconds, write_language_folder
    from motionlcm_node.loading.text import load_model_text_encoder
    from motionlcm_node.resources import models_dir

    folder = args.out or models_dir() / LANGUAGE_FOLDER
    threshold = args.threshold
    if threshold is None:
        threshold = float(load_language_config(folder)["threshold"]) if folder.is_dir() else DEFAULT_THRESHOLD
    if not -1.0 <= threshold <= 1.0:
        raise MotionLCMError(f"--threshold must be a cosine similarity within -1 to 1, got {threshold}")
    encoder = load_model_text_encoder(models_dir() / "evaluator")
    if not (args.data / "train.txt").is_file():
        raise MotionLCMError(f"{args.data}: no prepared dataset (motionlcm data prepare) for the actions' lengths")
    write_language_folder(encoder, folder, threshold, typical_seconds(args.data))
    print(f"wrote {folder} (threshold {threshold:g}, text model {encoder.model_id})")
    return 0


def run_export_text_encoder(args: argparse.Namespace) -> int:
    """Export, check, and print where the file(s) went."""
    if args.for_models is None:
        _export_text_model(args.model, args.out, args.if_stale)
        return 0
    from motionlcm_node.loading.models import text_model_of
    from motionlcm_node.text.encoder import text_model_folder

    if args.model is not None or args.out is not None:
        raise MotionLCMError("--for-models exports each text model to its default path: drop --model and --out")
    parts = [args.for_models / part for part in ("student", "teacher", "evaluator")]
    model_ids = sorted({text_model_of(part) for part in parts if (part / "config.json").is_file()})
    if not model_ids:
        raise MotionLCMError(f"{args.for_models}: no student, teacher or evaluator config.json names a text model")
    for model_id in model_ids:
        _export_text_model(text_model_folder(model_id), None, args.if_stale)
    return 0


def _export_text_model(model: Path | None, out: Path | None, if_stale: bool) -> None:
    """Export one text model (None: the default MiniLM) to ``out`` (None: its default path)."""
    from motionlcm_node.export.text_onnx import export_text_encoder
    from motionlcm_node.text.encoder import default_model_path, model_id_of
    from motionlcm_node.text.onnx_encoder import default_onnx_path, export_is_current

    if if_stale:
        model_id = model_id_of(model if model is not None else default_model_path())
        path = out if out is not None else default_onnx_path(model_id)
        if export_is_current(path, model_id):
            print(f"{path} ({model_id}) is current")
            return
    report = export_text_encoder(out, model)
    size_mb = report.onnx_path.stat().st_size / 2**20
    print(
        f"{report.onnx_path} ({report.model_id}, {size_mb:.0f} MiB; cosine to torch >= {report.min_cosine:.6f}; "
        f"{report.seconds:.1f} s)"
    )


def run_export_vae_decoder(args: argparse.Namespace) -> int:
    """Export (unless current with ``--if-stale``), check, and print where the file went."""
    from motionlcm_node.export.vae_onnx import export_vae_decoder
    from motionlcm_node.resources import models_dir
    from motionlcm_node.runtime.decoder import DECODER_FILE, decoder_export_is_current

    vae = args.vae if args.vae is not None else models_dir() / "vae"
    if args.if_stale and decoder_export_is_current(vae):
        print(f"{vae / DECODER_FILE} is current")
        return 0
    report = export_vae_decoder(vae)
    size_mb = report.onnx_path.stat().st_size / 2**20
    error = report.max_abs_error
    print(f"{report.onnx_path} ({size_mb:.1f} MiB; max abs error to torch {error:.1e}; {report.seconds:.1f} s)")
    return 0


def run_export_denoiser(args: argparse.Namespace) -> int:
    """Export each ``--model`` (unless current with ``--if-stale``), check, and print where the files went."""
    from motionlcm_node.export.denoiser_onnx import export_denoiser
    from motionlcm_node.resources import models_dir
    from motionlcm_node.runtime.denoiser import DENOISER_FILE, denoiser_export_is_current

    folders = args.model if args.model else [models_dir() / "student", models_dir() / "teacher"]
    for model_dir in folders:
        if args.if_stale and denoiser_export_is_current(model_dir):
            print(f"{model_dir / DENOISER_FILE} is current")
            continue
        report = export_denoiser(model_dir)
        size_mb = report.onnx_path.stat().st_size / 2**20
        error = report.max_abs_error
        print(f"{report.onnx_path} ({model_dir}, {size_mb:.1f} MiB; max abs error to torch {error:.1e}; "
              f"{report.seconds:.1f} s)")  # fmt: skip
    return 0
