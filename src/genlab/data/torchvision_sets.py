"""Fashion-MNIST, MNIST and CIFAR-10 through torchvision, held in memory as uint8 tensors.

Fashion-MNIST is found in ``data.root``, then in local mirrors of the original ``.gz`` files
(the Debian package ``dataset-fashion-mnist``), and only then downloaded.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO
from urllib.error import URLError

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset, TensorDataset
from torchvision import datasets
from torchvision.datasets.mnist import read_image_file, read_label_file

from genlab.atomic_write import write_atomic
from genlab.data.base import ImageDataModule
from genlab.errors import ConfigError, DataCorruptError, DataNotFoundError
from genlab.hashing import sha256_of

log = logging.getLogger(__name__)

_NETWORK_ERRORS = (URLError, ConnectionError, TimeoutError, OSError, RuntimeError)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """torchvision's download errors span lines (one per mirror tried); keep the gist."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def download_or_explain(
    allowed: bool, missing_message: Callable[[str], str], fetch: Callable[[], object]
) -> None:
    """Runs torchvision's download; when it is off or fails, the error says what to put where."""
    if not allowed:
        raise DataNotFoundError(missing_message("downloads are off (data.download=false)"))
    try:
        fetch()
    except _NETWORK_ERRORS as exc:
        raise DataNotFoundError(missing_message(f"the download failed ({_one_line(exc)})")) from exc


