"""DCGAN networks (Radford et al. 2015) for any image size of the form 4·2^k or 7·2^k.

28x28 (MNIST-like), 32x32 (CIFAR-like) and 64x64 are the sizes in common use. The
discriminator doubles as the VAE's encoder trunk and the generator as its decoder, so
both model families share one convolutional stack.
"""

from __future__ import annotations

import itertools

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from genlab.errors import ConfigError

_BASE_SIZES = (4, 7)
NORMS = ("batch", "layer", "instance", "none")
OUTPUTS = ("tanh", "sigmoid", "none")


def upsampling_plan(image_size: int) -> tuple[int, int]:
    """(base, k) with image_size = base * 2**k, base in {4, 7}, k >= 1."""
    for base in _BASE_SIZES:
        size, k = image_size, 0
        while size > base and size % 2 == 0:
            size, k = size // 2, k + 1
        if size == base and k >= 1:
            return base, k
    raise ConfigError(
        f"DCGAN and ResNet networks need an image size of 4·2^k or 7·2^k (28, 32, 64, ...), got "
        f"{image_size}; set data.image_size to one of those"
    )


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")


def output_layer(kind: str) -> nn.Module:
    if kind == "tanh":
        return nn.Tanh()
    if kind == "sigmoid":
        return nn.Sigmoid()
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown generator output {kind!r}; choose one of {', '.join(OUTPUTS)}")


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> image (N, channels, image_size, image_size).

    Transposed convolutions with batch norm and ReLU; widths halve as resolution doubles,
    ending at ``width`` channels before the output layer.
    """

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        width: int = 64,
        output: str = "tanh",
        norm: str = "batch",
    ) -> None:
        super().__init__()
        base, k = upsampling_plan(image_size)
        self.latent_dim = latent_dim
        widths = [width * 2 ** (k - 1 - i) for i in range(k)]
        use_bias = norm == "none"
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, widths[0], base, 1, 0, bias=use_bias),
            norm_layer(norm, widths[0]),
            nn.ReLU(inplace=True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=use_bias),
                norm_layer(norm, w_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), output_layer(output)]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.size(0), self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """image -> (N, out_features) scores; strided convolutions with LeakyReLU(0.2).

    ``norm="none"`` gives the critic WGAN-GP needs (batch norm would break the per-sample
    gradient penalty); ``spectral_norm=True`` wraps every layer (Miyato et al. 2018).
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int = 64,
        norm: str = "batch",
        out_features: int = 1,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        base, k = upsampling_plan(image_size)
        widths = [width * 2**i for i in range(k)]
        sn = apply_spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = [
            sn(nn.Conv2d(channels, widths[0], 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                sn(nn.Conv2d(w_in, w_out, 4, 2, 1, bias=norm == "none")),
                norm_layer(norm, w_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [sn(nn.Conv2d(widths[-1], out_features, base, 1, 0))]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten(start_dim=1)


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions and linear layers, N(1, 0.02) for norm scales
    (Radford et al. 2015)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            weight = (
                m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            )
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif (
            isinstance(
                m, nn.BatchNorm1d | nn.BatchNorm2d | nn.GroupNorm | nn.InstanceNorm2d | nn.LayerNorm
            )
            and m.weight is not None
        ):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
