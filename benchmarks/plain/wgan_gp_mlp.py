"""A plain MLP WGAN-GP on Fashion-MNIST, as a single-file script in the style of the widely used
collections of one-file GANs: generator 100-128-256-512-1024-784 (batch norm, LeakyReLU 0.2,
tanh), critic 784-512-256-1 (LeakyReLU 0.2), 5 critic steps per generator step, lambda 10,
Adam 2e-4, betas (0.5, 0.999), batch 64. Far cheaper per step than conv nets on a CPU.

    python benchmarks/plain/wgan_gp_mlp.py --seconds 150 --out DIR
"""

from __future__ import annotations

import torch
from common import arguments, batches, fashion_mnist, finish_gan
from torch import nn

LATENT, BATCH, N_CRITIC, GP_WEIGHT = 100, 64, 5, 10.0


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


def gradient_penalty(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    alpha = torch.rand(real.size(0), 1, 1, 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    data = batches(fashion_mnist(args.data) * 2 - 1, BATCH)  # tanh range
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_c = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def iteration() -> None:
        for _ in range(N_CRITIC):
            real = next(data)
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            loss_c = critic(fake).mean() - critic(real).mean()
            loss_c = loss_c + GP_WEIGHT * gradient_penalty(real, fake)
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        loss_g = -critic(generator(torch.randn(BATCH, LATENT))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    finish_gan(generator, LATENT, iteration, args)


if __name__ == "__main__":
    main()
