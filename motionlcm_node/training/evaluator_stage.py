"""Training stage of our text-motion evaluator (contrastive; train split only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from motionlcm_node.networks.evaluator import EvaluatorConfig, MotionTextEvaluator
from motionlcm_node.postprocess.normalizer import save_normalizer
from motionlcm_node.training.checkpoint import export_model
from motionlcm_node.training.config import TrainConfig, config_to_dict
from motionlcm_node.training.loop import motion_text_dataset
from motionlcm_node.training.stages import dataset_normalizer
from motionlcm_node.training.text_vectors import dataset_text_vectors


@dataclass(frozen=True)
class EvaluatorStageConfig:
    """Evaluator training: symmetric InfoNCE between sentence vectors and motions."""

    train: TrainConfig = field(default_factory=TrainConfig)
    model: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    text_model: str | None = None


class EvaluatorStage:
    """Contrastive evaluator training stage."""

    def __init__(self, config: EvaluatorStageConfig) -> None:
        self.config = config
        self.normalizer = dataset_normalizer(config.train.data_dir)
        self.text_vectors, self.text_model_id = dataset_text_vectors(config.train.data_dir, config.text_model)

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """Motion-text pairs of the train split."""
        return motion_text_dataset(self.config.train)

    def build_model(self) -> nn.Module:
        """A fresh evaluator."""
        return MotionTextEvaluator(self.config.model)

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """InfoNCE over the batch."""
        core = model.module if isinstance(model, DistributedDataParallel) else model
        vectors = torch.from_numpy(self.text_vectors.encode(list(batch["texts"]))).to(batch["motion"].device)
        text_latent, motion_latent = model(vectors, batch["motion"], batch["mask"])
        loss = core.contrastive_loss(text_latent, motion_latent, vectors)
        with torch.no_grad():
            targets = torch.arange(len(vectors), device=text_latent.device)
            accuracy = (text_latent @ motion_latent.T).argmax(dim=1).eq(targets).float().mean()
        return loss, {"batch_top1": accuracy.item()}

    def export(self, model: nn.Module, directory: Path) -> None:
        """Weights, config, text model id and feature statistics."""
        export_model(model, {"evaluator": self.config.model.to_dict(), "text_model": self.text_model_id}, directory)
        save_normalizer(self.normalizer, directory / "normalizer.safetensors")

    def config_dict(self) -> dict[str, object]:
        """The stage configuration."""
        return config_to_dict(self.config)
