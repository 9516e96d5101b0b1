"""Fashion-MNIST's training split as the reference loops read it: the IDX files through
torchvision, a held-out validation split, pixels scaled linearly to the model's range."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import count

import torch
from torch import Tensor
from torch.utils.data import TensorDataset, random_split
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


def shuffled_batches(dataset: TensorDataset, batch_size: int, seed: int) -> Iterator[list[Tensor]]:
    """Epoch e visits the images in the order of torch.randperm drawn from a generator seeded
    with seed + e, in consecutive batches, the incomplete last one dropped. The global torch RNG
    is not drawn from."""
    (images,) = dataset.tensors
    for epoch in count():
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed + epoch))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [images[order[start : start + batch_size]]]
