"""Plumbing shared by the plain scripts: arguments, Fashion-MNIST from IDX files, a timed loop
that stops after a wall-time budget, and the samples written as PNG files for genlab-eval.

The plain scripts stand for the single-file PyTorch scripts researchers start from; they use
no genlab code, so that a benchmark against them compares genlab with an independent baseline.
"""

from __future__ import annotations

import argparse
import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

MIRROR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def conv_generator(latent: int) -> nn.Module:
    """The small DCGAN-style generator of tutorials: z -> 128x7x7 -> 64x14x14 -> 1x28x28, tanh."""
    return nn.Sequential(
        nn.Linear(latent, 128 * 7 * 7),
        nn.BatchNorm1d(128 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1),
        nn.Tanh(),
    )


def conv_discriminator(batch_norm: bool) -> nn.Module:
    """Its discriminator: 1x28x28 -> 64x14x14 -> 128x7x7 -> one score (no batch norm for a
    WGAN-GP critic, whose penalty is per sample)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1),
        nn.BatchNorm2d(128) if batch_norm else nn.Identity(),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(128 * 7 * 7, 1),
    )


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=150.0, help="training wall time")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG samples")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--data", type=Path, default=MIRROR, help="folder with the IDX .gz files")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def fashion_mnist(folder: Path) -> torch.Tensor:
    """The 60,000 training images as a float tensor (N, 1, 28, 28) in [0, 1]."""
    with gzip.open(folder / "train-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return torch.from_numpy(pixels.copy()).view(-1, 1, 28, 28).float() / 255


def batches(images: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    """Shuffled batches, epoch after epoch (the last incomplete batch of an epoch dropped)."""
    while True:
        order = torch.randperm(len(images))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield images[order[start : start + batch_size]]


def train_for(seconds: float, step: Callable[[], None]) -> int:
    """Calls ``step`` until ``seconds`` of wall time have passed; returns the number of calls."""
    steps, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        step()
        steps += 1
    return steps


@torch.no_grad()
def write_samples(sample: Callable[[int], torch.Tensor], count: int, out: Path) -> None:
    """``sample(n)`` returns n images in [0, 1]; they are written as 8-bit grey PNG files."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    while written < count:
        images = sample(min(500, count - written)).clamp(0, 1).mul(255).round().to(torch.uint8)
        for image in images[:, 0].numpy():
            Image.fromarray(image, mode="L").save(out / f"{written:05d}.png")
            written += 1


def finish_gan(
    generator: nn.Module, latent: int, iteration: Callable[[], None], args: argparse.Namespace
) -> None:
    """Trains for ``args.seconds``, then writes the tanh generator's samples as PNG files."""
    steps = train_for(args.seconds, iteration)
    print(f"{steps} generator steps in {args.seconds:.0f} s")
    generator.eval()
    write_samples(lambda n: (generator(torch.randn(n, latent)) + 1) / 2, args.samples, args.out)


def train_wgan_gp(
    generator: nn.Module,
    critic: nn.Module,
    latent: int,
    batch: int,
    lr: float,
    betas: tuple[float, float],
    args: argparse.Namespace,
    n_critic: int = 5,
    gp_weight: float = 10.0,
) -> None:
    """WGAN-GP (Gulrajani et al. 2017): ``n_critic`` critic steps with the gradient penalty
    on random interpolates, then one generator step; trains for ``args.seconds`` and writes
    the samples."""
    data = batches(fashion_mnist(args.data) * 2 - 1, batch)  # tanh range
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)

    def gradient_penalty(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        alpha = torch.rand(real.size(0), 1, 1, 1)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def iteration() -> None:
        for _ in range(n_critic):
            real = next(data)
            with torch.no_grad():
                fake = generator(torch.randn(batch, latent))
            loss_c = critic(fake).mean() - critic(real).mean()
            loss_c = loss_c + gp_weight * gradient_penalty(real, fake)
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        loss_g = -critic(generator(torch.randn(batch, latent))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    finish_gan(generator, latent, iteration, args)
