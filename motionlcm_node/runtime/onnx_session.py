"""ONNX Runtime plumbing shared by the exported models: providers, session options, export metadata."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motionlcm_node.errors import MotionLCMError


def onnx_providers(device: str) -> list[str]:
    """ONNX Runtime execution providers for "cpu" or "cuda[:N]".

    Raises:
        MotionLCMError: another device, or "cuda" without a CUDA-enabled onnxruntime build.
    """
    import onnxruntime

    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise MotionLCMError("device cuda: this onnxruntime build has no CUDAExecutionProvider")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise MotionLCMError(f"unknown device {device!r} for ONNX Runtime (cpu or cuda)")


def onnx_runs_on(device: str) -> bool:
    """Whether onnxruntime is installed and has a provider for ``device`` (see ``onnx_providers``)."""
    try:
        onnx_providers(device)
    except (ImportError, MotionLCMError):
        return False
    return True


def wants_onnx(backend: str, device: str, threads: int, what: str) -> bool:
    """Whether a backend choice ("auto", "onnx" or "torch") should try ONNX Runtime for ``what``.

    "auto" tries it only where ONNX Runtime runs on ``device``; the caller falls back to torch
    when "auto" finds no current export, and raises when "onnx" does.

    Raises:
        MotionLCMError: unknown backend, or fewer than one thread (checked even for "auto", so a bad
            setting is never turned into a silent fallback).
    """
    if backend not in ("auto", "onnx", "torch"):
        raise MotionLCMError(f"{what} backend must be auto, onnx or torch, got {backend!r}")
    if threads < 1:
        raise MotionLCMError(f"ONNX Runtime threads must be at least 1, got {threads}")
    return backend == "onnx" or (backend == "auto" and onnx_runs_on(device))


def session_options(threads: int) -> Any:
    """ONNX Runtime session options for batch-1 latency beside other work on a small CPU.

    ``threads`` intra-op threads, one inter-op thread, all graph optimisations, and idle workers
    that sleep at once instead of spinning: a spinning pool holds a core for milliseconds after each
    run and starved the next stage on the 2-core development machine (a VAE decode went from 13 to
    60 ms), while letting workers spin between the operators of one run made the 1-step student no
    faster end to end (docs/experiments.md).
    """
    import onnxruntime

    if threads < 1:
        raise MotionLCMError(f"ONNX Runtime threads must be at least 1, got {threads}")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def fixed_shape_options(threads: int, graph_inputs: Sequence[Any], shapes: dict[str, Sequence[int]]) -> Any:
    """``session_options(threads)`` with every symbolic axis of a graph pinned to one request's sizes.

    ONNX Runtime then folds the graph's shape arithmetic into constants: a session for that shape only.

    Args:
        threads: intra-op threads.
        graph_inputs: the graph's inputs, as a session's ``get_inputs()`` lists them.
        shapes: per input name, the full shape of the request.
    """
    options = session_options(threads)
    for graph_input in graph_inputs:
        for axis, dim in enumerate(graph_input.shape):
            if isinstance(dim, str):  # a symbolic axis: pin it to this request's size
                options.add_free_dimension_override_by_name(dim, int(shapes[graph_input.name][axis]))
    return options


def read_export_json(onnx_path: Path, meta_path: Path, what: str, command: str) -> dict[str, Any]:
    """The JSON object beside an export, after checking that both files exist.

    Args:
        onnx_path: the ``.onnx`` file.
        meta_path: its metadata JSON.
        what: what was exported, for messages ("text encoder", "VAE decoder").
        command: the command that (re)creates the export, for messages.

    Raises:
        MotionLCMError: a file is missing, or the JSON is unreadable or not an object.
    """
    if not onnx_path.is_file() or not meta_path.is_file():
        missing = onnx_path if not onnx_path.is_file() else meta_path
        raise MotionLCMError(f"no ONNX {what} at {missing}: run `{command}` to create it")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise MotionLCMError(f"unreadable {meta_path} ({error}): run `{command}` again") from None
    if not isinstance(meta, dict):
        raise MotionLCMError(f"{meta_path} is not a JSON object: run `{command}` again")
    return meta


def files_digest(folder: Path, names: tuple[str, ...], what: str) -> str:
    """SHA-256 over the files ``names`` of ``folder``, in that order: what an export was made from.

    Raises:
        MotionLCMError: a file is missing (the message calls ``folder`` "not a ``what`` folder").
    """
    digest = hashlib.sha256()
    for name in names:
        path = folder / name
        if not path.is_file():
            raise MotionLCMError(f"{folder} is not a {what} folder: {name} is missing")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportReport:
    """Outcome of an export that is checked against PyTorch (VAE decoder, denoisers).

    Attributes:
        onnx_path: the exported model.
        max_abs_error: largest difference to the torch outputs over the check inputs.
        seconds: wall time of export and check.
    """

    onnx_path: Path
    max_abs_error: float
    seconds: float
