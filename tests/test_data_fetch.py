"""Batch-wise fetching (genlab.data.batched) yields the per-image path's batches bit for bit."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate

from genlab.data import FashionMNISTDataModule
from genlab.data.base import ImageDataModule
from genlab.data.batched import SampleBatch
from genlab.data.image_folder import ImageFolderDataModule
from genlab.data.resumable import EpochShuffle

from .conftest import FASHION_MNIST_MIRROR


class RandomRGB(ImageDataModule):
    """3-channel uint8 images in memory, 100 for training and validation, 50 for testing."""

    def load_split(self, split: str) -> Dataset:
        count = 100 if split == "train" else 50
        generator = torch.Generator().manual_seed(count)
        images = torch.randint(0, 256, (count, 3, 8, 8), dtype=torch.uint8, generator=generator)
        return TensorDataset(images, torch.randint(0, 10, (count,), generator=generator))


def assert_identical(batch: list[Tensor], per_image: list[Tensor]) -> None:
    """Same types, dtypes, shapes and bits (so -0.0 and 0.0 differ)."""
    assert type(batch) is type(per_image) is list and len(batch) == len(per_image)
    for got, expected in zip(batch, per_image, strict=True):
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
        same = got.contiguous().view(torch.uint8) == expected.contiguous().view(torch.uint8)
        assert bool(same.all()), f"{int((~same).sum())} of {same.numel()} bytes differ"


def assert_batches_match(loader: DataLoader, limit: int | None = None) -> int:
    """The loader's batches against the per-image path over the same indices: one
    ``dataset[i]`` per image, then ``default_collate``; returns the number of images compared."""
    dataset = loader.dataset
    index_batches = list(islice(iter(loader.batch_sampler), limit))  # type: ignore[arg-type]
    assert index_batches, "nothing to compare"
    compared = 0
    for indices, batch in zip(index_batches, islice(loader, limit), strict=True):
        assert_identical(batch, default_collate([dataset[i] for i in indices]))
        compared += len(indices)
    return compared


def loaders(datamodule: ImageDataModule) -> list[tuple[str, DataLoader, int | None]]:
    datamodule.setup("fit")
    return [
        ("train", datamodule.train_dataloader(), 12),
        ("val", datamodule.val_dataloader(), None),
        ("test", datamodule.test_dataloader(), None),
    ]


def fashion_mnist(
    root: Path, value_range: tuple[float, float], batch_size: int, num_workers: int = 0
) -> FashionMNISTDataModule:
    return FashionMNISTDataModule(
        root=str(root), mirrors=[str(FASHION_MNIST_MIRROR)], download=False,
        value_range=value_range, batch_size=batch_size, val_size=5000, num_workers=num_workers,
        metrics_extractor=None,
    )  # fmt: skip


@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0)])
def test_fashion_mnist_batches_are_those_of_the_per_image_path(
    fashion_mnist_root: Path, value_range: tuple[float, float]
) -> None:
    datamodule = fashion_mnist(fashion_mnist_root, value_range, batch_size=128)
    compared = {}
    for name, loader, limit in loaders(datamodule):
        assert isinstance(loader.dataset.__getitems__([3, 1, 2]), SampleBatch)  # the fast path
        compared[name] = assert_batches_match(loader, limit)
    # Validation and test end on a partial batch (5000 and 10000 are not multiples of 128).
    assert compared == {"train": 12 * 128, "val": 5000, "test": 10000}


def test_batches_after_a_mid_epoch_resume_are_those_of_the_per_image_path(
    fashion_mnist_root: Path,
) -> None:
    datamodule = fashion_mnist(fashion_mnist_root, (-1.0, 1.0), batch_size=64)
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    assert isinstance(loader.sampler, EpochShuffle)
    uninterrupted = [batch[0] for batch in islice(loader, 10)]
    loader.sampler.resume(epoch=0, skip=7 * 64)
    resumed = list(islice(loader, 3))
    assert all(torch.equal(a, b[0]) for a, b in zip(uninterrupted[7:], resumed, strict=True))
    assert_batches_match(loader, 3)


def test_three_channel_tensors_and_partial_batches(tmp_path: Path) -> None:
    datamodule = RandomRGB(
        image_size=8, channels=3, value_range=(0, 1), batch_size=32, val_size=30,
        num_workers=0, metrics_extractor=None,
    )  # fmt: skip
    compared = {
        name: assert_batches_match(loader, limit) for name, loader, limit in loaders(datamodule)
    }
    # 70 training images: 2 full batches (drop_last); 30 and 50 end in a partial batch.
    assert compared == {"train": 64, "val": 30, "test": 50}


def test_a_worker_process_hands_on_the_same_batches(fashion_mnist_root: Path) -> None:
    datamodule = fashion_mnist(fashion_mnist_root, (-1.0, 1.0), batch_size=128, num_workers=1)
    datamodule.setup("fit")
    assert_batches_match(datamodule.val_dataloader())


def test_image_files_keep_the_per_image_path(image_folder: Path) -> None:
    datamodule = ImageFolderDataModule(
        path=str(image_folder), image_size=16, channels=3, value_range=(-1, 1), batch_size=10,
        val_size=8, num_workers=0, metrics_extractor=None,
    )  # fmt: skip
    for _, loader, limit in loaders(datamodule):
        assert not isinstance(loader.dataset.__getitems__([0, 1]), SampleBatch)
        assert_batches_match(loader, limit)
