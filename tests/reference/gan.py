"""GAN, LSGAN, WGAN and WGAN-GP: each paper's objective and training loop, in plain PyTorch.

Every step reads one batch and updates the discriminator (critic) on it; every n_disc-th step
also updates the generator on fresh latents (Goodfellow et al. 2014, Algorithm 1 with k steps;
Arjovsky et al. 2017, Algorithm 1; Gulrajani et al. 2017, Algorithm 1). Latents z ~ N(0, I)
are drawn from the global torch RNG, one batch per network update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# (D(x) on real, D(G(z)) on fake) -> discriminator loss; D(G(z)) -> generator loss.
DiscriminatorObjective = Callable[[Tensor, Tensor], Tensor]
GeneratorObjective = Callable[[Tensor], Tensor]


def ns_gan_d(real: Tensor, fake: Tensor) -> Tensor:
    """Goodfellow et al. 2014: D = sigmoid(logit) maximises E log D(x) + E log(1 - D(G(z))).

    -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t), exactly: the stable
    form, which also rounds as genlab does (a 1e-7 rounding difference grows about 3x per
    step through Adam's first updates, which would hide real differences)."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def ns_gan_g(fake: Tensor) -> Tensor:
    """The non-saturating generator objective: G maximises E log D(G(z)), i.e. minimises
    -log sigmoid(D(G(z))) = softplus(-D(G(z)))."""
    return F.softplus(-fake).mean()


def lsgan_d(real: Tensor, fake: Tensor) -> Tensor:
    """Mao et al. 2017, eq. (2) with a = 0, b = 1: 1/2 E(D(x) - 1)^2 + 1/2 E D(G(z))^2."""
    return 0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(
        fake, torch.zeros_like(fake)
    )


def lsgan_g(fake: Tensor) -> Tensor:
    """Mao et al. 2017, eq. (2) with c = 1: 1/2 E(D(G(z)) - 1)^2."""
    return 0.5 * F.mse_loss(fake, torch.ones_like(fake))


def lsgan_sigmoid_d(real: Tensor, fake: Tensor) -> Tensor:
    """Lucic et al. 2018's LSGAN (their code, compare_gan): the same squares on sigmoid(D)."""
    return lsgan_d(torch.sigmoid(real), torch.sigmoid(fake))


def lsgan_sigmoid_g(fake: Tensor) -> Tensor:
    return lsgan_g(torch.sigmoid(fake))


def wasserstein_d(real: Tensor, fake: Tensor) -> Tensor:
    """Arjovsky et al. 2017: the critic maximises E f(x) - E f(G(z))."""
    return -(real.mean() - fake.mean())


def wasserstein_g(fake: Tensor) -> Tensor:
    return -fake.mean()


def penalty(critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """Gulrajani et al. 2017, Algorithm 1: E(||grad f(x_hat)||_2 - 1)^2 with
    x_hat = eps x + (1 - eps) x_fake, eps ~ U[0, 1] per sample."""
    eps = torch.rand(real.shape[0], 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()


OBJECTIVES: dict[str, tuple[DiscriminatorObjective, GeneratorObjective]] = {
    "non_saturating": (ns_gan_d, ns_gan_g),
    "least_squares": (lsgan_d, lsgan_g),
    "least_squares_sigmoid": (lsgan_sigmoid_d, lsgan_sigmoid_g),
    "wasserstein": (wasserstein_d, wasserstein_g),
}


@dataclass(frozen=True)
class GANSetup:
    objective: str  # a key of OBJECTIVES
    latent_dim: int
    optimizer: str  # "adam" or "rmsprop"
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)  # Adam only
    n_disc: int = 1
    clip_value: float | None = None  # WGAN's weight clipping
    gp_weight: float | None = None  # WGAN-GP's penalty weight


def make_optimizer(setup: GANSetup, params: Iterable[Tensor]) -> torch.optim.Optimizer:
    if setup.optimizer == "adam":
        return torch.optim.Adam(params, lr=setup.lr, betas=setup.betas)
    if setup.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=setup.lr)
    raise ValueError(f"unknown optimizer {setup.optimizer!r}")


def train_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    batches: Iterable[list[Tensor]],
    setup: GANSetup,
    steps: int,
) -> list[dict[str, float]]:
    """Trains for ``steps`` batches; one row of losses and mean D outputs per batch."""
    d_objective, g_objective = OBJECTIVES[setup.objective]
    opt_g = make_optimizer(setup, generator.parameters())
    opt_d = make_optimizer(setup, discriminator.parameters())
    rows = []
    for step, (real,) in enumerate(batches):
        if step == steps:
            break
        fake = generator(torch.randn(len(real), setup.latent_dim)).detach()
        d_real, d_fake = discriminator(real), discriminator(fake)
        d_loss = d_objective(d_real, d_fake)
        row = {"d_loss": d_loss.item(), "d_real": d_real.mean().item()}
        row["d_fake"] = d_fake.mean().item()
        total = d_loss
        if setup.gp_weight is not None:
            gp = penalty(discriminator, real, fake)
            row["gradient_penalty"] = gp.item()
            total = d_loss + setup.gp_weight * gp
        opt_d.zero_grad()
        total.backward()
        opt_d.step()
        if setup.clip_value is not None:
            with torch.no_grad():
                for p in discriminator.parameters():
                    p.clamp_(-setup.clip_value, setup.clip_value)
        if (step + 1) % setup.n_disc == 0:
            g_loss = g_objective(discriminator(generator(torch.randn(len(real), setup.latent_dim))))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            row["g_loss"] = g_loss.item()
        rows.append(row)
    return rows
