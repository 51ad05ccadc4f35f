"""Length-grouped batch sampler: every item once per epoch, similar lengths together, DDP shards."""

from __future__ import annotations

import pytest
import torch

from motionlcm_node.training.batching import LengthGroupedBatchSampler


def test_each_item_once_per_epoch_and_batches_are_length_homogeneous() -> None:
    lengths = torch.randint(20, 197, (1000,), generator=torch.Generator().manual_seed(0)).tolist()
    sampler = LengthGroupedBatchSampler(lengths, batch_size=10, seed=3, pool_batches=10)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 100 and all(len(batch) == 10 for batch in batches)
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    # The padded length of a batch (its longest item) is far below that of random batches.
    grouped_padding = sum(max(lengths[i] for i in batch) for batch in batches)
    order = torch.randperm(1000, generator=torch.Generator().manual_seed(1)).tolist()
    random_padding = sum(max(lengths[i] for i in order[k : k + 10]) for k in range(0, 1000, 10))
    assert grouped_padding < 0.75 * random_padding


def test_epochs_reshuffle_and_seeds_reproduce() -> None:
    lengths = list(range(100))
    first = LengthGroupedBatchSampler(lengths, 8, seed=0)
    again = LengthGroupedBatchSampler(lengths, 8, seed=0)
    assert list(first) == list(again)
    epoch_zero = list(first)
    first.set_epoch(1)
    assert list(first) != epoch_zero
    assert len(epoch_zero) == 12  # the incomplete last batch is dropped


def test_ddp_ranks_get_disjoint_equal_shards() -> None:
    lengths = list(range(101))
    shards = [LengthGroupedBatchSampler(lengths, 5, seed=2, rank=r, world_size=2) for r in range(2)]
    items = [{i for batch in shard for i in batch} for shard in shards]
    assert not items[0] & items[1] and len(shards[0]) == len(shards[1]) == 10


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rank"):
        LengthGroupedBatchSampler([1, 2], 1, rank=2, world_size=2)
