"""Class balance for the generators: repeat the latent-bank items of rare actions.

The train split has 300-700 clips of each common action and 2-26 of the rare ones (kick, punch,
slash, bow, walking backwards or sideways...); trained on it as drawn, the teacher and the student
never produce the rare actions (measured with the action classifier, ``motionlcm eval
--training-style``). With ``min_items_per_action`` > 0 every action gets at least that many latent
bank items per epoch, by repeating its items (each draw is a fresh posterior sample of a random crop
with a random caption, so repeats are not copies). Clips whose content is not a known action keep
their single share.
"""

from __future__ import annotations

from collections import defaultdict

from torch.utils.data import Dataset

from motionlcm_node.data.dataset import HumanML3DDataset
from motionlcm_node.evaluation.actions import clip_action
from motionlcm_node.training.config import TrainConfig


def bank_item_actions(train: TrainConfig, bank_size: int) -> list[str | None]:
    """The action of every latent-bank item (the bank repeats the train dataset's items in order)."""
    dataset = HumanML3DDataset(train.data_dir, "train", min_length=train.min_length, max_length=train.max_length)
    names = [entry.name.split("@")[0] for entry in dataset.entries]
    if bank_size % len(names):
        raise ValueError(f"a bank of {bank_size} items is not a whole number of passes over {len(names)} items")
    actions = []
    for name in names:
        try:
            actions.append(clip_action(name))
        except KeyError:
            actions.append(None)
    return [actions[index % len(names)] for index in range(bank_size)]


def balanced_order(actions: list[str | None], min_items_per_action: int) -> list[int]:
    """Item indices with each known action's items repeated to at least ``min_items_per_action``."""
    by_action: dict[str | None, list[int]] = defaultdict(list)
    for index, action in enumerate(actions):
        by_action[action].append(index)
    order = []
    for action, indices in by_action.items():
        repeats = 1 if action is None else max(1, -(-min_items_per_action // len(indices)))
        order += indices * repeats
    return sorted(order)


class RepeatedItems(Dataset):
    """A view of ``base`` that serves ``order[k]`` as item ``k``."""

    def __init__(self, base: Dataset, order: list[int]) -> None:
        self.base, self.order = base, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index: int) -> object:
        return self.base[self.order[index]]
