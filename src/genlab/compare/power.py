"""How many seeds a comparison needs: the difference of two variants with its 95% interval,
the spread over training seeds split into evaluation noise and the rest, and the seeds per
variant that detect the difference with 80% power (statsmodels does the statistics)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from genlab.compare.stats import ALPHA

POWER = 0.8


@dataclass
class SeedBudget:
    metric: str
    a: str
    b: str
    difference: float  # mean A - mean B
    ci_low: float  # 95% Welch interval of the difference
    ci_high: float
    seed_std: float  # pooled standard deviation over training seeds (sample, ddof=1)
    eval_std: float  # of one checkpoint re-scored with other metric seeds; NaN when unmeasured
    training_std: float  # what of seed_std the evaluation noise does not explain
    effect: float  # the difference the seed count is for: observed, or --min-effect
    seeds_needed: float  # per variant, for POWER at ALPHA (two-sided Welch/Student t-test)


def seeds_needed(effect: float, std: float) -> float:
    """Seeds per variant for a two-sided two-sample t-test at ALPHA to detect ``effect`` with
    POWER, when each seed's number spreads by ``std``; NaN when undefined; at least 2."""
    if not (math.isfinite(effect) and math.isfinite(std)) or effect == 0 or std <= 0:
        return math.nan
    analysis, d = TTestIndPower(), abs(effect) / std
    at_two = analysis.power(d, nobs1=2, alpha=ALPHA, ratio=1.0)
    # statsmodels' root finder does not converge below 2 seeds, and the noncentral t overflows
    # to NaN for huge effects: both mean 2 seeds suffice.
    if math.isnan(at_two) or at_two >= POWER:
        return 2.0
    n = analysis.solve_power(effect_size=d, alpha=ALPHA, power=POWER, ratio=1.0)
    return float(math.ceil(float(n)))


def pooled_std(*samples: list[float]) -> float:
    """The pooled sample standard deviation (ddof=1) of groups of 2 or more values."""
    groups = [np.asarray(s, dtype=float) for s in samples if len(s) >= 2]
    if not groups:
        return math.nan
    squares = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
    return math.sqrt(squares / sum(len(g) - 1 for g in groups))


def seed_budget(
    metric: str,
    a: str,
    xa: list[float],
    b: str,
    xb: list[float],
    eval_std: float = math.nan,
    min_effect: float | None = None,
) -> SeedBudget:
    difference = float(np.mean(xa) - np.mean(xb)) if xa and xb else math.nan
    low = high = math.nan
    if len(xa) >= 2 and len(xb) >= 2 and (np.var(xa) > 0 or np.var(xb) > 0):
        compared = CompareMeans(DescrStatsW(np.asarray(xa)), DescrStatsW(np.asarray(xb)))
        low, high = (float(v) for v in compared.tconfint_diff(alpha=ALPHA, usevar="unequal"))
    std = pooled_std(xa, xb)
    training = math.sqrt(max(0.0, std**2 - eval_std**2)) if math.isfinite(eval_std) else math.nan
    effect = difference if min_effect is None else min_effect
    return SeedBudget(
        metric, a, b, difference, low, high, std, eval_std, training, effect,
        seeds_needed(effect, std),
    )  # fmt: skip


def seed_budgets(
    metric: str,
    samples: dict[str, list[float]],
    eval_stds: dict[str, float],
    min_effect: float | None = None,
) -> list[SeedBudget]:
    """Every pair of variants; a pair's evaluation noise pools its two variants' (RMS)."""
    budgets = []
    for a, b in itertools.combinations(samples, 2):
        measured = [eval_stds[v] for v in (a, b) if math.isfinite(eval_stds.get(v, math.nan))]
        eval_std = math.sqrt(float(np.mean(np.square(measured)))) if measured else math.nan
        budgets.append(seed_budget(metric, a, samples[a], b, samples[b], eval_std, min_effect))
    return budgets
