"""Posterior latents of many random crops of every training clip, encoded once by the frozen VAE.

The teacher (and later the consistency student) sees a clip only through the frozen VAE, so
encoding ``crops_per_clip`` random crops of every clip once, and sampling ``mean + std * noise``
from this bank at each step, replaces a VAE forward pass per batch with a table lookup (the VAE
encoder is the most expensive part of a teacher step on the CPU). Saved beside the run as
safetensors + JSON so a resumed run does not encode again.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import Dataset
from tqdm import tqdm

from motionlcm_node.data.dataset import HumanML3DDataset, collate_motion
from motionlcm_node.networks.vae import MotionVAE
from motionlcm_node.training.cache_keys import input_digest, load_or_build
from motionlcm_node.training.config import TrainConfig


class LatentBank(Dataset):
    """Items: one crop's posterior (mean, log-variance) [L, D] and one of its clip's captions."""

    def __init__(self, means: torch.Tensor, log_variances: torch.Tensor, captions: list[list[str]]) -> None:
        if not len(means) == len(log_variances) == len(captions):
            raise ValueError("means, log-variances and captions must have one entry per crop")
        self.means, self.log_variances, self.captions = means, log_variances, captions

    def __len__(self) -> int:
        return len(self.means)

    def __getitem__(self, index: int) -> dict[str, object]:
        options = self.captions[index]
        text = options[int(torch.randint(len(options), ()).item())]
        return {"mean": self.means[index], "log_variance": self.log_variances[index], "text": text}

    @classmethod
    @torch.no_grad()
    def encode(
        cls, vae: MotionVAE, dataset: HumanML3DDataset, crops_per_clip: int, seed: int, batch_size: int = 256
    ) -> LatentBank:
        """Encode ``crops_per_clip`` random crops of every item of ``dataset``."""
        torch.manual_seed(seed)
        means, log_variances, captions = [], [], []
        indices = list(range(len(dataset))) * crops_per_clip
        for start in tqdm(range(0, len(indices), batch_size), desc="latent bank", unit="batch"):
            chunk = indices[start : start + batch_size]
            batch = collate_motion([dataset[i] for i in chunk])
            mean, log_variance = vae.encode(batch["motion"], batch["lengths"])
            means.append(mean)
            log_variances.append(log_variance)
            captions.extend(list(dataset.entries[i].captions) for i in chunk)
        return cls(torch.cat(means), torch.cat(log_variances), captions)

    def save(self, path: Path) -> None:
        """Write the bank (tensors as safetensors, captions as JSON beside it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({"means": self.means.contiguous(), "log_variances": self.log_variances.contiguous()}, str(path))
        path.with_suffix(".json").write_text(json.dumps(self.captions))

    @classmethod
    def load(cls, path: Path) -> LatentBank:
        """Read a bank written by ``save``."""
        tensors = load_file(str(path))
        return cls(tensors["means"], tensors["log_variances"], json.loads(path.with_suffix(".json").read_text()))


def sample_latents(batch: dict[str, object], scale: float) -> torch.Tensor:
    """One posterior draw ``(mean + std * noise) * scale`` [B, L, D] of a ``collate_latents`` batch."""
    mean, log_variance = batch["mean"], batch["log_variance"]
    return (mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)) * scale


def collate_latents(items: list[dict[str, object]]) -> dict[str, object]:
    """Batch bank items: ``mean`` and ``log_variance`` [B, L, D], ``texts`` list of B captions."""
    return {
        "mean": torch.stack([item["mean"] for item in items]),
        "log_variance": torch.stack([item["log_variance"] for item in items]),
        "texts": [str(item["text"]) for item in items],
    }


def cached_bank(vae: MotionVAE, vae_dir: Path, train: TrainConfig, crops_per_clip: int, folder: Path) -> LatentBank:
    """The train split's bank for this VAE, read from ``folder`` or encoded and saved there.

    The file name carries a digest of the VAE weights and the crop count, so a bank is never reused
    across VAEs; the teacher and the consistency student of one VAE can share a folder.
    """
    vae_digest = input_digest([vae_dir / "model.safetensors"], what="latent bank")
    path = folder / f"latent_bank_{vae_digest}_{crops_per_clip}.safetensors"

    def encode() -> LatentBank:
        dataset = HumanML3DDataset(train.data_dir, "train", min_length=train.min_length, max_length=train.max_length)
        return LatentBank.encode(vae, dataset, crops_per_clip, train.seed)

    return load_or_build(path, LatentBank.load, encode)
