"""A plain WGAN-GP on Fashion-MNIST (Gulrajani et al. 2017), as a single-file script: small
DCGAN-style conv nets, 5 critic steps per generator step, lambda 10, Adam 1e-4, betas (0, 0.9).

    python benchmarks/plain/wgan_gp.py --seconds 150 --out DIR
"""

from __future__ import annotations

import torch
from common import (
    arguments,
    batches,
    conv_discriminator,
    conv_generator,
    fashion_mnist,
    finish_gan,
)

LATENT, BATCH, N_CRITIC, GP_WEIGHT = 128, 64, 5, 10.0

generator = conv_generator(LATENT)
critic = conv_discriminator(batch_norm=False)


def gradient_penalty(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    alpha = torch.rand(real.size(0), 1, 1, 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    data = batches(fashion_mnist(args.data) * 2 - 1, BATCH)  # tanh range
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))

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
