"""A plain MLP WGAN-GP on Fashion-MNIST, as a single-file script in the style of the widely used
collections of one-file GANs: generator 100-128-256-512-1024-784 (batch norm, LeakyReLU 0.2,
tanh), critic 784-512-256-1 (LeakyReLU 0.2), 5 critic steps per generator step, lambda 10,
Adam 2e-4, betas (0.5, 0.999), batch 64. Far cheaper per step than conv nets on a CPU.

    python benchmarks/plain/wgan_gp_mlp.py --seconds 150 --out DIR
"""

from __future__ import annotations

from common import arguments, train_wgan_gp
from torch import nn

LATENT, BATCH = 100, 64


def block(inputs: int, outputs: int, batch_norm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(inputs, outputs)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(outputs))
    return [*layers, nn.LeakyReLU(0.2)]


generator = nn.Sequential(
    *block(LATENT, 128, batch_norm=False),
    *block(128, 256, batch_norm=True),
    *block(256, 512, batch_norm=True),
    *block(512, 1024, batch_norm=True),
    nn.Linear(1024, 784),
    nn.Tanh(),
    nn.Unflatten(1, (1, 28, 28)),
)
critic = nn.Sequential(
    nn.Flatten(),
    *block(784, 512, batch_norm=False),
    *block(512, 256, batch_norm=False),
    nn.Linear(256, 1),
)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    train_wgan_gp(generator, critic, LATENT, BATCH, lr=2e-4, betas=(0.5, 0.999), args=args)


if __name__ == "__main__":
    main()
