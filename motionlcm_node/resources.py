"""Where the files shipped with the package are found, from a source checkout or an installation.

Python files, the data splits, skeleton and robot YAMLs are package data and sit beside the code.
The trained models (``models/`` in the repository) are installed as data files into
``<prefix>/share/motionlcm_node/models``, the ROS convention, by ``pip install .`` and by
``colcon build`` alike; ``share_dir`` finds that folder. ``models_dir`` is the one function every
loader, command and node uses for the default models folder; exported ONNX files that are built on
the user's machine (the MiniLM text encoder) go to ``onnx_cache_dir``.

This module imports nothing beyond the standard library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from motionlcm_node.errors import MotionLCMError

PACKAGE = "motionlcm_node"
#: Environment variable naming another models folder (same layout as ``models/``).
MODELS_ENV = "MOTIONLCM_MODELS"
#: Environment variable naming the folder of ONNX exports built on this machine.
ONNX_DIR_ENV = "MOTIONLCM_ONNX_DIR"


def source_root() -> Path | None:
    """The repository root when the package runs from a source checkout, else None.

    A checkout is an editable install, colcon's ``--symlink-install`` or the repository on ``PYTHONPATH``.
    """
    root = Path(__file__).resolve().parents[1]
    manifest = root / "package.xml"
    if manifest.is_file() and f"<name>{PACKAGE}</name>" in manifest.read_text(encoding="utf-8"):
        return root
    return None


def share_dirs() -> list[Path]:
    """Candidate ``share/motionlcm_node`` folders of an installation, most specific first.

    The prefix the package itself was installed into (``<prefix>/lib/pythonX.Y/site-packages/``
    for pip into a venv and for colcon's ``install/motionlcm_node``), then ``sys.prefix``, then
    every prefix of a sourced ROS 2 environment (``AMENT_PREFIX_PATH``).
    """
    package = Path(__file__).resolve().parent
    prefixes = [package.parents[3]] if len(package.parents) > 3 else []
    prefixes.append(Path(sys.prefix))
    prefixes += [Path(entry) for entry in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if entry]
    seen: list[Path] = []
    for prefix in prefixes:
        candidate = prefix / "share" / PACKAGE
        if candidate not in seen:
            seen.append(candidate)
    return seen


def share_dir() -> Path | None:
    """The installed ``share/motionlcm_node`` folder (the one holding ``package.xml``), or None."""
    return next((folder for folder in share_dirs() if (folder / "package.xml").is_file()), None)


def models_dir() -> Path:
    """The default models folder: ``$MOTIONLCM_MODELS``, else the checkout's ``models/``, else the installed one.

    Raises:
        MotionLCMError: none of them exists (the message lists where it looked).
    """
    override = os.environ.get(MODELS_ENV)
    if override:
        folder = Path(override)
        if not folder.is_dir():
            raise MotionLCMError(f"${MODELS_ENV} names {folder}, which is not a folder")
        return folder
    root = source_root()
    candidates = ([root / "models"] if root is not None else []) + [folder / "models" for folder in share_dirs()]
    for folder in candidates:
        if (folder / "student" / "config.json").is_file():
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise MotionLCMError(f"no shipped models found (looked in {looked}); pass --models or set ${MODELS_ENV}")


def onnx_cache_dir() -> Path:
    """Folder of the ONNX exports built on this machine (the MiniLM text encoder).

    ``$MOTIONLCM_ONNX_DIR``, else the checkout's ``build/onnx``, else
    ``$XDG_CACHE_HOME/motionlcm_node/onnx`` (``~/.cache`` by default).
    """
    override = os.environ.get(ONNX_DIR_ENV)
    if override:
        return Path(override)
    root = source_root()
    if root is not None:
        return root / "build" / "onnx"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / PACKAGE / "onnx"
