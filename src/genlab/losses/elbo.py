"""ELBO terms for a VAE with a standard normal prior and a diagonal Gaussian posterior.

Every term is summed over a sample's dimensions and averaged over the batch, so numbers
are in nats per image and comparable across papers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from genlab.errors import ConfigError


def kl_standard_normal(mean: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per sample, shape (batch,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).flatten(start_dim=1).sum(dim=1)


class BernoulliLikelihood:
    """p(x|z) = Bernoulli(sigmoid(logits)); data in [0, 1] (Fashion-MNIST, MNIST)."""

    def nll(self, logits: Tensor, target: Tensor) -> Tensor:
        """Negative log-likelihood per sample, shape (batch,)."""
        per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return per_pixel.flatten(start_dim=1).sum(dim=1)

    def mean(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits)


class GaussianLikelihood:
    """p(x|z) = N(sigmoid(out), std^2 I) with a fixed ``std``; data in [0, 1]."""

    def __init__(self, std: float = 0.1) -> None:
        if std <= 0:
            raise ConfigError(f"model.likelihood.std must be positive, got {std}")
        self.std = std

    def nll(self, out: Tensor, target: Tensor) -> Tensor:
        squared = ((target - self.mean(out)) / self.std) ** 2
        per_pixel = 0.5 * squared + math.log(self.std) + 0.5 * math.log(2 * math.pi)
        return per_pixel.flatten(start_dim=1).sum(dim=1)

    def mean(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out)
