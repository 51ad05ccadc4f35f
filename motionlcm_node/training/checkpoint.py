"""Resumable checkpoints and shipped weights, in safetensors + JSON (never pickle).

A checkpoint folder holds ``model.safetensors`` (weights), ``optimizer.safetensors`` (AdamW moment
tensors, keyed ``state.<param index>.<name>``), and ``state.json`` (step, optimizer hyper-parameters,
learning-rate scheduler state, RNG seeds). Exported models are ``model.safetensors`` plus
``config.json`` with everything needed to rebuild the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.loading.models import load_weights

MAX_FILE_BYTES = 16 * 1024 * 1024


def save_weights(module: nn.Module, path: Path) -> None:
    """Write a module's parameters and buffers as safetensors (contiguous CPU copies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.detach().cpu().contiguous() for name, value in module.state_dict().items()}
    save_file(tensors, str(path))


def export_model(module: nn.Module, config: dict[str, object], directory: Path) -> None:
    """Ship a model: ``model.safetensors`` + ``config.json``; refuses files over 16 MiB."""
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(module, directory / "model.safetensors")
    size = (directory / "model.safetensors").stat().st_size
    if size > MAX_FILE_BYTES:
        raise MotionLCMError(f"{directory}/model.safetensors is {size / 2**20:.1f} MiB, over the 16 MiB limit")
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def save_checkpoint(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    extra: dict[str, object] | None = None,
) -> None:
    """Write a resumable checkpoint (atomically: a temporary folder renamed into place)."""
    temporary = directory.with_name(directory.name + ".tmp")
    temporary.mkdir(parents=True, exist_ok=True)
    save_weights(model, temporary / "model.safetensors")
    state = optimizer.state_dict()
    tensors = {
        f"state.{index}.{name}": value.detach().cpu().contiguous()
        for index, entries in state["state"].items()
        for name, value in entries.items()
    }
    save_file(tensors, str(temporary / "optimizer.safetensors"))
    meta = {
        "step": step,
        "param_groups": state["param_groups"],
        "scheduler": scheduler.state_dict(),
        "torch_seed": torch.initial_seed(),
        "extra": extra or {},
    }
    (temporary / "state.json").write_text(json.dumps(meta, indent=2, default=float))
    if directory.exists():
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()
    temporary.rename(directory)


def load_checkpoint(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> dict[str, object]:
    """Restore a checkpoint written by ``save_checkpoint``; returns its ``state.json`` contents."""
    if not (directory / "state.json").is_file():
        raise MotionLCMError(f"{directory} is not a checkpoint (no state.json)")
    meta = json.loads((directory / "state.json").read_text())
    load_weights(model, directory / "model.safetensors")
    tensors = load_file(str(directory / "optimizer.safetensors"))
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    return meta
