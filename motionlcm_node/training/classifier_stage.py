"""Training stage of the action classifier (train split joints; the command benchmark's judge).

Items are the train split's clips (mirrors included) with their fine action label. Rare actions are
repeated so that every action has at least ``min_items_per_class`` items per epoch, and every item
is augmented (a random crop of ``min_crop_fraction`` to all of the clip, at least ``min_length``
frames; a random speed change; a random body scale), so the repeats are not copies. The loss is cross-entropy with label
smoothing. Features (``evaluation.action_features``) are normalised with the train split's
per-feature mean and std, exported beside the weights.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import Dataset

from motionlcm_node.data.splits import read_split_file
from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.action_features import action_features
from motionlcm_node.evaluation.actions import ACTIONS, clip_action
from motionlcm_node.networks.action_classifier import ActionClassifier, ActionClassifierConfig
from motionlcm_node.postprocess.normalizer import FeatureNormalizer, save_normalizer
from motionlcm_node.training.checkpoint import export_model
from motionlcm_node.training.config import TrainConfig, config_to_dict


@dataclass(frozen=True)
class ClassifierSizes:
    """The ``model`` part of the stage config: ``ActionClassifierConfig`` without the labels."""

    width: int = 128
    num_layers: int = 4
    kernel: int = 5
    dropout: float = 0.2


@dataclass(frozen=True)
class ClassifierStageConfig:
    """Classifier training settings.

    Attributes:
        train: the shared settings (``min_length`` / ``max_length``: crop bounds, frames).
        model: the network's sizes (its labels are the known actions).
        min_items_per_class: rare actions are repeated up to this many items per epoch.
        min_crop_fraction: shortest random crop, as a fraction of the clip (and at least
            ``train.min_length`` frames): generated motions may show part of a long clip's action.
        speed_range: random playback speed factor range (1 = as recorded).
        scale_range: random body-size factor range.
        label_smoothing: cross-entropy label smoothing.
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    model: ClassifierSizes = field(default_factory=ClassifierSizes)
    min_items_per_class: int = 150
    min_crop_fraction: float = 0.5
    speed_range: tuple[float, float] = (0.8, 1.25)
    scale_range: tuple[float, float] = (0.9, 1.1)
    label_smoothing: float = 0.1


def load_split_joints(data_dir: Path, split: str, min_length: int = 2) -> list[tuple[str, np.ndarray]]:
    """(name, joints [T, 22, 3]) of every clip of a split with a known action and at least ``min_length`` frames."""
    clips = []
    for name in read_split_file(Path(data_dir) / f"{split}.txt"):
        try:
            clip_action(name)
        except KeyError:
            continue
        joints = np.load(Path(data_dir) / "new_joints" / f"{name}.npy", allow_pickle=False).astype(np.float32)
        if len(joints) >= min_length:
            clips.append((name, joints))
    if not clips:
        raise MotionLCMError(f"{data_dir}: no clip of a known action in split {split!r}")
    return clips


def resample(joints: np.ndarray, speed: float) -> np.ndarray:
    """``joints`` [T, 22, 3] played ``speed`` times faster (linear interpolation in time)."""
    count = max(round((len(joints) - 1) / speed) + 1, 2)
    times = np.linspace(0.0, len(joints) - 1, count)
    low = np.floor(times).astype(int)
    high = np.minimum(low + 1, len(joints) - 1)
    weight = (times - low)[:, None, None]
    return ((1 - weight) * joints[low] + weight * joints[high]).astype(np.float32)


class ActionClipDataset(Dataset):
    """Augmented, class-balanced train clips: items ``{"features" [T, F] normalised, "label"}``."""

    def __init__(self, config: ClassifierStageConfig, normalizer: FeatureNormalizer) -> None:
        self.config, self.normalizer = config, normalizer
        self.clips = load_split_joints(Path(config.train.data_dir), "train", config.train.min_length)
        self.labels = [ACTIONS.index(clip_action(name)) for name, _ in self.clips]
        by_label: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(self.labels):
            by_label[label].append(index)
        self.order = []
        for indices in by_label.values():
            repeats = max(1, -(-config.min_items_per_class // len(indices)))
            self.order += indices * repeats

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, item: int) -> dict[str, object]:
        index = self.order[item]
        joints = self.clips[index][1]
        settings, train = self.config, self.config.train
        rng = np.random.default_rng(int(torch.randint(2**31 - 1, ()).item()))
        joints = resample(joints, float(rng.uniform(*settings.speed_range))) * float(rng.uniform(*settings.scale_range))
        shortest = min(len(joints), train.min_length)
        low = max(shortest, int(len(joints) * settings.min_crop_fraction))
        length = int(rng.integers(low, len(joints) + 1))
        length = min(length, train.max_length)
        start = int(rng.integers(0, len(joints) - length + 1))
        features = action_features(joints[start : start + length])
        normalised = self.normalizer.normalize(torch.from_numpy(features))
        return {"features": normalised, "label": self.labels[index]}


def collate_clips(batch: list[dict[str, object]]) -> dict[str, object]:
    """Pad to ``features`` [B, T_max, F] with ``mask`` [B, T_max] and ``labels`` [B]."""
    longest = max(len(item["features"]) for item in batch)
    features = torch.zeros(len(batch), longest, batch[0]["features"].shape[1])
    mask = torch.zeros(len(batch), longest, dtype=torch.bool)
    for row, item in enumerate(batch):
        features[row, : len(item["features"])] = item["features"]
        mask[row, : len(item["features"])] = True
    labels = torch.tensor([item["label"] for item in batch], dtype=torch.long)
    return {"features": features, "mask": mask, "labels": labels}


def feature_statistics(data_dir: Path, min_length: int) -> FeatureNormalizer:
    """Per-feature mean and std over every frame of the train split (std floored at 1e-3)."""
    stacked = np.concatenate(
        [action_features(joints) for _, joints in load_split_joints(data_dir, "train", min_length)]
    )
    std = np.maximum(stacked.std(axis=0), 1e-3)
    return FeatureNormalizer(torch.from_numpy(stacked.mean(axis=0)).float(), torch.from_numpy(std).float())


class ClassifierStage:
    """Action classifier training stage (see the module docstring)."""

    def __init__(self, config: ClassifierStageConfig) -> None:
        self.config = config
        self.model_config = ActionClassifierConfig(**asdict(config.model), labels=ACTIONS)
        self.normalizer = feature_statistics(Path(config.train.data_dir), config.train.min_length)

    def build_dataset(self) -> tuple[Dataset, Callable[[list], dict[str, object]]]:
        """Balanced, augmented train clips."""
        return ActionClipDataset(self.config, self.normalizer), collate_clips

    def build_model(self) -> nn.Module:
        """A fresh classifier."""
        return ActionClassifier(self.model_config)

    def loss(self, model: nn.Module, batch: dict[str, object]) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy with label smoothing."""
        logits = model(batch["features"], batch["mask"])
        loss = functional.cross_entropy(logits, batch["labels"], label_smoothing=self.config.label_smoothing)
        accuracy = logits.argmax(dim=1).eq(batch["labels"]).float().mean().item()
        return loss, {"batch_accuracy": accuracy}

    def export(self, model: nn.Module, directory: Path) -> None:
        """Weights, config (with the label order) and the feature statistics."""
        export_model(model, {"action_classifier": self.model_config.to_dict()}, directory)
        save_normalizer(self.normalizer, directory / "normalizer.safetensors")

    def config_dict(self) -> dict[str, object]:
        """The stage configuration."""
        return config_to_dict(self.config)
