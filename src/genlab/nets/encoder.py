"""The VAE's encoder: a discriminator trunk that outputs a diagonal Gaussian.

The trunk is any discriminator network built with ``out_features=2 * latent_dim``, so the
VAE shares its architecture with the GANs it is compared against (Lucic et al. 2018).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn


class GaussianEncoder(nn.Module):
    """image -> (mean, logvar), each (N, latent_dim)."""

    def __init__(self, latent_dim: int, trunk: Callable[..., nn.Module]) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.trunk = trunk(out_features=2 * latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, logvar = self.trunk(x).chunk(2, dim=1)
        return mean, logvar
