"""The one table of genlab's scores: summary.json key, display label, which way is better,
the range it can take, and the protocol fields (summary.json's ``metric_*`` keys) its value
depends on. train, evaluate, compare and reproduce read it; no other list of scores exists."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Protocol fields every score depends on: the feature space.
_FEATURES = ("metric_extractor", "metric_weights_sha256", "metric_image_size")
# Scores of the generated images alone (IS), and those that compare them with real images.
_GENERATED = (*_FEATURES, "metric_num_generated", "metric_seed")
_BOTH = (*_GENERATED, "metric_num_real", "metric_real_split")
_EXTRAPOLATED = ("metric_extrapolation_counts",)


@dataclass(frozen=True)
class MetricKey:
    name: str  # the key in summary.json, W&B and the comparison tables
    label: str  # how tables and figures title it
    better: str  # "lower" or "higher"
    low: float  # the range it can take: confidence intervals are clipped to it
    high: float
    depends_on: tuple[str, ...]  # protocol fields that change its value
    digits: int = 2  # decimals in the reproduction report
    headline: bool = False  # the scores papers report (FID, IS, KID): the reproduction report's


SCORES: tuple[MetricKey, ...] = (
    MetricKey("fid", "FID", "lower", 0.0, math.inf, _BOTH, headline=True),
    # An extrapolated intercept can fall below FID's own floor of 0 or IS's of 1.
    MetricKey("fid_inf", "FID∞", "lower", -math.inf, math.inf, (*_BOTH, *_EXTRAPOLATED)),
    MetricKey("is_mean", "IS", "higher", 1.0, math.inf, _GENERATED, headline=True),
    MetricKey("is_inf", "IS∞", "higher", -math.inf, math.inf, (*_GENERATED, *_EXTRAPOLATED)),
    # KID's unbiased estimate can be negative.
    MetricKey("kid_mean", "KID", "lower", -math.inf, math.inf, _BOTH, digits=4, headline=True),
    MetricKey("precision", "precision", "higher", 0.0, 1.0, _BOTH),
    MetricKey("recall", "recall", "higher", 0.0, 1.0, _BOTH),
    MetricKey("density", "density", "higher", 0.0, math.inf, (*_BOTH, "metric_dc_neighborhood")),
    MetricKey("coverage", "coverage", "higher", 0.0, 1.0, (*_BOTH, "metric_dc_neighborhood")),
)
BY_NAME: dict[str, MetricKey] = {key.name: key for key in SCORES}
SCORE_NAMES: tuple[str, ...] = tuple(BY_NAME)
# Every protocol field some score depends on: what makes two numbers the same measurement.
PROTOCOL_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(field for key in SCORES for field in key.depends_on)
)
