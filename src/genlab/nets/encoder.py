"""The VAE's encoder: a DCGAN discriminator trunk that outputs a diagonal Gaussian."""

from __future__ import annotations

from torch import Tensor, nn

from genlab.nets.dcgan import DCGANDiscriminator


class GaussianEncoder(nn.Module):
    """image -> (mean, logvar), each (N, latent_dim)."""

    def __init__(
        self, latent_dim: int, channels: int, image_size: int, width: int = 64, norm: str = "batch"
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.trunk = DCGANDiscriminator(
            channels=channels,
            image_size=image_size,
            width=width,
            norm=norm,
            out_features=2 * latent_dim,
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, logvar = self.trunk(x).chunk(2, dim=1)
        return mean, logvar
