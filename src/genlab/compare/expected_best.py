"""Expected best score against the tuning budget (Dodge et al. 2019, "Show Your Work"): from
the N trials of a random search, the expected best score of k trials drawn from them without
replacement, for k = 1..N, with its variance and a bootstrap band; against compute, the same
with k = the trials a budget of seconds pays for.

Trials without a score (pruned, failed, diverged, or degenerate: never ranked) are spent
budget that is never the best: they rank below every scored trial. The expectation is over the
draws of k trials that hold a scored trial; ``p_no_score`` is the chance that none does
(docs/decisions.md, "Expected best score: unscored trials are spent budget, never the best").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
_CHUNK_FLOATS = 4_000_000


@dataclass(frozen=True)
class ExpectedBest:
    k: int
    mean: float  # the expected best score of k trials (NaN when no draw of k holds a score)
    variance: float  # of the best score of k trials, over the draws that hold a score
    p_no_score: float  # the chance that k trials drawn hold no scored trial


def max_rank_probabilities(n: int, k: int) -> np.ndarray:
    """P(the highest-ranked of k trials drawn without replacement from n is the i-th
    lowest), i = 1..n: (C(i, k) - C(i-1, k)) / C(n, k), computed in exact integers."""
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    return _probabilities(n)[k - 1].copy()


@cache
def _probabilities(n: int) -> np.ndarray:
    """Row k-1: :func:`max_rank_probabilities` of k, for k = 1..n."""
    rows = []
    for k in range(1, n + 1):
        total = math.comb(n, k)
        rows.append([(math.comb(i, k) - math.comb(i - 1, k)) / total for i in range(1, n + 1)])
    return np.array(rows)


def expected_best(scores: Sequence[float | None], k: int, minimize: bool) -> ExpectedBest:
    """The expected best of ``k`` trials drawn without replacement from ``scores`` (one per
    trial; None or NaN: a trial without a score). Tied scores need no care: the best of a draw
    has the tied value whichever of the tied trials it holds."""
    if not 1 <= k <= len(scores):
        raise ValueError(f"k must be in 1..{len(scores)}, got {k}")
    return expected_best_curve(scores, minimize)[k - 1]


def expected_best_curve(scores: Sequence[float | None], minimize: bool) -> list[ExpectedBest]:
    """The expected best of k trials and its variance, for k = 1..N."""
    values = _as_array(scores)
    if len(values) == 0:
        return []
    means, variances, p_no_score = _curves(values[np.newaxis, :], minimize, with_variance=True)
    return [
        ExpectedBest(k, float(m), float(v), float(p))
        for k, m, v, p in zip(
            range(1, len(values) + 1), means[0], variances[0], p_no_score[0], strict=True
        )
    ]


def _as_array(scores: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if s is None else float(s) for s in scores], dtype=float)


def _curves(
    samples: np.ndarray, minimize: bool, with_variance: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of ``samples`` (N trials, NaN: unscored), the expected best for k = 1..N,
    its variance (when asked) and the chance of no score: all rows at once."""
    n = samples.shape[1]
    probabilities = _probabilities(n)  # (k, rank)
    # From the worst to the best: unscored trials first, then the scores, the best last.
    keyed = np.where(np.isnan(samples), -np.inf, -samples if minimize else samples)
    order = np.argsort(keyed, axis=1, kind="stable")
    ordered = np.take_along_axis(samples, order, axis=1)
    unscored = np.isnan(ordered)
    weights = probabilities[np.newaxis, :, :] * ~unscored[:, np.newaxis, :]  # (row, k, rank)
    p_score = weights.sum(axis=2)
    filled = np.where(unscored, 0.0, ordered)[:, np.newaxis, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (weights * filled).sum(axis=2) / p_score
        variances = (
            np.maximum((weights * (filled - means[:, :, np.newaxis]) ** 2).sum(axis=2) / p_score, 0)
            if with_variance
            else np.full_like(means, math.nan)
        )
    no_score = p_score <= 1e-15
    means[no_score], variances[no_score] = math.nan, math.nan
    return means, variances, np.clip(1 - p_score, 0.0, 1.0)


def bootstrap_curves(
    scores: Sequence[float | None],
    minimize: bool,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> np.ndarray:
    """The expected-best curve of ``resamples`` resamples of the trials with replacement
    (unscored trials resampled with the others): shape (resamples, N)."""
    values = _as_array(scores)
    rng = np.random.default_rng(seed)
    drawn = values[rng.integers(0, len(values), size=(resamples, len(values)))]
    # In chunks: each row takes N x N floats on the way.
    rows = max(1, _CHUNK_FLOATS // max(1, len(values) ** 2))
    return np.concatenate(
        [_curves(drawn[at : at + rows], minimize)[0] for at in range(0, resamples, rows)]
    )


def bootstrap_band(
    scores: Sequence[float | None],
    minimize: bool,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[np.ndarray, np.ndarray]:
    """The 95% percentile band of the curve over the bootstrap resamples; NaN where fewer
    than half the resamples have a score at that k."""
    return percentile_band(bootstrap_curves(scores, minimize, seed, resamples))


def percentile_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the central 95% of the finite values; NaN where fewer than half are."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low = np.full(curves.shape[1], math.nan)
    high = np.full(curves.shape[1], math.nan)
    for column in range(curves.shape[1]):
        finite = curves[:, column][np.isfinite(curves[:, column])]
        if len(finite) >= len(curves) / 2:
            low[column], high[column] = np.percentile(finite, [tail, 100 - tail])
    return low, high


def trials_for_seconds(seconds: float, wall_s: Sequence[float | None]) -> int:
    """The trials a budget of ``seconds`` pays for: seconds over the mean wall time of a trial
    (pruned and failed trials included: their time was spent), at most the trials there are."""
    times = [t for t in wall_s if t is not None and math.isfinite(t)]
    if not times or seconds <= 0:
        return 0
    return min(len(wall_s), int(seconds // float(np.mean(times))))
