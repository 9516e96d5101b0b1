"""A plain WGAN-GP on Fashion-MNIST (Gulrajani et al. 2017), as a single-file script: small
DCGAN-style conv nets, 5 critic steps per generator step, lambda 10, Adam 1e-4, betas (0, 0.9).

    python benchmarks/plain/wgan_gp.py --seconds 150 --out DIR
"""

from __future__ import annotations

from common import arguments, conv_discriminator, conv_generator, train_wgan_gp

LATENT, BATCH = 128, 64

generator = conv_generator(LATENT)
critic = conv_discriminator(batch_norm=False)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    train_wgan_gp(generator, critic, LATENT, BATCH, lr=1e-4, betas=(0.0, 0.9), args=args)


if __name__ == "__main__":
    main()
