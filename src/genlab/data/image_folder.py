"""Any folder of PNG/JPEG images (searched recursively), resized and center-cropped."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.transforms import v2

from genlab.data.base import ImageDataModule
from genlab.errors import ConfigError, DataNotFoundError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# The decoders genlab opens images with. Pillow chooses a decoder by a file's content, not its
# name, and some run more than a decoder: EPS hands the file to Ghostscript, a PostScript
# interpreter. A file named .png that is something else is refused.
IMAGE_FORMATS = ["PNG", "JPEG"]


def find_images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


class ImageFiles(Dataset):
    """Decodes lazily, so a folder larger than memory still works; labels are all 0."""

    def __init__(self, paths: list[Path], image_size: int, channels: int) -> None:
        self.paths = paths
        self.mode = "L" if channels == 1 else "RGB"
        self.transform = v2.Compose(
            [
                v2.PILToTensor(),
                v2.Resize(image_size, antialias=True),
                v2.CenterCrop(image_size),
            ]
        )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        path = self.paths[index]
        try:
            with Image.open(path, formats=IMAGE_FORMATS) as image:
                image = to_8bit(image, path).convert(self.mode)
        except (UnidentifiedImageError, OSError) as exc:
            raise DataNotFoundError(
                f"cannot decode image {path} ({exc}); remove or replace the file"
            ) from exc
        tensor: Tensor = self.transform(image)
        return tensor.to(torch.uint8), 0


# Pillow's integer modes wider than 8 bits; ``convert`` clips them to 255 instead of scaling.
_WIDE_INTEGER_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def to_8bit(image: Image.Image, path: Path) -> Image.Image:
    """A 16-bit grayscale image scaled to 8 bits (0..65535 -> 0..255); other modes as they are.

    Pillow opens a 16-bit PNG as mode ``I;16`` (or ``I``), and ``convert("L")`` clips every
    value above 255, so a mid-grey 16-bit image would load as white."""
    if image.mode == "F":
        raise DataNotFoundError(
            f"{path} holds floating-point pixels (mode F), which genlab cannot scale to 8 bits "
            "without knowing their range; save it as an 8- or 16-bit PNG"
        )
    if image.mode not in _WIDE_INTEGER_MODES:
        return image
    pixels = np.asarray(image, dtype=np.int64)
    if pixels.min() < 0 or pixels.max() > 65535:
        raise DataNotFoundError(
            f"{path} holds 32-bit pixel values outside 0..65535, which genlab cannot scale to "
            "8 bits; save it as an 8- or 16-bit PNG"
        )
    # Rounded, so 65535 -> 255 and 32768 -> 128, as an image viewer shows them.
    return Image.fromarray(((pixels * 255 + 32767) // 65535).astype(np.uint8), mode="L")


class ImageFolderDataModule(ImageDataModule):
    def __init__(self, path: str | None, image_size: int = 64, channels: int = 3, **kwargs) -> None:
        if not path:
            raise ConfigError(
                "data=image_folder needs data.path=FOLDER (a folder of PNG/JPEG images)"
            )
        super().__init__(image_size=image_size, channels=channels, **kwargs)
        self.path = Path(path)

    @property
    def cache_key(self) -> str:
        """Two folders never share cached statistics: the key names the folder's path."""
        digest = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:12]
        return f"imagefolder-{digest}"

    def prepare_data(self) -> None:
        self._paths()

    def _paths(self) -> list[Path]:
        if not self.path.is_dir():
            raise DataNotFoundError(
                f"image folder not found: {self.path}; set data.path to an existing folder of "
                "PNG/JPEG images"
            )
        paths = find_images(self.path)
        if not paths:
            raise DataNotFoundError(
                f"no PNG/JPEG images in {self.path} (searched recursively); set data.path to a "
                "folder that holds images"
            )
        return paths

    def load_split(self, split: str) -> Dataset:
        # An image folder has one split; train/validation come from the base class's split.
        return ImageFiles(self._paths(), self.image_size, self.channels)
