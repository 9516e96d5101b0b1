"""The ResNet generator and critic of Gulrajani et al. 2017 (WGAN-GP, CIFAR-10 at 32x32).

Generator: z -> linear to base x base x width -> one residual up-block per doubling
(3 at 32x32) -> BN, ReLU, conv 3x3 -> tanh. Critic: an "optimized" first down-block (no
leading activation), down-blocks to twice the base size, two blocks without resampling, ReLU,
global mean pool, linear. Every block has ``width`` channels; the critic has no
normalisation, since the gradient penalty is per sample. Sizes are 4·2^k or 7·2^k, as for DCGAN.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from genlab.nets.layers import norm_layer, output_layer, upsampling_plan

Resample = Literal["up", "down"] | None
_RELU_GAIN = 2**0.5


def _layer(layer: nn.Conv2d | nn.Linear, gain: float, sn: bool) -> nn.Module:
    """Glorot-uniform weights (gain sqrt 2 before a ReLU, as the reference code's He init),
    zero biases; initialised before spectral norm reparametrises the weight."""
    nn.init.xavier_uniform_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return apply_spectral_norm(layer) if sn else layer


def _resampler(resample: Resample) -> nn.Module:
    if resample == "up":
        return nn.Upsample(scale_factor=2, mode="nearest")
    if resample == "down":
        return nn.AvgPool2d(2)
    return nn.Identity()


class ResidualBlock(nn.Module):
    """[norm, ReLU,] (upsample,) conv 3x3, norm, ReLU, conv 3x3 (, avg-pool) + shortcut.

    The shortcut is the identity when shape is kept, else a 1x1 conv and the resampling;
    both are linear and commute, so the conv runs at the lower resolution.
    ``preactivate=False`` is the critic's first block, which starts on raw pixels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        resample: Resample = None,
        norm: str = "none",
        spectral_norm: bool = False,
        preactivate: bool = True,
    ) -> None:
        super().__init__()
        head = [norm_layer(norm, in_channels), nn.ReLU()] if preactivate else []
        self.residual = nn.Sequential(
            *head,
            _resampler(resample) if resample == "up" else nn.Identity(),
            _layer(nn.Conv2d(in_channels, out_channels, 3, 1, 1), _RELU_GAIN, spectral_norm),
            norm_layer(norm, out_channels),
            nn.ReLU(),
            _layer(nn.Conv2d(out_channels, out_channels, 3, 1, 1), _RELU_GAIN, spectral_norm),
            _resampler(resample) if resample == "down" else nn.Identity(),
        )
        if in_channels == out_channels and resample is None:
            self.shortcut: nn.Module = nn.Identity()
        else:
            conv = _layer(nn.Conv2d(in_channels, out_channels, 1), 1.0, spectral_norm)
            steps = (
                [_resampler(resample), conv] if resample == "down" else [conv, _resampler(resample)]
            )
            self.shortcut = nn.Sequential(*steps)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.residual(x)


class ResNetGenerator(nn.Module):
    """z (N, latent_dim) -> image (N, channels, image_size, image_size)."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        width: int = 128,
        output: str = "tanh",
        norm: str = "batch",
    ) -> None:
        super().__init__()
        base, k = upsampling_plan(image_size)
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            _layer(nn.Linear(latent_dim, width * base * base), 1.0, sn=False),
            nn.Unflatten(1, (width, base, base)),
            *(ResidualBlock(width, width, "up", norm) for _ in range(k)),
            norm_layer(norm, width),
            nn.ReLU(),
            _layer(nn.Conv2d(width, channels, 3, 1, 1), 1.0, sn=False),
            output_layer(output),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.size(0), self.latent_dim))


class ResNetDiscriminator(nn.Module):
    """image -> (N, out_features) scores; ``spectral_norm=True`` wraps every conv and linear
    layer (Miyato et al. 2018)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int = 128,
        out_features: int = 1,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        _, k = upsampling_plan(image_size)
        downs = max(k - 1, 1)  # 32x32 -> 8x8, as Gulrajani et al.
        sn = spectral_norm
        self.net = nn.Sequential(
            ResidualBlock(channels, width, "down", spectral_norm=sn, preactivate=False),
            *(ResidualBlock(width, width, "down", spectral_norm=sn) for _ in range(downs - 1)),
            ResidualBlock(width, width, spectral_norm=sn),
            ResidualBlock(width, width, spectral_norm=sn),
            nn.ReLU(),
        )
        self.head = _layer(nn.Linear(width, out_features), 1.0, sn)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.net(x).mean(dim=(2, 3)))
