"""The interpreter's shipped files: ``models/language/config.json`` and the MiniLM vectors of its phrases.

``phrases.safetensors`` holds float16 unit vectors of every sentence of
:func:`motionlcm_node.language.phrases.all_sentences` (with ``phrases.json``: the sentences and the
text model id), so that starting the interpreter encodes nothing but the command; a phrase added
since the file was written is encoded at start-up instead (correct, only slower), and
``tests/test_language.py`` fails until the file is rebuilt with ``motionlcm export language``.
``config.json`` names the text model, the refusal threshold chosen on the development set and each
action's typical length (the median of its training clips), the length of a motion nobody sized.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.language.phrases import all_sentences

VECTOR_FILE = "phrases.safetensors"


def load_language_config(folder: Path) -> dict[str, object]:
    """``config.json`` of a language folder (``text_model``, ``threshold``, ``seconds``)."""
    try:
        config = json.loads((folder / "config.json").read_text())
        float(config["threshold"])
        str(config["text_model"])
        config["seconds"] = {str(action): float(value) for action, value in config.get("seconds", {}).items()}
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise MotionLCMError(f"{folder}: no usable language config.json ({error})") from None
    return config


def read_phrase_vectors(folder: Path) -> tuple[str, dict[str, np.ndarray]]:
    """(text model id, sentence -> float32 vector) of a language folder's vector file."""
    from safetensors.numpy import load_file

    path = folder / VECTOR_FILE
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        vectors = load_file(str(path))["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError) as error:
        raise MotionLCMError(f"{path}: cannot read the phrase vectors ({error})") from None
    if len(vectors) != len(meta["sentences"]):
        raise MotionLCMError(f"{path}: {len(vectors)} vectors for {len(meta['sentences'])} sentences")
    return str(meta["model"]), dict(zip(meta["sentences"], vectors, strict=True))


def remember_phrase_vectors(encoder: object, folder: Path) -> int:
    """Give ``encoder`` the shipped vectors of its model (none if another model's); returns how many."""
    if not (folder / VECTOR_FILE).is_file() or not hasattr(encoder, "remember"):
        return 0
    model, vectors = read_phrase_vectors(folder)
    if model != getattr(encoder, "model_id", None):
        return 0
    encoder.remember(vectors)
    return len(vectors)


def typical_seconds(data_dir: Path) -> dict[str, float]:
    """Median length of each action's train-split clips, seconds, within 2-9.8 s (the generator's range)."""
    from motionlcm_node.data.splits import read_split_file
    from motionlcm_node.evaluation.actions import clip_action

    lengths: dict[str, list[int]] = {}
    for name in read_split_file(Path(data_dir) / "train.txt"):
        try:
            action = clip_action(name)
        except KeyError:
            continue
        frames = np.load(Path(data_dir) / "new_joint_vecs" / f"{name}.npy", mmap_mode="r").shape[0]
        lengths.setdefault(action, []).append(frames)
    return {
        action: round(float(np.clip(np.median(values) / 20.0, 2.0, 9.8)), 1)
        for action, values in sorted(lengths.items())
    }


def write_language_folder(encoder: object, folder: Path, threshold: float, seconds: dict[str, float]) -> Path:
    """Encode every phrase and write ``config.json`` (threshold, typical seconds per action) and the vectors."""
    from safetensors.numpy import save_file

    sentences = all_sentences()
    vectors = np.asarray(encoder.encode(sentences), dtype=np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"vectors": np.ascontiguousarray(vectors.astype(np.float16))}, str(folder / VECTOR_FILE))
    meta = {"model": encoder.model_id, "sentences": sentences}
    (folder / VECTOR_FILE).with_suffix(".json").write_text(json.dumps(meta) + "\n")
    config = {"text_model": encoder.model_id, "threshold": threshold, "sentences": len(sentences), "seconds": seconds}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return folder