def resize_uint8(images: Tensor, size: int) -> Tensor:
    """(N, C, H, W) uint8 -> (N, C, size, size) uint8 with antialiased bilinear resizing."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True)
    return resized.round_().clamp_(0, 255).to(torch.uint8)


class _IDXDataModule(ImageDataModule):
    """MNIST-format datasets: four IDX files, optionally gzipped in a mirror folder."""

    dataset_cls: type[datasets.MNIST]
    display_name: str
    files = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    sha256: dict[str, str] = {}  # of the decompressed files, where known offline

    def __init__(
        self,
        root: str,
        mirrors: Sequence[str],
        download: bool = True,
        image_size: int = 28,
        channels: int = 1,
        **kwargs,
    ) -> None:
        if channels != 1:
            raise ConfigError(f"{self.display_name} is grayscale: set data.channels=1")
        super().__init__(image_size=image_size, channels=channels, **kwargs)
        self.root = Path(root)
        self.mirrors = [Path(m) for m in mirrors]
        self.download = download
        self._verified = False  # load_split calls prepare_data again: hash the files once

    @property
    def raw_dir(self) -> Path:
        return self.root / self.dataset_cls.__name__ / "raw"

    def _on_disk(self) -> bool:
        return all((self.raw_dir / name).is_file() for name in self.files)

    def prepare_data(self) -> None:
        if self._on_disk():
            self._verify()
            return
        for mirror in [self.raw_dir, *self.mirrors]:
            if all((mirror / f"{name}.gz").is_file() for name in self.files):
                log.info(
                    "Decompressing %s from %s into %s", self.display_name, mirror, self.raw_dir
                )
                self.raw_dir.mkdir(parents=True, exist_ok=True)
                for name in self.files:
                    _gunzip(mirror / f"{name}.gz", self.raw_dir / name)
                self._verify(mirror)
                return
        download_or_explain(self.download, self._missing_message, self._fetch)

    def _verify(self, mirror: Path | None = None) -> None:
        """Checks the decompressed files against their known SHA256 (when the class has them).
        A file just decompressed from ``mirror`` is removed when bad, so no later run takes it
        for data."""
        if self._verified:
            return
        for name, expected in self.sha256.items():
            path = self.raw_dir / name
            if sha256_of(path) == expected:
                continue
            if mirror is None:
                fix = "delete it and genlab decompresses it again from a mirror"
            else:
                path.unlink()
                fix = f"its source {mirror / name}.gz is damaged: replace it{self._extra_fix()}"
            raise DataCorruptError(
                f"{self.display_name} file {path} is corrupt (SHA256 mismatch); {fix}"
            )
        self._verified = True

    def _fetch(self) -> None:
        self.dataset_cls(str(self.root), train=True, download=True)
        self.dataset_cls(str(self.root), train=False, download=True)

    def _missing_message(self, reason: str) -> str:
        searched = ", ".join(str(p) for p in [self.raw_dir, *self.mirrors])
        return (
            f"{self.display_name} is not on this machine and {reason}. Searched: {searched}. "
            f"Fix: put the four files {', '.join(self.files)} (or their .gz) into {self.raw_dir}"
            f"{self._extra_fix()}, or set data.root to a folder that holds them."
        )

    def _extra_fix(self) -> str:
        return ""

    def load_split(self, split: str) -> Dataset:
        """The split from the IDX files in ``raw_dir`` (those :meth:`prepare_data` checked).
        Not through torchvision's dataset class: it prefers the tensors of its old format in
        ``processed/`` when that folder holds them, files no digest covers."""
        self.prepare_data()
        prefix = "train" if split == "train" else "t10k"
        images = read_image_file(str(self.raw_dir / f"{prefix}-images-idx3-ubyte"))
        labels = read_label_file(str(self.raw_dir / f"{prefix}-labels-idx1-ubyte"))
        return TensorDataset(resize_uint8(images.unsqueeze(1), self.image_size), labels)


class FashionMNISTDataModule(_IDXDataModule):
    dataset_cls = datasets.FashionMNIST
    display_name = "Fashion-MNIST"
    # The released files (60,000 + 10,000 images), as decompressed from dataset-fashion-mnist.
    sha256 = {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }

    def _extra_fix(self) -> str:
        return " (on Debian/Ubuntu: apt-get install dataset-fashion-mnist)"


class MNISTDataModule(_IDXDataModule):
    dataset_cls = datasets.MNIST
    display_name = "MNIST"


class CIFAR10DataModule(ImageDataModule):
    archive = "cifar-10-python.tar.gz"

    def __init__(
        self,
        root: str,
        download: bool = True,
        image_size: int = 32,
        channels: int = 3,
        **kwargs,
    ) -> None:
        if channels != 3:
            raise ConfigError("CIFAR-10 is RGB: set data.channels=3")
        super().__init__(image_size=image_size, channels=channels, **kwargs)
        self.root = Path(root)
        self.download = download

    def _on_disk(self) -> bool:
        try:
            datasets.CIFAR10(str(self.root), train=True, download=False)
        except RuntimeError:
            return False
        return True

    def prepare_data(self) -> None:
        if self._on_disk():
            return
        # With the archive already in data.root, torchvision verifies and extracts it offline.
        download_or_explain(
            self.download,
            self._missing_message,
            lambda: datasets.CIFAR10(str(self.root), train=True, download=True),
        )

    def _missing_message(self, reason: str) -> str:
        batches = self.root / "cifar-10-batches-py"
        # torchvision unpickles the batch files only once each matches its published MD5.
        found = (
            f"the files in {batches} do not match CIFAR-10's published checksums"
            if batches.is_dir()
            else f"CIFAR-10 is not in {self.root}"
        )
        return (
            f"{found} and {reason}. Fix: download {self.archive} from "
            f"https://www.cs.toronto.edu/~kriz/{self.archive} and put it into {self.root} "
            "(genlab extracts it), or set data.root to a folder holding cifar-10-batches-py/."
        )

    def load_split(self, split: str) -> Dataset:
        self.prepare_data()
        dataset = datasets.CIFAR10(str(self.root), train=split == "train", download=False)
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        return TensorDataset(resize_uint8(images, self.image_size), torch.tensor(dataset.targets))


def _gunzip(source: Path, target: Path) -> None:
    """Decompressed atomically, so an interrupted copy is never taken as data."""

    def decompress(file: BinaryIO) -> None:
        with gzip.open(source, "rb") as src:
            shutil.copyfileobj(src, file)

    try:
        write_atomic(target, decompress)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataCorruptError(
            f"{source} is corrupt ({type(exc).__name__}: {exc}); replace the file"
        ) from exc
