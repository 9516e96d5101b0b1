"""The real images' features, cached between evaluations as files that hold tensors only.

The cache folder is often shared (``GENLAB_CACHE_DIR`` on a cluster), so whatever is found in
it is untrusted: a file is read with ``torch.load(weights_only=True)``, which builds tensors
and plain containers and refuses every other object (a pickle that would run code included),
and it must hold one feature row per real image. A file that does not pass is named in one
warning, never executed, and replaced by features computed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import torch
from torch import Tensor

from genlab.atomic_write import write_atomic

log = logging.getLogger(__name__)


class RealFeatureCache:
    """One file per feature layer: ``<name>-<extractor>-features-<layer>.pt``, a float tensor
    of shape (number of real images, feature size). These are the names and contents
    torch-fidelity's own cache used, so features it cached before are read back."""

    def __init__(self, folder: Path, name: str, extractor: str) -> None:
        self.folder = folder
        self.prefix = f"{name}-{extractor}-features-"

    def path(self, layer: str) -> Path:
        return self.folder / f"{self.prefix}{layer}.pt"

    def features(
        self, layers: Sequence[str], num_images: int, compute: Callable[[], dict[str, Tensor]]
    ) -> dict[str, Tensor]:
        """The cached features of ``layers``; all of them from ``compute()`` (and cached) when
        one is missing or refused."""
        cached = {layer: self._read(self.path(layer), num_images) for layer in layers}
        if all(features is not None for features in cached.values()):
            return cached  # type: ignore[return-value]
        computed = compute()
        for layer in layers:
            write_atomic(self.path(layer), partial(torch.save, computed[layer]))
        return computed

    @staticmethod
    def _read(path: Path, num_images: int) -> Tensor | None:
        if not path.is_file():
            return None
        try:
            features = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a refused object, a damaged file: many exception types
            reason = f"it holds more than tensors, or is damaged ({type(exc).__name__})"
        else:
            if _is_feature_matrix(features, num_images):
                return features
            reason = f"it does not hold {num_images} rows of features"
        log.warning(
            "Not using the cached real features %s: %s; computing them again and replacing it",
            path,
            reason,
        )
        return None


def _is_feature_matrix(features: object, num_images: int) -> bool:
    return (
        isinstance(features, Tensor)
        and features.dim() == 2
        and features.shape[0] == num_images
        and features.is_floating_point()
    )
