"""The trained action classifier as a judge: which known action each motion shows.

    judge = ActionJudge.from_models()          # models/action_classifier
    labels = judge.predict([joints_a, joints_b])  # joints [T, 22, 3] metres, Y up, 20 fps

Used by ``motionlcm eval --commands`` and ``motionlcm eval --classifier``; needs torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.evaluation.action_features import action_features
from motionlcm_node.loading.models import load_weights
from motionlcm_node.networks.action_classifier import ActionClassifier, ActionClassifierConfig
from motionlcm_node.postprocess.normalizer import load_normalizer

CLASSIFIER_FOLDER = "action_classifier"


class ActionJudge:
    """A loaded action classifier (CPU, eval mode).

    Args:
        directory: the exported model folder (``config.json``, ``model.safetensors``, ``normalizer.safetensors``).
    """

    def __init__(self, directory: Path) -> None:
        try:
            config = json.loads((directory / "config.json").read_text())["action_classifier"]
        except (OSError, KeyError, json.JSONDecodeError) as error:
            raise MotionLCMError(f"{directory}: not an action classifier ({error})") from None
        self.config = ActionClassifierConfig.from_dict(config)
        self.labels = self.config.labels
        self.model = ActionClassifier(self.config)
        load_weights(self.model, directory / "model.safetensors")
        self.model.eval()
        self.normalizer = load_normalizer(directory / "normalizer.safetensors")

    @classmethod
    def from_models(cls, models_dir: Path | None = None) -> ActionJudge:
        """The classifier of a models folder (default: the shipped one)."""
        from motionlcm_node.resources import models_dir as shipped

        return cls(Path(models_dir or shipped()) / CLASSIFIER_FOLDER)

    @torch.no_grad()
    def probabilities(self, motions: Sequence[np.ndarray], batch_size: int = 128) -> np.ndarray:
        """[N, labels] class probabilities of N motions (each joints [T >= 2, 22, 3])."""
        rows = []
        for start in range(0, len(motions), batch_size):
            chunk = [torch.from_numpy(action_features(joints)) for joints in motions[start : start + batch_size]]
            longest = max(len(features) for features in chunk)
            batch = torch.zeros(len(chunk), longest, chunk[0].shape[1])
            mask = torch.zeros(len(chunk), longest, dtype=torch.bool)
            for row, features in enumerate(chunk):
                batch[row, : len(features)] = self.normalizer.normalize(features)
                mask[row, : len(features)] = True
            rows.append(torch.softmax(self.model(batch, mask), dim=-1).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, len(self.labels)), np.float32)

    def predict(self, motions: Sequence[np.ndarray]) -> list[str]:
        """The most likely action of each motion."""
        return [self.labels[index] for index in self.probabilities(motions).argmax(axis=1)]


def split_accuracy(
    judge: ActionJudge, data_dir: Path, split: str = "test", vae_dir: Path | None = None
) -> dict[str, object]:
    """The judge on the real clips of a split: fine and coarse accuracy, overall and per action.

    Clips are judged whole (up to 196 frames from their start), the way the benchmark's motions are.
    With ``vae_dir``, each clip is first sent through that VAE (features encoded, the latent mean
    decoded, joints recovered): how much of each action survives the latent space every generator
    samples in.
    """
    from motionlcm_node.evaluation.actions import clip_action, coarse_group
    from motionlcm_node.training.classifier_stage import load_split_joints

    clips = [(name, joints[:196]) for name, joints in load_split_joints(data_dir, split)]
    if vae_dir is not None:
        names = [name for name, _ in clips]
        clips = list(zip(names, vae_round_trip(names, data_dir, vae_dir), strict=True))
    truth = [clip_action(name) for name, _ in clips]
    shown = judge.predict([joints for _, joints in clips])
    per_action: dict[str, dict[str, float]] = {}
    for action in sorted(set(truth)):
        rows = [index for index, label in enumerate(truth) if label == action]
        per_action[action] = {
            "clips": len(rows),
            "fine": float(np.mean([shown[i] == action for i in rows])),
            "coarse": float(np.mean([coarse_group(shown[i]) == coarse_group(action) for i in rows])),
        }
    return {
        "split": split,
        "vae": None if vae_dir is None else str(vae_dir),
        "clips": len(clips),
        "fine": float(np.mean([a == b for a, b in zip(truth, shown, strict=True)])),
        "coarse": float(np.mean([coarse_group(a) == coarse_group(b) for a, b in zip(truth, shown, strict=True)])),
        "actions": per_action,
    }


@torch.no_grad()
def vae_round_trip(names: Sequence[str], data_dir: Path, vae_dir: Path, max_frames: int = 196) -> list[np.ndarray]:
    """Each clip's first ``max_frames`` frames after a VAE round trip: joints [T, 22, 3], metres.

    The clip's features are encoded by the VAE in ``vae_dir``, the latent mean decoded, joints recovered.
    """
    from motionlcm_node.data.recovery import recover_joints
    from motionlcm_node.loading.models import load_vae

    vae, normalizer = load_vae(Path(vae_dir))
    vae.eval()
    joints = []
    for name in names:
        features = np.load(Path(data_dir) / "new_joint_vecs" / f"{name}.npy", allow_pickle=False)[:max_frames]
        batch = normalizer.normalize(torch.from_numpy(features.astype(np.float32))[None])
        decoded, _, _ = vae(batch, torch.tensor([len(features)]), sample=False)
        joints.append(recover_joints(normalizer.denormalize(decoded)[0].numpy()).astype(np.float32))
    return joints
