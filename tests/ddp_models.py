"""A deliberately broken model for the DDP tests: proof that they catch the bug they target."""

from __future__ import annotations

from typing import Any

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
