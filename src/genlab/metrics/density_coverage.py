"""Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
Generative Models") on features torch-fidelity already extracted for precision/recall.

Each real feature gets a ball reaching its k-th nearest real neighbour. Density counts, per
generated feature, the real balls it falls in (divided by k: about 1 when both sets come from
one distribution); coverage is the share of real balls holding at least one generated feature.
Unlike recall, an outlier among the real features does not widen a ball of the generated set.
As in the authors' implementation, "in a ball" means strictly closer than its radius.
"""

from __future__ import annotations

import torch
from torch import Tensor


def density_coverage(real: Tensor, generated: Tensor, k: int, batch_size: int) -> dict[str, float]:
    """Both (N, D) feature tensors; distances in blocks of ``batch_size`` rows (memory)."""
    if real.dim() != 2 or generated.dim() != 2 or real.size(1) != generated.size(1):
        raise ValueError(
            f"expected (N, D) features of one width, got {tuple(real.shape)} and "
            f"{tuple(generated.shape)}"
        )
    if not 1 <= k < real.size(0):
        raise ValueError(f"k={k} needs more than k real features, got {real.size(0)}")
    radii = torch.cat(
        [
            # k + 1: the nearest "neighbour" of a real feature is itself, at distance 0.
            torch.cdist(block, real).kthvalue(k + 1, dim=1).values
            for block in real.split(batch_size)
        ]
    )
    inside = 0
    covered = torch.zeros(real.size(0), dtype=torch.bool)
    for block in generated.split(batch_size):
        within = torch.cdist(block, real) < radii
        inside += int(within.sum())
        covered |= within.any(dim=0)
    return {
        "density": inside / (k * generated.size(0)),
        "coverage": float(covered.double().mean()),
    }
