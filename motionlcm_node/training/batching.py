"""Length-grouped batches: motions of similar length share a batch, so little compute goes to padding.

Bandai clips average ~76 frames at 20 fps but a batch of 64 random clips is usually padded to the
196-frame cap, so most attention work is spent on padding. Grouping similar lengths (within shuffled
"mega-batches" of ``pool_batches`` batches, then shuffling the batch order) keeps the data order
random at the scale of an epoch while cutting the padded length of a typical batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Yields lists of dataset indices whose lengths are close to each other.

    Args:
        lengths: length (frames) of every dataset item, as it will be cropped.
        batch_size: items per batch (incomplete last batches are dropped).
        seed: base seed; each epoch reshuffles with ``seed + epoch``.
        pool_batches: batches per sorting pool (larger = less padding, less randomness).
        rank: this process's rank under DDP (each rank gets a disjoint slice of the permutation).
        world_size: number of DDP processes.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int = 0,
        pool_batches: int = 50,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1 or pool_batches < 1 or not 0 <= rank < world_size:
            raise ValueError("need batch_size >= 1, pool_batches >= 1 and 0 <= rank < world_size")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)
        self.batch_size, self.seed, self.pool_batches = batch_size, seed, pool_batches
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the shuffle of ``epoch`` (call before iterating, as with ``DistributedSampler``)."""
        self.epoch = epoch

    def _rank_indices(self, generator: torch.Generator) -> torch.Tensor:
        order = torch.randperm(len(self.lengths), generator=generator)
        per_rank = len(order) // self.world_size
        return order[self.rank * per_rank : (self.rank + 1) * per_rank]

    def __len__(self) -> int:
        return (len(self.lengths) // self.world_size) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        indices = self._rank_indices(generator)
        pool = self.batch_size * self.pool_batches
        batches: list[torch.Tensor] = []
        for start in range(0, len(indices), pool):
            chunk = indices[start : start + pool]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        batches = [batch for batch in batches if len(batch) == self.batch_size]
        for position in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[position].tolist()
