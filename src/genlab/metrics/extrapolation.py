"""FID∞ and IS∞ (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where
to find them"): the score at several sample counts N, from random subsets of one set of
generated features (no new images, no new extraction), fitted by a line in 1/N; the intercept
is the score of infinitely many samples. FID's bias is close to linear in 1/N, so FID∞ no
longer depends on how many images were generated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from torch import Tensor


def sample_counts(num_samples: int, points: int, min_fraction: float) -> tuple[int, ...]:
    """``points`` counts evenly spaced from ``min_fraction * num_samples`` to ``num_samples``
    (the paper: 15 counts from 5,000 to 50,000, truncated to integers)."""
    low = max(2, round(min_fraction * num_samples))
    return tuple(int(n) for n in np.unique(np.linspace(low, num_samples, points).astype(int)))


@dataclass(frozen=True)
class Extrapolation:
    counts: tuple[int, ...]
    scores: tuple[float, ...]  # the score at each count
    intercept: float  # the score at 1/N = 0
    slope: float  # the score's change per unit of 1/N


def extrapolate(
    features: Tensor,
    score: Callable[[Tensor], float],
    counts: tuple[int, ...],
    seed: int,
) -> Extrapolation:
    """``score`` of a random subset of ``features`` at each count (one permutation per count,
    from ``seed``), and the least-squares line through (1/N, score)."""
    if len(counts) < 2 or max(counts) > features.size(0):
        raise ValueError(f"counts {counts} need 2 or more values up to {features.size(0)}")
    generator = torch.Generator().manual_seed(seed)
    scores = tuple(
        score(features[torch.randperm(features.size(0), generator=generator)[:n]]) for n in counts
    )
    fit = stats.linregress([1 / n for n in counts], scores)
    return Extrapolation(counts, scores, float(fit.intercept), float(fit.slope))
