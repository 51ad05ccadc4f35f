"""The training loop shared by every stage: resumable, logged, single-process or DDP.

Under ``torchrun`` (``WORLD_SIZE`` > 1) each process takes a shard of every epoch through a
``DistributedSampler`` and gradients are averaged by ``DistributedDataParallel`` (gloo on the CPU,
NCCL on CUDA); only rank 0 logs, checkpoints and exports. Run folder layout:
``config.json`` (the stage config), ``log.csv`` (step, seconds, learning rate, loss terms),
``checkpoint/`` (resumable), ``model/`` (exported weights + config).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
import torch.distributed as dist
from diffusers.optimization import get_cosine_schedule_with_warmup
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler, Sampler
from tqdm import tqdm

from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.training.batching import LengthGroupedBatchSampler
from motionlcm_node.training.checkpoint import load_checkpoint, save_checkpoint
from motionlcm_node.training.config import TrainConfig

LOGGER = logging.getLogger(__name__)


class Stage(Protocol):
    """What a training stage provides to the loop."""

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """The training items and the function that batches them."""

    def build_model(self) -> nn.Module:
        """The trainable network."""

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise and named terms to log."""

    def export(self, model: nn.Module, directory: Path) -> None:
        """Write the trained network for shipping."""

    def config_dict(self) -> dict[str, object]:
        """The stage configuration (saved as the run's config.json)."""

    # Optional: ``after_step(model)`` runs after every optimiser step (the student's EMA update).


@dataclass
class DistributedContext:
    """Process-group facts for this process."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """True on the process that logs and writes files."""
        return self.rank == 0


def uses_cuda(device: str, local_processes: int, gpu_count: int) -> bool:
    """Whether the training processes on this machine run on CUDA, one device each.

    Args:
        device: the config's ``"auto"``, ``"cuda"`` or ``"cpu"``.
        local_processes: training processes on this machine (torchrun's ``LOCAL_WORLD_SIZE``).
        gpu_count: CUDA devices this process sees.

    Returns:
        True for CUDA; ``"auto"`` takes CUDA only when every local process gets its own device
        (with more processes than devices, all of them train on the CPU over gloo).

    Raises:
        MotionLCMError: ``"cuda"`` with fewer devices than local processes.
    """
    if device == "cpu" or (device == "auto" and local_processes > gpu_count):
        return False
    if local_processes > gpu_count:
        raise MotionLCMError(
            f"device 'cuda' with {local_processes} process(es) on this machine but {gpu_count} CUDA device(s):"
            " start at most one process per device (torchrun --nproc_per_node) or train on 'cpu'"
        )
    return True


def setup_distributed(device: str) -> DistributedContext:
    """Start the process group under torchrun; a no-op for a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    use_cuda = uses_cuda(device, local_processes, torch.cuda.device_count())
    if world_size == 1:
        return DistributedContext(device=torch.device("cuda" if use_cuda else "cpu"))
    rank = int(os.environ["RANK"])
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return DistributedContext(rank, world_size, torch.device("cuda", local_rank))
    return DistributedContext(rank, world_size, torch.device("cpu"))


def move_batch(batch: dict[str, object], device: torch.device) -> dict[str, object]:
    """Tensors of a batch moved to ``device`` (other entries unchanged)."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def motion_text_dataset(config: TrainConfig) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
    """The train split of ``config.data_dir`` as motion-text pairs, with ``collate_motion``."""
    dataset = HumanML3DDataset(config.data_dir, "train", min_length=config.min_length, max_length=config.max_length)
    return dataset, collate_motion


def _data_loader(
    dataset: Dataset, collate: Callable[[list], dict[str, object]], config: TrainConfig, context: DistributedContext
) -> tuple[DataLoader, Sampler]:
    """The loader of one process: random (or length-grouped) batches, a disjoint shard per DDP rank."""
    if config.group_by_length:
        item_lengths = getattr(dataset, "item_lengths", None)
        if item_lengths is None:
            raise MotionLCMError("train: group_by_length needs a dataset of variable-length motions")
        batches = LengthGroupedBatchSampler(
            item_lengths(), config.batch_size, config.seed, rank=context.rank, world_size=context.world_size
        )
        loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=config.num_workers)
        return loader, batches
    if context.world_size > 1:
        sampler: Sampler = DistributedSampler(dataset, context.world_size, context.rank, seed=config.seed)
    else:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(config.seed))
    loader = DataLoader(
        dataset, config.batch_size, sampler=sampler, collate_fn=collate, drop_last=True,
        num_workers=config.num_workers,
    )  # fmt: skip
    return loader, sampler


def train(stage: Stage, config: TrainConfig, resume: bool = True, progress: bool = True) -> Path:
    """Train a stage to ``config.steps`` steps, resuming from the run folder's checkpoint if asked.

    Returns:
        The run folder.
    """
    context = setup_distributed(config.device)
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed + context.rank)
    run = Path(config.out_dir)
    checkpoint = run / "checkpoint"
    dataset, collate = stage.build_dataset()
    loader, sampler = _data_loader(dataset, collate, config, context)
    if len(loader) == 0:
        raise ValueError(f"batch_size {config.batch_size} exceeds the {len(dataset)} training items")

    model = stage.build_model().to(context.device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup_steps, config.steps)
    step = 0
    if resume and (checkpoint / "state.json").is_file():
        step = int(load_checkpoint(checkpoint, model, optimizer, scheduler)["step"])
        torch.manual_seed(config.seed + context.rank + step)  # fresh crops after a restart
        LOGGER.info("resumed %s at step %d", run, step)
    trained = DistributedDataParallel(model) if context.world_size > 1 else model

    if context.is_main:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(stage.config_dict(), indent=2) + "\n")
    log_file = (run / "log.csv").open("a", newline="") if context.is_main else None
    writer = None
    after_step = getattr(stage, "after_step", None)  # optional hook, e.g. an EMA update
    bar = tqdm(total=config.steps, initial=step, desc="train", unit="step", disable=not (progress and context.is_main))
    start, epoch = time.perf_counter(), step // max(len(loader), 1)
    try:
        while step < config.steps:
            if isinstance(sampler, (DistributedSampler, LengthGroupedBatchSampler)):
                sampler.set_epoch(epoch)
            for batch in loader:
                model.train()
                loss, terms = stage.loss(trained, move_batch(batch, context.device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip > 0:
                    nn.utils.clip_grad_norm_(parameters, config.grad_clip)
                optimizer.step()
                scheduler.step()
                if after_step is not None:
                    after_step(model)
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.4f}")
                if log_file is not None and (step % config.log_every == 0 or step == config.steps):
                    row = {"step": step, "seconds": round(time.perf_counter() - start, 2),
                           "lr": scheduler.get_last_lr()[0], "loss": loss.item(), **terms}  # fmt: skip
                    if writer is None:
                        writer = csv.DictWriter(log_file, fieldnames=list(row))
                        if log_file.tell() == 0:
                            writer.writeheader()
                    writer.writerow(row)
                    log_file.flush()
                if context.is_main and (step % config.checkpoint_every == 0 or step == config.steps):
                    save_checkpoint(checkpoint, model, optimizer, scheduler, step)
                if step >= config.steps:
                    break
            epoch += 1
        if context.is_main:
            stage.export(model, run / "model")
    finally:
        bar.close()
        if log_file is not None:
            log_file.close()
        if context.world_size > 1:
            dist.destroy_process_group()
    return run
