"""A plain DCGAN on Fashion-MNIST (Radford et al. 2015), as a single-file script: small conv
nets with batch norm, the non-saturating loss, Adam 2e-4, beta1 0.5, batch 64.

    python benchmarks/plain/dcgan.py --seconds 150 --out DIR
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from common import (
    arguments,
    batches,
    conv_discriminator,
    conv_generator,
    fashion_mnist,
    finish_gan,
)

LATENT, BATCH = 100, 64

generator = conv_generator(LATENT)
discriminator = conv_discriminator(batch_norm=True)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    data = batches(fashion_mnist(args.data) * 2 - 1, BATCH)  # tanh range
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def iteration() -> None:
        real = next(data)
        fake = generator(torch.randn(BATCH, LATENT))
        # -log D(x) - log(1 - D(G(z))), and the generator's non-saturating -log D(G(z))
        loss_d = (
            F.softplus(-discriminator(real)).mean()
            + F.softplus(discriminator(fake.detach())).mean()
        )
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-discriminator(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    finish_gan(generator, LATENT, iteration, args)


if __name__ == "__main__":
    main()
