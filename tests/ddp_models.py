"""Test-only parts for the DDP tests: a deliberately broken model (proof that the tests catch
the bug they target) and a probe of each rank's latents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from genlab.losses.gradient_penalty import gradient_penalty
from genlab.models import WGANGP


class RankLocalPenaltyWGANGP(WGANGP):
    """WGAN-GP whose gradient penalty reaches the critic outside DDP: its gradient is added
    after DDP has averaged the others, so each rank applies the penalty of its own batch."""

    def discriminator_regularizer(
        self, real: Tensor, fake: Tensor, real_scores: Tensor, fake_scores: Tensor
    ) -> tuple[None, dict[str, Tensor]]:
        penalty = gradient_penalty(self.discriminator, real, fake)
        self._local_grads = torch.autograd.grad(
            self.gp_weight * penalty, list(self.discriminator.parameters()), allow_unused=True
        )
        return None, {"gradient_penalty": penalty.detach()}

    def on_train_start(self) -> None:
        _, opt_d = self.optimizers()
        opt_d.optimizer.register_step_pre_hook(self._add_local_penalty)

    def _add_local_penalty(self, *_: Any) -> None:
        for parameter, grad in zip(self.discriminator.parameters(), self._local_grads, strict=True):
            if grad is not None:
                parameter.grad.add_(grad)


class LatentProbe(pl.Callback):
    """Writes the first latents each rank draws for training to ``dirpath/latents_rank<r>.pt``."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        state = torch.get_rng_state()
        torch.save(
            pl_module.sample_latent(8), self.dirpath / f"latents_rank{trainer.global_rank}.pt"
        )
        torch.set_rng_state(state)
