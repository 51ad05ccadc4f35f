"""Which sentence encoder each shipped generator reads: the student's static one, or MiniLM.

The student runs by default on its static encoder (``models/student_text``, a distillation of the
MiniLM vectors it was trained on); the teacher and the evaluator read MiniLM itself, on ONNX Runtime
when ``motionlcm export text-encoder`` has built its export, else on PyTorch.
"""

from __future__ import annotations

from pathlib import Path

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import text_model_of
from motionlcm_node.text.encoder import CachingSentenceEncoder, SentenceEncoder
from motionlcm_node.text.static_encoder import StaticTextEncoder

#: Folder of the student's static text encoder inside a models folder.
STUDENT_TEXT_DIR = "student_text"
#: ``--text-backend`` choices of the student's pipeline.
STUDENT_TEXT_BACKENDS = ("auto", "static", "onnx", "torch")


def vector_space_of(encoder: SentenceEncoder, default: str) -> str:
    """The text model whose vectors ``encoder`` produces (``default`` for a plain vector table)."""
    return str(getattr(encoder, "vector_space", None) or getattr(encoder, "model_id", None) or default)


def shipped_student_text_encoder(models_dir: Path) -> StaticTextEncoder | None:
    """The static encoder in ``models_dir/student_text`` (checked against the student), or None.

    Raises:
        MotionLCMError: a static encoder made for another text model than the student's.
    """
    return _checked_static_encoder(models_dir) if (models_dir / STUDENT_TEXT_DIR / "config.json").is_file() else None


def _checked_static_encoder(models_dir: Path) -> StaticTextEncoder:
    folder = models_dir / STUDENT_TEXT_DIR
    encoder = StaticTextEncoder(folder)
    text_model = text_model_of(models_dir / "student")
    if encoder.vector_space != text_model:
        raise MotionLCMError(f"{folder} approximates {encoder.vector_space}, the student reads {text_model}")
    return encoder


def load_student_text_encoder(
    models_dir: Path, backend: str = "auto", device: str = "cpu", threads: int = 1
) -> CachingSentenceEncoder:
    """The sentence encoder the student of ``models_dir`` runs with.

    Args:
        models_dir: folder in the ``models/`` layout.
        backend: "auto" (the static encoder in ``models_dir/student_text`` when shipped, else MiniLM
            through ``load_text_encoder("auto")``), "static" (an error when missing), or "onnx" /
            "torch" (MiniLM itself on that backend).
        device: device of a MiniLM encoder.
        threads: ONNX Runtime threads of a MiniLM encoder.

    Raises:
        MotionLCMError: unknown backend, a missing static encoder with "static", or one made for
            another text model.
    """
    if backend not in STUDENT_TEXT_BACKENDS:
        raise MotionLCMError(f"text backend must be one of {', '.join(STUDENT_TEXT_BACKENDS)}, got {backend!r}")
    if backend == "static":
        return _checked_static_encoder(models_dir)
    shipped = shipped_student_text_encoder(models_dir) if backend == "auto" else None
    if shipped is not None:
        return shipped
    return load_model_text_encoder(models_dir / "student", backend, device, threads)


def load_model_text_encoder(
    model_dir: Path, backend: str = "auto", device: str = "cpu", threads: int = 1
) -> CachingSentenceEncoder:
    """MiniLM (the text model a teacher, student or evaluator folder names) on "auto", "onnx" or "torch".

    Raises:
        MotionLCMError: an unknown backend, a text model other than the default MiniLM, or with "onnx"
            a missing export.
    """
    from motionlcm_node.text.onnx_encoder import load_text_encoder

    return load_text_encoder(backend, device=device, threads=threads, model_id=text_model_of(model_dir))
