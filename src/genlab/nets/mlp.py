"""Fully connected networks: the encoder and decoder of Kingma & Welling 2013 (MNIST: one
hidden layer of 500 tanh units each side).

``MLPDiscriminator`` maps images to ``out_features`` scores (the VAE encoder's trunk with
``out_features=2 * latent_dim``, or a GAN discriminator); ``MLPDecoder`` maps latents to
images, as raw logits for a likelihood by default. Any image size works. Weights start from
genlab's N(0, 0.02): Kingma & Welling's N(0, 0.01) does not say whether 0.01 is the variance.
"""

from __future__ import annotations

from torch import Tensor, nn

from genlab.errors import ConfigError
from genlab.nets.layers import init_dcgan_weights, output_layer

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}


def _mlp(
    in_features: int, hidden: int, depth: int, activation: str, out_features: int
) -> list[nn.Module]:
    """``depth`` hidden layers of ``hidden`` units, then a linear output layer."""
    if activation not in ACTIVATIONS:
        raise ConfigError(
            f"unknown MLP activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    if depth < 0 or hidden < 1:
        raise ConfigError(
            f"an MLP needs depth >= 0 hidden layers of hidden >= 1 units, got depth={depth}, "
            f"hidden={hidden}; fix the network's depth or hidden in the model config"
        )
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_features if i == 0 else hidden, hidden), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(hidden if depth else in_features, out_features))
    return layers


class MLPDiscriminator(nn.Module):
    """image (N, C, H, W) -> (N, out_features)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        hidden: int = 500,
        depth: int = 1,
        activation: str = "tanh",
        out_features: int = 1,
    ) -> None:
        super().__init__()
        pixels = channels * image_size * image_size
        self.net = nn.Sequential(
            nn.Flatten(), *_mlp(pixels, hidden, depth, activation, out_features)
        )
        init_dcgan_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """z (N, latent_dim) -> image (N, channels, image_size, image_size); raw logits unless
    ``output`` is tanh or sigmoid (a GAN generator)."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        hidden: int = 500,
        depth: int = 1,
        activation: str = "tanh",
        output: str = "none",
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            *_mlp(latent_dim, hidden, depth, activation, channels * image_size * image_size),
            nn.Unflatten(1, (channels, image_size, image_size)),
            output_layer(output),
        )
        init_dcgan_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.size(0), self.latent_dim))
