"""Layer helpers every network shares: the DCGAN size rule, norm and output layers by name,
and the DCGAN weight initialisation."""

from __future__ import annotations

from torch import nn

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
