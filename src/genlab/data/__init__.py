"""LightningDataModules: local files and mirrors first, downloads only for users online."""

from genlab.data.base import ImageDataModule
from genlab.data.image_folder import ImageFolderDataModule
from genlab.data.torchvision_sets import (
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
)

__all__ = [
    "CIFAR10DataModule",
    "FashionMNISTDataModule",
    "ImageDataModule",
    "ImageFolderDataModule",
    "MNISTDataModule",
]
