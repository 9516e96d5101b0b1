"""The InfoGAN-style networks (Chen et al. 2016) that Lucic et al. 2018 ("Are GANs Created
Equal?") share across every GAN and the VAE on MNIST and Fashion-MNIST.

Generator: z -> FC 1024, BN, ReLU -> FC (s/4)^2·128, BN, ReLU -> deconv 4x4/2 64, BN, ReLU
-> deconv 4x4/2 C. Discriminator: conv 4x4/2 64, lReLU -> conv 4x4/2 128, BN, lReLU
-> FC 1024, BN, lReLU -> FC out. ``width`` scales the 64/128 channels, ``hidden`` the FC layer.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from genlab.errors import ConfigError
from genlab.nets.layers import init_dcgan_weights, norm_layer, output_layer


def _quarter_size(image_size: int) -> int:
    if image_size < 8 or image_size % 4:
        raise ConfigError(
            f"InfoGAN networks need an image size divisible by 4 (28, 32, 64, ...), got "
            f"{image_size}; set data.image_size to one of those"
        )
    return image_size // 4


def _norm_1d(kind: str, features: int) -> nn.Module:
    """The fully connected layers' counterpart of the conv norm: same kinds, 1-D."""
    if kind == "batch":
        return nn.BatchNorm1d(features)
    if kind in ("layer", "instance"):
        return nn.LayerNorm(features)
    return norm_layer(kind, features)


class InfoGANGenerator(nn.Module):
    """z (N, latent_dim) -> image (N, channels, image_size, image_size)."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        output: str,
        width: int = 64,
        hidden: int = 1024,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        side = _quarter_size(image_size)
        use_bias = norm == "none"
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden, bias=use_bias),
            _norm_1d(norm, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 2 * width * side * side, bias=use_bias),
            _norm_1d(norm, 2 * width * side * side),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (2 * width, side, side)),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=use_bias),
            norm_layer(norm, width),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
            output_layer(output),
        )
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.size(0), self.latent_dim))


class InfoGANDiscriminator(nn.Module):
    """image -> (N, out_features) scores. ``norm="none"`` for WGAN-GP's critic;
    ``spectral_norm=True`` wraps every conv and linear layer (Miyato et al. 2018)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        norm: str,
        width: int = 64,
        hidden: int = 1024,
        out_features: int = 1,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        side = _quarter_size(image_size)
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        use_bias = norm == "none"
        self.net = nn.Sequential(
            sn(nn.Conv2d(channels, width, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1, bias=use_bias)),
            norm_layer(norm, 2 * width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
            sn(nn.Linear(2 * width * side * side, hidden, bias=use_bias)),
            _norm_1d(norm, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Linear(hidden, out_features)),
        )
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
