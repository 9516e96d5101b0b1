"""Metrics through torch-fidelity: genlab prepares uint8 inputs, torch-fidelity does the math."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch_fidelity
from torch import Tensor
from torch.utils.data import Dataset, Subset

from genlab.metrics.domain import register_domain_extractors
from genlab.metrics.protocol import MetricProtocol

log = logging.getLogger(__name__)

# torch-fidelity's result keys -> genlab's summary.json keys.
RESULT_KEYS = {
    "frechet_inception_distance": "fid",
    "inception_score_mean": "is_mean",
    "inception_score_std": "is_std",
    "kernel_inception_distance_mean": "kid_mean",
    "kernel_inception_distance_std": "kid_std",
    "precision": "precision",
    "recall": "recall",
    "f_score": "f_score",
}


class UInt8Tensor(Dataset):
    """A (N, C, H, W) uint8 tensor as torch-fidelity's input; grayscale repeated to RGB."""

    def __init__(self, images: Tensor) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"expected uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        self.images = images

    def __len__(self) -> int:
        return self.images.size(0)

    def __getitem__(self, index: int) -> Tensor:
        image = self.images[index]
        return image.expand(3, -1, -1) if image.size(0) == 1 else image


def to_uint8(images: Tensor) -> Tensor:
    """[0, 1] floats -> uint8 [0, 255], rounding as PNG writers do."""
    return images.clamp(0, 1).mul(255).round().to(torch.uint8)


def real_subset(real: Dataset, num_real: int | None) -> Dataset:
    """The first num_real images of the split (a fixed, documented choice)."""
    total = len(real)  # type: ignore[arg-type]
    if num_real is None or num_real >= total:
        return real
    return Subset(real, range(num_real))


def compute_metrics(
    generated: Dataset,
    real: Dataset,
    protocol: MetricProtocol,
    *,
    real_cache_name: str | None = None,
    cache_dir: Path | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """The protocol's metrics of generated vs real images (both uint8 3-channel datasets).

    With ``real_cache_name``, torch-fidelity stores the real features under ``cache_dir`` and
    reads them back next time instead of extracting them again.
    """
    register_domain_extractors()
    num_generated, num_real = len(generated), len(real)  # type: ignore[arg-type]
    kid_subset = min(protocol.kid_subset_size, num_generated, num_real)
    if "kid" in protocol.metrics and kid_subset < protocol.kid_subset_size:
        log.warning(
            "KID subset size lowered from %d to %d to fit %d generated / %d real images",
            protocol.kid_subset_size, kid_subset, num_generated, num_real,
        )  # fmt: skip
    options: dict[str, Any] = {
        "input1": generated,
        "input2": real,
        "cuda": torch.device(device).type == "cuda",
        "batch_size": protocol.batch_size,
        "isc": "is" in protocol.metrics,
        "fid": "fid" in protocol.metrics,
        "kid": "kid" in protocol.metrics,
        "prc": "prc" in protocol.metrics,
        "feature_extractor": protocol.extractor,
        "feature_extractor_weights_path": str(protocol.weights_path),
        "kid_subset_size": kid_subset,
        "rng_seed": protocol.seed,
        "verbose": False,
        # No feature-extraction worker processes (the images are already in memory; workers
        # only add start-up time and copies), and precision/recall's pairwise distances in
        # blocks of prc_batch_size rows instead of whole 10k x 10k matrices: less memory,
        # the same numbers.
        "save_cpu_ram": True,
        "prc_batch_size": protocol.prc_batch_size,
        "cache": real_cache_name is not None,
        "input2_cache_name": real_cache_name,
        "cache_root": str(cache_dir) if cache_dir is not None else None,
    }
    raw = torch_fidelity.calculate_metrics(**options)
    return {RESULT_KEYS[key]: float(value) for key, value in raw.items() if key in RESULT_KEYS}
