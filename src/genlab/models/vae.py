"""Variational autoencoder (Kingma & Welling 2014) with a beta-weighted KL (Higgins et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from genlab.errors import ConfigError
from genlab.losses.elbo import BernoulliLikelihood, GaussianLikelihood, kl_standard_normal
from genlab.models.base import GenerativeModule


class VAE(GenerativeModule):
    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood: BernoulliLikelihood | GaussianLikelihood,
        optimizer: Callable[..., Optimizer],
        latent_dim: int,
        beta: float = 1.0,
        value_range: Sequence[float] = (0.0, 1.0),
        num_fixed_samples: int = 64,
        fixed_noise_seed: int = 0,
    ) -> None:
        super().__init__(latent_dim, value_range, num_fixed_samples, fixed_noise_seed)
        if tuple(self.value_range) != (0.0, 1.0):
            raise ConfigError(
                f"the VAE's likelihoods model data in [0, 1]; set model.value_range=[0,1] "
                f"(got {list(self.value_range)})"
            )
        if beta < 0:
            raise ConfigError(f"model.beta must be non-negative, got {beta}")
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.optimizer = optimizer
        self.beta = beta

    def decode(self, z: Tensor) -> Tensor:
        return self.likelihood.mean(self.decoder(z))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Reconstructions in [0, 1] from the posterior means (eval mode)."""
        mean, _ = self.encoder(x.to(self.device))
        return self.generate(mean)

    def progress(self) -> dict[str, int]:
        # The decoder is the VAE's generator and is updated at every optimizer step, so its
        # generator steps line up with a GAN's in baselines and curves.
        return {**super().progress(), "generator_steps": self.global_step}

    def configure_optimizers(self) -> Optimizer:
        return self.optimizer(self.parameters())

    def _terms(self, x: Tensor) -> dict[str, Tensor]:
        mean, logvar = self.encoder(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        recon = self.likelihood.nll(self.decoder(z), x).mean()
        kl = kl_standard_normal(mean, logvar).mean()
        return {"loss": recon + self.beta * kl, "elbo": -(recon + kl), "recon": recon, "kl": kl}

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        x = self.images_of(batch)
        terms = self._terms(x)
        self.count_images(x.size(0))
        self.record_step_values(
            {f"train/{k}": v.detach() for k, v in terms.items()}, {"loss": terms["loss"].detach()}
        )
        return terms["loss"]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        terms = self._terms(self.images_of(batch))
        self.log_dict({f"val/{k}": v for k, v in terms.items()}, on_epoch=True, sync_dist=True)
