"""The shared DataModule: train/validation split, batching, scaling to the model's range."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split

from genlab.data.batched import SampleBatch, collate, gather
from genlab.data.resumable import EpochShuffle, ResumableLoader
from genlab.errors import ConfigError


def to_value_range(images: Tensor, value_range: Sequence[float]) -> Tensor:
    """uint8 images in [0, 255] -> float images in [low, high]."""
    low, high = value_range
    return images.float().div_(255.0).mul_(high - low).add_(low)


class ScaledImages(Dataset):
    """Wraps a dataset of (uint8 CHW image, label) and scales images to the model's range."""

    def __init__(self, source: Dataset, value_range: Sequence[float]) -> None:
        self.source = source
        self.value_range = tuple(value_range)

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, label = self.source[index]
        return to_value_range(image, self.value_range), label

    def __getitems__(self, indices: list[int]) -> Sequence[tuple[Tensor, int | Tensor]]:
        """A whole batch, the DataLoader's fast path (genlab.data.batched); the same values."""
        gathered = gather(self.source, indices)
        if gathered is None:
            return [self[index] for index in indices]
        images, labels = gathered
        return SampleBatch(to_value_range(images, self.value_range), labels)


class UInt8RGB(Dataset):
    """Images only, uint8, 3 channels (grayscale repeated): the input format of torch-fidelity.

    ``source`` yields uint8 (C, H, W) images first in each item, as (image, label) datasets do;
    :meth:`from_tensor` wraps a batch of images such as a model's samples.
    """

    def __init__(self, source: Dataset) -> None:
        self.source = source

    @classmethod
    def from_tensor(cls, images: Tensor) -> UInt8RGB:
        """A (N, C, H, W) uint8 tensor."""
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"expected uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        return cls(TensorDataset(images))

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> Tensor:
        image = self.source[index][0]
        return image.expand(3, -1, -1) if image.shape[0] == 1 else image


class ImageDataModule(pl.LightningDataModule):
    """Subclasses provide uint8 (C, H, W) datasets through :meth:`load_split`."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        value_range: Sequence[float],
        val_size: int | float,
        num_workers: int,
        metrics_extractor: str | None,
        batch_size: int = 64,
        split_seed: int = 0,
        shuffle_seed: int = 0,
    ) -> None:
        super().__init__()
        # The feature extractor this dataset's metrics default to (metrics.extractor).
        self.metrics_extractor = metrics_extractor
        if batch_size < 1:
            raise ConfigError(f"data.batch_size must be at least 1, got {batch_size}")
        if val_size < 0 or (isinstance(val_size, float) and val_size >= 1):
            raise ConfigError(
                f"data.val_size must be a count >= 0 or a fraction in [0, 1), got {val_size}"
            )
        if channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {channels}")
        self.image_size = image_size
        self.channels = channels
        self.value_range = tuple(float(v) for v in value_range)
        self.batch_size = batch_size
        self.val_size = val_size
        self.num_workers = num_workers
        self.split_seed = split_seed
        self.shuffle_seed = shuffle_seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None

    @property
    def cache_key(self) -> str:
        """Names this data source in cached statistics (subclasses add what tells sources apart)."""
        return type(self).__name__.removesuffix("DataModule").lower()

    @abstractmethod
    def load_split(self, split: str) -> Dataset:
        """A dataset of (uint8 image (C, H, W) at ``image_size``, label) for 'train' or 'test'."""

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        full = self.load_split("train")
        total = len(full)  # type: ignore[arg-type]
        val_count = (
            int(self.val_size * total) if isinstance(self.val_size, float) else self.val_size
        )
        if val_count >= total:
            raise ConfigError(
                f"data.val_size={self.val_size} leaves no training images out of {total}; "
                "lower data.val_size"
            )
        split_source = torch.Generator().manual_seed(self.split_seed)
        train, val = random_split(full, [total - val_count, val_count], generator=split_source)
        self.train_set = ScaledImages(train, self.value_range)
        self.val_set = ScaledImages(val, self.value_range)
        self.test_set = ScaledImages(self.load_split("test"), self.value_range)

    def _loader(self, dataset: Dataset | None) -> DataLoader:
        assert dataset is not None, "setup() must run before the dataloaders are requested"
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=collate,
        )

    def train_dataloader(self) -> DataLoader:
        """Each epoch a permutation drawn from ``shuffle_seed + epoch``, each process its shard
        (docs/decisions.md); resumable mid-epoch."""
        assert self.train_set is not None, "setup() must run before the dataloaders are requested"
        sampler = EpochShuffle(self.train_set, self.shuffle_seed, self.trainer)
        return ResumableLoader(
            self.train_set,
            sampler,
            batch_size=self.batch_size,
            drop_last=len(sampler) >= self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=collate,
            # Worker seeds from the loader's own generator: drawn from the global RNG, they
            # would make the latents depend on how often Lightning starts an iterator, which
            # differs between a resumed run and an uninterrupted one.
            generator=torch.Generator().manual_seed(self.shuffle_seed),
        )

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def uint8_images(self, split: str) -> Dataset:
        """The split as torch-fidelity reads it: uint8 (3, H, W) images, grayscale repeated."""
        return UInt8RGB(self.load_split(split))
