"""Per-variant statistics over seeds and pairwise verdicts, computed by scipy."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

# summary.json's scores and which way is better.
METRICS = {
    "fid": "lower",
    "kid_mean": "lower",
    "is_mean": "higher",
    "precision": "higher",
    "recall": "higher",
}
CONFIDENCE = 0.95
ALPHA = 0.05


@dataclass
class Aggregate:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN for one seed
    ci_low: float  # 95% Student-t interval of the mean; NaN for one seed
    ci_high: float


def aggregate(values: list[float]) -> Aggregate:
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Aggregate(n, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    if std == 0:  # every seed gave the same value (scipy's interval is undefined at scale 0)
        return Aggregate(n, mean, 0.0, mean, mean)
    low, high = stats.t.interval(CONFIDENCE, df=n - 1, loc=mean, scale=stats.sem(x))
    return Aggregate(n, mean, std, float(low), float(high))


@dataclass
class Verdict:
    metric: str
    a: str
    b: str
    t: float
    p: float
    verdict: str


def welch(metric: str, a: str, xa: list[float], b: str, xb: list[float]) -> Verdict:
    """Welch's two-sided t-test; the better mean wins when p < 0.05."""
    if len(xa) < 2 or len(xb) < 2:
        return Verdict(metric, a, b, math.nan, math.nan, "n/a: needs 2 seeds in each variant")
    result = stats.ttest_ind(xa, xb, equal_var=False)
    t, p = float(result.statistic), float(result.pvalue)
    if not p < ALPHA:
        return Verdict(metric, a, b, t, p, "no significant difference")
    a_lower = float(np.mean(xa)) < float(np.mean(xb))
    a_wins = a_lower == (METRICS[metric] == "lower")
    return Verdict(metric, a, b, t, p, f"{a if a_wins else b} is better")


def pairwise(metric: str, samples: dict[str, list[float]]) -> list[Verdict]:
    return [
        welch(metric, a, samples[a], b, samples[b]) for a, b in itertools.combinations(samples, 2)
    ]
