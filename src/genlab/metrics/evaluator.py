"""An evaluation protocol bound to one dataset: scores models or image folders against it."""

from __future__ import annotations

import logging
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from genlab.data.base import ImageDataModule, UInt8RGB
from genlab.metrics.degenerate import SAMPLE_STD_KEY, sample_pixel_std
from genlab.metrics.fidelity import compute_metrics, real_subset, to_uint8
from genlab.metrics.protocol import MetricProtocol
from genlab.models.base import GenerativeModel

log = logging.getLogger(__name__)

# What an evaluation computes in, in Lightning's names: the generator's sampling and the
# extractors run in float32 (a machine record's ``precision``).
PRECISION = "32-true"


class Evaluator:
    def __init__(
        self, protocol: MetricProtocol, datamodule: ImageDataModule, cache_dir: Path | None
    ) -> None:
        self.protocol = protocol
        self.datamodule = datamodule
        self.cache_dir = cache_dir

    @cached_property
    def real(self) -> Dataset:
        split = self.datamodule.uint8_images(self.protocol.real_split)
        return real_subset(split, self.protocol.num_real)

    def fields(self, num_generated: int | None = None) -> dict[str, Any]:
        """The protocol as written beside every number."""
        return self.protocol.describe(
            num_generated or self.protocol.num_samples,
            len(self.real),  # type: ignore[arg-type]
            self.datamodule.image_size,
        )

    def score(self, generated: Dataset, device: Any = "cpu") -> dict[str, Any]:
        """The metrics of ``generated`` and the spread of its pixels across images
        (genlab.metrics.degenerate), with the protocol fields beside them."""
        self.protocol.check_enough_generated(len(generated))  # type: ignore[arg-type]
        started = time.monotonic()
        cache_name = self.protocol.real_cache_name(
            self.datamodule.cache_key,
            self.datamodule.image_size,
            len(self.real),  # type: ignore[arg-type]
        )
        results = compute_metrics(
            generated,
            self.real,
            self.protocol,
            real_cache_name=cache_name if self.cache_dir is not None else None,
            cache_dir=self.cache_dir,
            device=device,
        )
        spread = sample_pixel_std(generated[i] for i in range(len(generated)))  # type: ignore[arg-type]
        return {
            **self.fields(len(generated)),  # type: ignore[arg-type]
            **results,
            SAMPLE_STD_KEY: round(spread, 6),
            "eval_s": round(time.monotonic() - started, 3),
        }

    def score_model(self, model: GenerativeModel) -> dict[str, Any]:
        """Samples protocol.num_samples images from the protocol's seed, then scores them."""
        started = time.monotonic()
        images = model.sample(self.protocol.num_samples, seed=self.protocol.seed)
        log.info("Sampled %d images (%.0f s)", len(images), time.monotonic() - started)
        return self.score(UInt8RGB.from_tensor(to_uint8(images)), device=model.device)
