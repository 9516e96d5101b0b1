"""Batch-wise fetching: a batch of in-memory images is one gather and one scaling, not one of
each per image.

PyTorch's DataLoader calls ``dataset.__getitems__(indices)`` for a whole batch when the dataset
has it, and passes the result to its collate function. :class:`SampleBatch` is what a batch
gathered in one piece looks like there: :func:`collate` hands its two tensors on as they are,
and ``default_collate`` (a loader built elsewhere) still reads it as a sequence of samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset, TensorDataset, default_collate


def gather(dataset: Dataset, indices: Sequence[int]) -> tuple[Tensor, Tensor] | None:
    """(images, labels) at ``indices`` of a two-tensor TensorDataset, through any Subsets, with
    one indexing per tensor; None for other datasets (files decoded one by one, for instance)."""
    while isinstance(dataset, Subset):
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or len(dataset.tensors) != 2:
        return None
    index = torch.as_tensor(indices, dtype=torch.long)
    images, labels = dataset.tensors
    return images[index], labels[index]


class SampleBatch(Sequence[tuple[Tensor, Tensor]]):
    """A batch of (image, label) samples held as its two stacked tensors."""

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        return self.images[index], self.labels[index]


def collate(batch: Sequence[Any]) -> Any:
    """``default_collate``, except that a :class:`SampleBatch` is already collated: stacking it
    again would copy every image a second time."""
    if isinstance(batch, SampleBatch):
        return [batch.images, batch.labels]  # default_collate's type for (image, label) samples
    return default_collate(batch)
