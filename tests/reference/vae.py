"""The VAE of Kingma & Welling 2014 in plain PyTorch: the negative ELBO with a Bernoulli
decoder, a diagonal Gaussian encoder and the reparameterisation trick, trained with Adam."""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def negative_elbo(x: Tensor, logits: Tensor, mean: Tensor, logvar: Tensor) -> dict[str, Tensor]:
    """Per-image averages: -log p(x|z) (Bernoulli, summed over pixels) and
    KL(q(z|x) || N(0, I)) = -1/2 sum(1 + log s^2 - m^2 - s^2) (the paper's appendix B)."""
    # x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), in PyTorch's stable form (finite where
    # p is 0 or 1). Written with logsigmoid it differs in the last bit, and through Adam such a
    # difference grows to 1e-4 within 50 steps on some batch orders, hiding real differences.
    log_p = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    recon = -log_p.reshape(len(x), -1).sum(dim=1).mean()
    kl = (-0.5 * (1 + logvar - mean**2 - logvar.exp()).sum(dim=1)).mean()
    return {"loss": recon + kl, "recon": recon, "kl": kl}


def train_vae(
    encoder: nn.Module,
    decoder: nn.Module,
    batches: Iterable[list[Tensor]],
    lr: float,
    betas: tuple[float, float],
    steps: int,
) -> list[dict[str, float]]:
    """Trains for ``steps`` batches; one row of loss terms per batch. The encoder returns
    (mean, log-variance); the decoder Bernoulli logits."""
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr, betas=betas)
    rows = []
    for step, (x,) in enumerate(batches):
        if step == steps:
            break
        mean, logvar = encoder(x)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
        terms = negative_elbo(x, decoder(z), mean, logvar)
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        rows.append({k: v.item() for k, v in terms.items()})
    return rows
