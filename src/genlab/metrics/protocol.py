"""The evaluation protocol: everything that decides a metric's value, written beside it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from genlab.errors import ConfigError
from genlab.hashing import sha256_of
from genlab.metrics.extractor_weights import resolve_weights
from genlab.metrics.extrapolation import sample_counts

METRICS = ("fid", "is", "kid", "prc", "dc")
# The fewest images (generated, and real where the metric compares) each metric is defined
# for under torch-fidelity's defaults: a covariance needs 2; the Inception Score is averaged
# over 10 splits of at least one image; precision/recall look for each image's 3rd nearest
# neighbour besides itself, so 5 leave one image to spare. Density/coverage need more than
# dc_neighborhood real images (checked with its value).
MIN_IMAGES = {"fid": 2, "is": 10, "kid": 2, "prc": 5, "dc": 2}
REAL_SPLITS = ("train", "test")


@dataclass(frozen=True)
class MetricProtocol:
    extractor: str
    weights_path: Path
    weights_sha256: str
    metrics: tuple[str, ...]
    num_samples: int
    real_split: str
    num_real: int | None  # None: the whole split
    kid_subset_size: int
    seed: int
    batch_size: int
    prc_batch_size: int = 1000
    dc_neighborhood: int = 5
    extrapolate: bool = False
    extrapolate_points: int = 15
    extrapolate_min_fraction: float = 0.1

    def extrapolation_counts(self, num_generated: int) -> tuple[int, ...]:
        """The sample counts FID∞ / IS∞ are fitted over; () when extrapolation is off."""
        if not self.extrapolate:
            return ()
        return sample_counts(num_generated, self.extrapolate_points, self.extrapolate_min_fraction)

    @classmethod
    def from_config(cls, metrics: DictConfig) -> MetricProtocol:
        """Validates the metrics config and resolves the extractor's weights (may download)."""
        chosen = tuple(metrics.metrics)
        unknown = set(chosen) - set(METRICS)
        if unknown or not chosen:
            raise ConfigError(
                f"metrics.metrics must list some of {', '.join(METRICS)}, got {list(chosen)}"
            )
        if metrics.real_split not in REAL_SPLITS:
            raise ConfigError(
                f"metrics.real_split must be one of {', '.join(REAL_SPLITS)}, got {metrics.real_split!r}"
            )
        for key in ("num_samples", "kid_subset_size", "batch_size", "prc_batch_size"):
            if not isinstance(metrics[key], int) or metrics[key] < 2:
                raise ConfigError(f"metrics.{key} must be an integer >= 2, got {metrics[key]!r}")
        if metrics.num_real is not None and (
            not isinstance(metrics.num_real, int) or metrics.num_real < 2
        ):
            raise ConfigError(
                f"metrics.num_real must be null or an integer >= 2, got {metrics.num_real!r}"
            )
        _check_enough_images(chosen, metrics.num_samples, metrics.num_real)
        _check_dc_and_extrapolation(metrics, chosen)
        weights = resolve_weights(metrics.extractor, metrics.weights_path)
        return cls(
            extractor=metrics.extractor,
            weights_path=weights,
            weights_sha256=sha256_of(weights),
            metrics=chosen,
            num_samples=metrics.num_samples,
            real_split=metrics.real_split,
            num_real=metrics.num_real,
            kid_subset_size=metrics.kid_subset_size,
            seed=metrics.seed,
            batch_size=metrics.batch_size,
            prc_batch_size=metrics.prc_batch_size,
            dc_neighborhood=metrics.dc_neighborhood,
            extrapolate=metrics.extrapolate,
            extrapolate_points=metrics.extrapolate_points,
            extrapolate_min_fraction=float(metrics.extrapolate_min_fraction),
        )

    def check_enough_generated(self, num_generated: int) -> None:
        """For scoring a given set of images (``evaluate.py input=DIR``)."""
        _check_enough_images(self.metrics, num_generated, None, what="images in the input")

    def real_cache_name(self, dataset_key: str, image_size: int, num_real: int) -> str:
        """Names the cached real statistics by everything they depend on."""
        return (
            f"genlab-{dataset_key}-{self.real_split}-n{num_real}-{image_size}px-"
            f"{self.extractor}-{self.weights_sha256[:16]}"
        )

    def describe(self, num_generated: int, num_real: int, image_size: int) -> dict[str, Any]:
        """The protocol as flat summary.json / W&B fields."""
        fields: dict[str, Any] = {
            "metric_extractor": self.extractor,
            "metric_weights_sha256": self.weights_sha256,
            "metric_num_generated": num_generated,
            "metric_num_real": num_real,
            "metric_real_split": self.real_split,
            "metric_image_size": image_size,
            "metric_seed": self.seed,
        }
        if "dc" in self.metrics:
            fields["metric_dc_neighborhood"] = self.dc_neighborhood
        if self.extrapolate:
            counts = self.extrapolation_counts(num_generated)
            fields["metric_extrapolation_counts"] = ",".join(map(str, counts))
        return fields


def _check_dc_and_extrapolation(metrics: DictConfig, chosen: tuple[str, ...]) -> None:
    k = metrics.dc_neighborhood
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"metrics.dc_neighborhood must be an integer >= 1, got {k!r}")
    if "dc" in chosen and metrics.num_real is not None and metrics.num_real <= k:
        raise ConfigError(
            f"metrics.num_real={metrics.num_real} is too few images for dc with "
            f"metrics.dc_neighborhood={k} (more than {k}); raise it, or leave dc out of "
            "metrics.metrics"
        )
    if not isinstance(metrics.extrapolate, bool):
        raise ConfigError(f"metrics.extrapolate must be true or false, got {metrics.extrapolate!r}")
    if not metrics.extrapolate:
        return
    if not isinstance(metrics.extrapolate_points, int) or metrics.extrapolate_points < 2:
        raise ConfigError(
            "metrics.extrapolate_points must be an integer >= 2, got "
            f"{metrics.extrapolate_points!r}"
        )
    fraction = metrics.extrapolate_min_fraction
    if not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ConfigError(
            f"metrics.extrapolate_min_fraction must be between 0 and 1, got {fraction!r}"
        )
    if len(sample_counts(metrics.num_samples, metrics.extrapolate_points, fraction)) < 2:
        raise ConfigError(
            f"metrics.num_samples={metrics.num_samples} leaves no two sample counts to "
            "extrapolate over; raise it, or set metrics.extrapolate=false"
        )
    if not {"fid", "is"} & set(chosen):
        raise ConfigError(
            "metrics.extrapolate=true extrapolates fid and is: add one of them to metrics.metrics"
        )


def _check_enough_images(
    metrics: tuple[str, ...],
    num_generated: int,
    num_real: int | None,
    what: str = "metrics.num_samples",
) -> None:
    for count, name in ((num_generated, what), (num_real, "metrics.num_real")):
        if count is None:
            continue
        short = [m for m in metrics if count < MIN_IMAGES[m]]
        if short:
            needed = max(MIN_IMAGES[m] for m in short)
            raise ConfigError(
                f"{name}={count} is too few images for {', '.join(short)} (at least {needed}; "
                "thousands for numbers worth reporting); raise it, or leave "
                f"{', '.join(short)} out of metrics.metrics"
            )
