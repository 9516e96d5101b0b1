"""Adversarial losses on raw discriminator outputs (logits / critic scores).

Each loss is a stateless object with two methods, so a config swaps both halves at once:
``discriminator(real, fake)`` and ``generator(fake)``, each returning a scalar to minimise.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor


class AdversarialLoss(Protocol):
    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor: ...

    def generator(self, fake: Tensor) -> Tensor: ...


class NonSaturatingLoss:
    """Goodfellow et al. 2014, generator maximises log D(G(z)) (the usual choice)."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return F.softplus(-fake).mean()


class MinimaxLoss(NonSaturatingLoss):
    """Goodfellow et al. 2014, the original zero-sum objective: generator minimises log(1 - D(G(z)))."""

    def generator(self, fake: Tensor) -> Tensor:
        return -F.softplus(fake).mean()


class HingeLoss:
    """Lim & Ye 2017; Miyato et al. 2018."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class LeastSquaresLoss:
    """Mao et al. 2017 (LSGAN), targets a=0 (fake), b=1 (real), c=1 (generator), on the raw
    outputs. ``sigmoid=True`` squares the errors of sigmoid(D) instead, the LSGAN of Lucic et
    al. 2018's code (compare_gan)."""

    def __init__(self, sigmoid: bool = False) -> None:
        self.sigmoid = sigmoid

    def _outputs(self, scores: Tensor) -> Tensor:
        return torch.sigmoid(scores) if self.sigmoid else scores

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = self._outputs(real), self._outputs(fake)
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()

    def generator(self, fake: Tensor) -> Tensor:
        return 0.5 * ((self._outputs(fake) - 1.0) ** 2).mean()


class WassersteinLoss:
    """Arjovsky et al. 2017: the critic's loss is minus the Wasserstein estimate."""

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake.mean() - real.mean()

    def generator(self, fake: Tensor) -> Tensor:
        return -fake.mean()


def wasserstein_estimate(real: Tensor, fake: Tensor) -> Tensor:
    """The critic's estimate of W(P_real, P_fake): E[D(real)] - E[D(fake)]."""
    return real.mean() - fake.mean()


__all__ = [
    "AdversarialLoss",
    "HingeLoss",
    "LeastSquaresLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "WassersteinLoss",
    "wasserstein_estimate",
]
