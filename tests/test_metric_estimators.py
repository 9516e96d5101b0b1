"""Density/coverage and FID∞ / IS∞ on synthetic features whose answers are known."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab._compat.torch_fidelity import (
    fid_features_to_statistics,
    fid_statistics_to_metric,
    prc_features_to_metric,
)
from genlab.compare.protocols import mixed_protocols
from genlab.metrics.density_coverage import density_coverage
from genlab.metrics.extrapolation import extrapolate, sample_counts
from genlab.metrics.keys import BY_NAME, PROTOCOL_FIELDS
from genlab.metrics.protocol import MetricProtocol


def gaussian(n: int, dim: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)) + shift


def test_hand_computed_density_and_coverage() -> None:
    # Real points on a line at 0, 1, 2, 10; with k=1 each ball reaches the nearest real
    # neighbour: radii 1, 1, 1, 8.
    real = torch.tensor([[0.0], [1.0], [2.0], [10.0]])
    # 0.5 is inside the balls of 0 and 1 (0.5 < 1), not 2 (1.5) nor 10 (9.5 > 8): 2 balls.
    # 1.8 is inside the balls of 1 (0.8) and 2 (0.2), not 0 (1.8) nor 10 (8.2): 2 balls.
    # 30 is in none (20 from 10).
    generated = torch.tensor([[0.5], [1.8], [30.0]])
    result = density_coverage(real, generated, k=1, batch_size=2)
    assert result["density"] == pytest.approx((2 + 2 + 0) / (1 * 3))
    assert result["coverage"] == pytest.approx(3 / 4)  # the balls of 0, 1 and 2, not 10


def test_identical_sets_cover_everything_with_density_one() -> None:
    # Each real ball (strictly inside its k-th neighbour) holds the point itself and its
    # k - 1 nearer neighbours: k points per ball, so density is exactly k / k.
    real = gaussian(20, 4, seed=0)
    for k in (1, 3, 5):
        assert density_coverage(real, real.clone(), k=k, batch_size=7) == {
            "density": pytest.approx(1.0),
            "coverage": 1.0,
        }


def test_same_distribution_gives_density_near_one_and_the_expected_coverage() -> None:
    # Naeem et al.: for two samples of one distribution with M = N, E[density] = 1 and
    # E[coverage] = 1 - (N - 1)...(N - k) / ((2N - 1)...(2N - k)), about 1 - 2^-k.
    n, k = 2000, 5
    result = density_coverage(gaussian(n, 8, seed=1), gaussian(n, 8, seed=2), k, batch_size=500)
    expected_coverage = 1 - math.prod((n - i) / (2 * n - i) for i in range(1, k + 1))
    assert result["density"] == pytest.approx(1.0, abs=0.06)
    assert result["coverage"] == pytest.approx(expected_coverage, abs=0.015)


def test_a_real_outlier_moves_recall_not_coverage() -> None:
    """A generated sample near a real outlier: recall counts the outlier as covered once a
    generated ball is wide enough; coverage only asks whether each real ball holds a sample."""
    real = gaussian(200, 2, seed=3)
    generated = gaussian(200, 2, seed=4)
    # One far generated point: its 3rd-nearest generated neighbour is far, so its ball is huge
    # and swallows the real set's outliers; recall rises, coverage cannot.
    far_generated = torch.cat([generated, torch.tensor([[40.0, 40.0]])])
    outlier_real = torch.cat([real, torch.tensor([[38.0, 38.0]])])
    before = prc_features_to_metric(generated, outlier_real, prc_neighborhood=3)
    after = prc_features_to_metric(far_generated, outlier_real, prc_neighborhood=3)
    dc_before = density_coverage(outlier_real, generated, k=5, batch_size=64)
    dc_after = density_coverage(outlier_real, far_generated, k=5, batch_size=64)
    assert after["recall"] > before["recall"]
    assert dc_after["coverage"] == dc_before["coverage"]


def test_bad_features_are_refused() -> None:
    with pytest.raises(ValueError, match="more than k real features"):
        density_coverage(torch.zeros(3, 2), torch.zeros(3, 2), k=3, batch_size=2)
    with pytest.raises(ValueError, match="one width"):
        density_coverage(torch.zeros(9, 2), torch.zeros(3, 4), k=3, batch_size=2)


def test_sample_counts_span_the_fraction_to_all() -> None:
    assert sample_counts(50_000, 15, 0.1) == tuple(np.linspace(5000, 50_000, 15).astype(int))
    assert sample_counts(10, 15, 0.1) == tuple(range(2, 11))  # duplicates merged


def test_fid_inf_recovers_the_true_distance_of_two_gaussians() -> None:
    """Generated N(0, I) vs real N(mu, I) with |mu|^2 = 1: the true FID is 1; FID at N samples
    is biased upwards by about a constant / N; the intercept of the fit in 1/N removes it."""
    dim = 32
    mu = torch.full((dim,), 1 / math.sqrt(dim))
    generated = gaussian(20_000, dim, seed=5).double()
    real_statistics = {"mu": mu.double().numpy(), "sigma": np.eye(dim)}

    def fid(features: torch.Tensor) -> float:
        statistics = fid_features_to_statistics(features)
        return fid_statistics_to_metric(statistics, real_statistics, False)[
            "frechet_inception_distance"
        ]

    fit = extrapolate(generated, fid, sample_counts(20_000, 15, 0.1), seed=0)
    assert fit.scores[0] - 1 > 0.1  # at 2,000 samples the bias is large
    assert abs(fit.intercept - 1) < 0.2 * (fit.scores[-1] - 1)  # FID∞ removes most of it
    assert fit.intercept == pytest.approx(1.0, abs=0.03)
    assert fit.slope > 0


def test_extrapolation_is_deterministic_and_refuses_too_many_samples() -> None:
    features = gaussian(100, 3, seed=6)

    def mean_norm(x: torch.Tensor) -> float:
        return float(x.norm(dim=1).mean())

    first = extrapolate(features, mean_norm, (10, 50, 100), seed=1)
    assert first == extrapolate(features, mean_norm, (10, 50, 100), seed=1)
    with pytest.raises(ValueError, match="up to 100"):
        extrapolate(features, mean_norm, (10, 200), seed=1)


def test_the_guard_covers_every_protocol_field_genlab_writes() -> None:
    """Every metric_* field a protocol writes beside its numbers is one the comparability
    guard compares, and a field that differs marks exactly the scores that depend on it."""
    protocol = MetricProtocol(
        extractor="cnn",
        weights_path=Path("w.pt"),
        weights_sha256="0" * 64,
        metrics=("fid", "is", "kid", "prc", "dc"),
        num_samples=1000,
        real_split="test",
        num_real=None,
        kid_subset_size=100,
        seed=0,
        batch_size=10,
        extrapolate=True,
    )
    fields = protocol.describe(1000, 2000, 28)
    assert set(fields) <= set(PROTOCOL_FIELDS)
    assert fields["metric_extrapolation_counts"].startswith("100,164,")
    other = {**fields, "metric_num_real": 500}
    scores = {"fid": 1.0, "is_mean": 2.0, "density": 1.0, "fid_inf": 0.5, "is_inf": 2.1}
    mixed = mixed_protocols([{**fields, **scores}, {**other, **scores}], list(scores))
    assert set(mixed.affected) == {"fid", "density", "fid_inf"}
    assert mixed.fields == {"metric_num_real": (2000, 500)}
    assert all("metric_num_real" in BY_NAME[name].depends_on for name in mixed.affected)
