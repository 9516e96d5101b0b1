"""Metrics through torch-fidelity: genlab prepares uint8 inputs, torch-fidelity does the math."""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset
from torch_fidelity import KEY_METRIC_FID, KEY_METRIC_ISC_MEAN

from genlab._compat.torch_fidelity import (
    create_feature_extractor,
    extract_featuresdict_from_input_id,
    fid_features_to_statistics,
    fid_statistics_to_metric,
    isc_features_to_metric,
    isc_featuresdict_to_metric,
    kid_featuresdict_to_metric,
    prc_featuresdict_to_metric,
    resolve_feature_layer_for_metric,
)
from genlab.metrics.density_coverage import density_coverage
from genlab.metrics.domain import register_domain_extractors
from genlab.metrics.extractor_weights import weights_for_torch_fidelity
from genlab.metrics.extrapolation import extrapolate
from genlab.metrics.feature_cache import RealFeatureCache
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

    With ``real_cache_name`` and ``cache_dir``, genlab stores the real features there (tensors
    only, :class:`RealFeatureCache`) and reads them back next time instead of extracting them
    again. torch-fidelity's own cache stays off: it unpickles whatever file it finds.
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
        "feature_extractor": protocol.extractor,
        "feature_extractor_weights_path": weights_for_torch_fidelity(
            protocol.extractor, protocol.weights_path, protocol.weights_sha256
        ),
        "kid_subset_size": kid_subset,
        "rng_seed": protocol.seed,
        "verbose": False,
        # No feature-extraction worker processes (the images are already in memory; workers
        # only add start-up time and copies), and precision/recall's pairwise distances in
        # blocks of prc_batch_size rows instead of whole 10k x 10k matrices: less memory,
        # the same numbers.
        "save_cpu_ram": True,
        "prc_batch_size": protocol.prc_batch_size,
        "cache": False,
    }
    # torch-fidelity's calculate_metrics() step by step, with its own functions, so that the
    # features it extracts once also serve density/coverage and FID∞ / IS∞.
    layers = {
        metric: resolve_feature_layer_for_metric(_LAYER_OF[metric], **options)
        for metric in protocol.metrics
    }
    feature_layers = sorted(set(layers.values()))
    extractor = create_feature_extractor(protocol.extractor, feature_layers, **options)
    started = time.monotonic()
    generated_features = extract_featuresdict_from_input_id(1, extractor, **options)
    extract_real = partial(extract_featuresdict_from_input_id, 2, extractor, **options)
    if real_cache_name is not None and cache_dir is not None:
        cache = RealFeatureCache(cache_dir, real_cache_name, protocol.extractor)
        real_features = cache.features(feature_layers, num_real, extract_real)
    else:
        real_features = extract_real()
    log.info(
        "Features of %d generated and %d real images (%s, %.0f s)",
        num_generated, num_real, protocol.extractor, time.monotonic() - started,
    )  # fmt: skip
    raw: dict[str, float] = {}
    if "is" in layers:
        raw |= isc_featuresdict_to_metric(generated_features, layers["is"], **options)
    if "fid" in layers:
        real_statistics = fid_features_to_statistics(real_features[layers["fid"]])
        raw |= _fid(generated_features[layers["fid"]], real_statistics)
    if "kid" in layers:
        raw |= kid_featuresdict_to_metric(
            generated_features, real_features, layers["kid"], **options
        )
    if "prc" in layers:
        raw |= prc_featuresdict_to_metric(
            generated_features, real_features, layers["prc"], **options
        )
    results = {RESULT_KEYS[key]: float(value) for key, value in raw.items() if key in RESULT_KEYS}
    if "dc" in layers:
        results |= density_coverage(
            real_features[layers["dc"]],
            generated_features[layers["dc"]],
            protocol.dc_neighborhood,
            protocol.prc_batch_size,
        )
    counts = protocol.extrapolation_counts(num_generated)
    if counts and "fid" in layers:
        fid_at = partial(_fid_value, real_statistics=real_statistics)
        fit = extrapolate(generated_features[layers["fid"]], fid_at, counts, protocol.seed)
        results["fid_inf"] = fit.intercept
    if counts and "is" in layers:
        fit = extrapolate(generated_features[layers["is"]], _is_value, counts, protocol.seed)
        results["is_inf"] = fit.intercept
    return results


# genlab's metric names -> torch-fidelity's (whose feature layer each uses); density/coverage
# use precision/recall's layer.
_LAYER_OF = {"fid": "fid", "is": "isc", "kid": "kid", "prc": "prc", "dc": "prc"}


def _fid(features: Tensor, real_statistics: dict[str, Any]) -> dict[str, float]:
    return fid_statistics_to_metric(fid_features_to_statistics(features), real_statistics, False)


def _fid_value(features: Tensor, real_statistics: dict[str, Any]) -> float:
    return _fid(features, real_statistics)[KEY_METRIC_FID]


def _is_value(logits: Tensor) -> float:
    """The Inception Score of all ``logits`` as one split, as in Chong & Forsyth's IS∞."""
    return isc_features_to_metric(logits, splits=1, shuffle=False)[KEY_METRIC_ISC_MEAN]
