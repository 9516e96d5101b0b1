"""Per-variant statistics over seeds and pairwise verdicts, computed by scipy."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from genlab.metrics.keys import SCORES

# summary.json's scores and which way is better.
METRICS = {key.name: key.better for key in SCORES}
# The range each score can take: confidence intervals are clipped to it (a Student-t interval
# of a recall near 0 would otherwise reach below 0).
RANGES = {key.name: (key.low, key.high) for key in SCORES}
CONFIDENCE = 0.95
ALPHA = 0.05


@dataclass
class Aggregate:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN for one seed
    ci_low: float  # 95% Student-t interval of the mean; NaN for one seed
    ci_high: float


def aggregate(values: list[float], metric: str | None = None) -> Aggregate:
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Aggregate(n, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    if std == 0:  # every seed gave the same value (scipy's interval is undefined at scale 0)
        return Aggregate(n, mean, 0.0, mean, mean)
    low, high = stats.t.interval(CONFIDENCE, df=n - 1, loc=mean, scale=stats.sem(x))
    floor, ceiling = RANGES.get(metric or "", (-math.inf, math.inf))
    return Aggregate(n, mean, std, max(float(low), floor), min(float(high), ceiling))


@dataclass
class Verdict:
    metric: str
    a: str
    b: str
    t: float
    p: float  # Welch's two-sided p, uncorrected
    p_holm: float  # Holm-adjusted over the metric's pairs: the one the verdict uses
    hedges_g: float  # effect size: (mean A - mean B) / pooled std, small-sample corrected
    verdict: str


NO_VERDICT = "n/a: needs 2 seeds in each variant"


def welch(metric: str, a: str, xa: list[float], b: str, xb: list[float]) -> Verdict:
    """Welch's two-sided t-test and Hedges' g; the verdict comes with the Holm correction
    (:func:`pairwise`)."""
    if len(xa) < 2 or len(xb) < 2:
        return Verdict(metric, a, b, math.nan, math.nan, math.nan, math.nan, NO_VERDICT)
    mean_a, std_a, mean_b, std_b = np.mean(xa), np.std(xa, ddof=1), np.mean(xb), np.std(xb, ddof=1)
    if std_a == 0 and std_b == 0:
        # Every seed of both variants gave the same value (a coverage of 0.005 after a few
        # steps): no spread to weigh the difference against. Equal values: t is 0/0,
        # undefined; unequal ones: the difference is certain (scipy's limit too).
        t, p = (
            (math.nan, math.nan)
            if mean_a == mean_b
            else (math.copysign(math.inf, mean_a - mean_b), 0.0)
        )
    else:
        # From the means and standard deviations: scipy's ttest_ind warns of "catastrophic
        # cancellation" when a variant's seeds all gave one value; its spread is exactly 0.
        result = stats.ttest_ind_from_stats(
            mean_a, std_a, len(xa), mean_b, std_b, len(xb), equal_var=False
        )
        t, p = float(result.statistic), float(result.pvalue)
    return Verdict(metric, a, b, t, p, math.nan, hedges_g(xa, xb), "")


def hedges_g(xa: list[float], xb: list[float]) -> float:
    """Cohen's d with the pooled sample standard deviation, times Hedges' small-sample
    correction 1 - 3 / (4 (na + nb) - 9); NaN when both samples are constant."""
    na, nb = len(xa), len(xb)
    pooled = math.sqrt(
        ((na - 1) * np.var(xa, ddof=1) + (nb - 1) * np.var(xb, ddof=1)) / (na + nb - 2)
    )
    if pooled == 0:
        return math.nan
    d = (float(np.mean(xa)) - float(np.mean(xb))) / pooled
    return d * (1 - 3 / (4 * (na + nb) - 9))


def pairwise(metric: str, samples: dict[str, list[float]]) -> list[Verdict]:
    """Every pair of variants; with more than one pair, the p-values are adjusted by Holm's
    step-down method (statsmodels), so the chance of any false "is better" stays at alpha."""
    verdicts = [
        welch(metric, a, samples[a], b, samples[b]) for a, b in itertools.combinations(samples, 2)
    ]
    tested = [v for v in verdicts if v.verdict != NO_VERDICT]
    if tested:
        _, adjusted, _, _ = multipletests([v.p for v in tested], alpha=ALPHA, method="holm")
        for verdict, p_holm in zip(tested, adjusted, strict=True):
            verdict.p_holm = float(p_holm)
            verdict.verdict = _verdict(verdict, samples)
    return verdicts


def _verdict(v: Verdict, samples: dict[str, list[float]]) -> str:
    if not v.p_holm < ALPHA:
        return "no significant difference"
    a_lower = float(np.mean(samples[v.a])) < float(np.mean(samples[v.b]))
    a_wins = a_lower == (METRICS[v.metric] == "lower")
    return f"{v.a if a_wins else v.b} is better"
