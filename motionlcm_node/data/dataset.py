"""A torch dataset over the HumanML3D layout (ours from ``motionlcm data prepare``, or the real one).

Each item is one (motion, caption) pair: a random crop of a clip to a multiple of ``unit_length``
frames (as HumanML3D's loader: one unit shorter with probability 1/3), at most ``max_length``
frames, normalised with the dataset's ``Mean.npy`` / ``Std.npy``, with one of its captions drawn at
random. Captions with start/end times (HumanML3D's ``#start#end`` in seconds) become their own
items covering only that segment. Randomness comes from torch's generator, so ``torch.manual_seed``
makes it reproducible and DataLoader workers get distinct streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from motionlcm_node.data.layout import FEATURE_DIM, FPS
from motionlcm_node.data.splits import read_split_file
from motionlcm_node.errors import MotionDataError, MotionLCMError


@dataclass(frozen=True)
class MotionEntry:
    """One clip (or captioned segment of a clip) available for sampling.

    Attributes:
        name: clip name (``name@start-end`` for a segment).
        features: [T, 263] un-normalised features.
        captions: captions that describe exactly these frames.
    """

    name: str
    features: np.ndarray
    captions: tuple[str, ...]


def parse_text_file(path: Path) -> list[tuple[str, float, float]]:
    """Captions of a HumanML3D text file as (caption, start s, end s); 0/0 means the whole clip."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        parts = line.split("#")
        caption = parts[0].strip()
        try:
            start = float(parts[2]) if len(parts) > 2 and parts[2] else 0.0
            end = float(parts[3]) if len(parts) > 3 and parts[3] else 0.0
        except ValueError:
            start = end = 0.0
        if caption:
            entries.append((caption, 0.0 if np.isnan(start) else start, 0.0 if np.isnan(end) else end))
    return entries


class HumanML3DDataset(Dataset):
    """Motion-text pairs from a folder in the HumanML3D layout.

    Args:
        root: folder with ``new_joint_vecs/``, ``texts/``, ``Mean.npy``, ``Std.npy`` and split files.
        split: ``"train"``, ``"val"`` or ``"test"`` (reads ``{split}.txt``).
        min_length: clips (segments) shorter than this many frames are left out.
        max_length: longer clips are randomly cropped to this many frames.
        unit_length: crop lengths are multiples of this many frames.
        mean: [263] feature mean (default: the folder's ``Mean.npy``).
        std: [263] feature std (default: the folder's ``Std.npy``).
    """

    def __init__(
        self,
        root: str | Path,
        split: str,
        *,
        min_length: int = 40,
        max_length: int = 196,
        unit_length: int = 4,
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
    ) -> None:
        self.root = Path(root)
        if min_length < unit_length or max_length < min_length:
            raise MotionLCMError(
                f"need unit_length <= min_length <= max_length, got {unit_length}, {min_length}, {max_length}"
            )
        self.min_length, self.max_length, self.unit_length = min_length, max_length, unit_length
        self.mean = np.asarray(mean if mean is not None else self._load_array("Mean.npy"), dtype=np.float32)
        self.std = np.asarray(std if std is not None else self._load_array("Std.npy"), dtype=np.float32)
        if self.mean.shape != (FEATURE_DIM,) or self.std.shape != (FEATURE_DIM,) or np.any(self.std <= 0):
            raise MotionLCMError(f"{self.root}: Mean/Std must be [{FEATURE_DIM}] with a positive std")
        self.entries: list[MotionEntry] = []
        self.rejected: dict[str, str] = {}
        for name in read_split_file(self.root / f"{split}.txt"):
            try:
                self.entries.extend(self._load_clip(name))
            except MotionDataError as error:
                self.rejected[name] = str(error)
        if not self.entries:
            raise MotionLCMError(
                f"{self.root}: no usable clips in split {split!r} "
                f"({len(self.rejected)} rejected, min_length {min_length})"
            )

    def _load_array(self, name: str) -> np.ndarray:
        try:
            return np.load(self.root / name, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise MotionLCMError(f"{self.root / name}: cannot load ({error})") from None

    def _load_clip(self, name: str) -> list[MotionEntry]:
        try:
            features = np.load(self.root / "new_joint_vecs" / f"{name}.npy", allow_pickle=False)
            texts = parse_text_file(self.root / "texts" / f"{name}.txt")
        except (OSError, ValueError) as error:
            raise MotionDataError(f"{name}: cannot load ({error})") from None
        if features.ndim != 2 or features.shape[1] != FEATURE_DIM or not np.all(np.isfinite(features)):
            raise MotionDataError(f"{name}: features must be finite [T, {FEATURE_DIM}]")
        whole = tuple(caption for caption, start, end in texts if start == 0.0 and end == 0.0)
        entries = []
        if whole and len(features) >= self.min_length:
            entries.append(MotionEntry(name, features.astype(np.float32), whole))
        for caption, start, end in texts:
            if start == 0.0 and end == 0.0:
                continue
            segment = features[int(start * FPS) : int(end * FPS)]
            if len(segment) >= self.min_length:
                entries.append(MotionEntry(f"{name}@{start:g}-{end:g}", segment.astype(np.float32), (caption,)))
        if not entries:
            raise MotionDataError(f"{name}: {len(features)} frames or no captions (min_length {self.min_length})")
        return entries

    def __len__(self) -> int:
        return len(self.entries)

    def item_lengths(self) -> list[int]:
        """Frames of every item before the random one-unit shortening (capped at ``max_length``)."""
        return [min(len(entry.features), self.max_length) for entry in self.entries]

    def crop_length(self, num_frames: int) -> int:
        """A random training length for a clip of ``num_frames`` frames (multiple of ``unit_length``)."""
        length = min(num_frames, self.max_length)
        units = length // self.unit_length
        if units > self.min_length // self.unit_length and torch.randint(3, ()).item() == 0:
            units -= 1
        return units * self.unit_length

    def normalize(self, features: np.ndarray) -> np.ndarray:
        """Raw features to the normalised space the models see."""
        return (features - self.mean) / self.std

    def denormalize(self, features: np.ndarray) -> np.ndarray:
        """Normalised features back to raw features."""
        return features * self.std + self.mean

    def __getitem__(self, index: int) -> dict[str, object]:
        entry = self.entries[index]
        length = self.crop_length(len(entry.features))
        start = int(torch.randint(len(entry.features) - length + 1, ()).item())
        caption = entry.captions[int(torch.randint(len(entry.captions), ()).item())]
        motion = self.normalize(entry.features[start : start + length])
        return {"motion": torch.from_numpy(motion), "length": length, "text": caption, "name": entry.name}


def collate_motion(batch: list[dict[str, object]]) -> dict[str, object]:
    """Pad a list of items into a batch.

    Returns:
        ``motion`` [B, T_max, 263] float32 (zeros after each length), ``mask`` [B, T_max] bool (True
        on valid frames), ``lengths`` [B] int64, ``texts`` list of B captions, ``names`` list of B.
    """
    lengths = torch.tensor([int(item["length"]) for item in batch], dtype=torch.long)
    motion = torch.zeros(len(batch), int(lengths.max()), FEATURE_DIM)
    for row, item in enumerate(batch):
        motion[row, : int(lengths[row])] = item["motion"]
    mask = torch.arange(motion.shape[1])[None, :] < lengths[:, None]
    return {
        "motion": motion,
        "mask": mask,
        "lengths": lengths,
        "texts": [str(item["text"]) for item in batch],
        "names": [str(item["name"]) for item in batch],
    }
