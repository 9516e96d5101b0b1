"""A plain MLP VAE on Fashion-MNIST (Kingma & Welling 2014), as a single-file script in the
style of PyTorch's example: 784-400-20, Bernoulli likelihood, Adam 1e-3, batch 128.

    python benchmarks/plain/vae.py --seconds 150 --out DIR
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from common import arguments, batches, fashion_mnist, train_for, write_samples
from torch import nn

LATENT, HIDDEN, BATCH = 20, 400, 128


class VAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, HIDDEN), nn.ReLU())
        self.mean, self.logvar = nn.Linear(HIDDEN, LATENT), nn.Linear(HIDDEN, LATENT)
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, 784),
            nn.Unflatten(1, (1, 28, 28)),
        )

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        mean, logvar = self.mean(h), self.logvar(h)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum")
        kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum()
        return (reconstruction + kl) / x.size(0)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    data = batches(fashion_mnist(args.data), BATCH)
    vae = VAE()
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)

    def step() -> None:
        loss = vae.loss(next(data))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    steps = train_for(args.seconds, step)
    print(f"{steps} steps in {args.seconds:.0f} s")
    vae.eval()
    write_samples(
        lambda n: torch.sigmoid(vae.decoder(torch.randn(n, LATENT))), args.samples, args.out
    )


if __name__ == "__main__":
    main()
