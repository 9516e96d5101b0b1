"""Fashion-MNIST's training split as the reference loops read it: the IDX files through
torchvision, a held-out validation split, pixels scaled linearly to the model's range."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import DataLoader, TensorDataset, random_split
from torchvision import datasets


def fashion_mnist_train(
    root: str, val_size: int, split_seed: int, value_range: Sequence[float]
) -> TensorDataset:
    """The training images (the split's validation part held out), as floats in value_range."""
    raw = datasets.FashionMNIST(root, train=True, download=False)
    images = raw.data.unsqueeze(1)
    total = len(images)
    train, _ = random_split(
        range(total),
        [total - val_size, val_size],
        generator=torch.Generator().manual_seed(split_seed),
    )
    low, high = value_range
    picked = images[torch.tensor(train.indices)].float() / 255.0
    return TensorDataset(picked * (high - low) + low)


def shuffled_batches(dataset: TensorDataset, batch_size: int) -> DataLoader:
    """Reshuffled from the global torch RNG when iterated; incomplete last batch dropped."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
