"""GANs trained with manual optimization: DCGAN-style GAN and WGAN-GP.

One training step consumes one batch: a discriminator update on it, and every ``n_disc``-th
step a generator update. Lightning's ``global_step`` counts optimizer steps, so one
GAN iteration with ``n_disc=1`` is 2 steps; ``generator_steps`` counts generator updates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from genlab.errors import ConfigError
from genlab.losses.adversarial import AdversarialLoss, wasserstein_estimate
from genlab.losses.gradient_penalty import gradient_penalty
from genlab.models.base import GenerativeModule

OptimizerFactory = Callable[..., Optimizer]


def generator_ema(generator: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of the generator's parameters and batch-norm statistics,
    updated after every generator step; frozen, so neither optimizers nor DDP touch it."""
    ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.requires_grad_(False)
    return ema


class GAN(GenerativeModule):
    # Each backward pass updates one network and leaves the other's parameters without
    # gradients, so DDP must look for unused parameters (genlab.distributed.ddp_strategy).
    # static_graph cannot replace it: the set of used parameters alternates between passes.
    ddp_find_unused_parameters = True
    optimizer_config_keys = ("optimizer_g", "optimizer_d")

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: AdversarialLoss,
        optimizer_g: OptimizerFactory,
        optimizer_d: OptimizerFactory,
        latent_dim: int,
        n_disc: int,
        value_range: Sequence[float] = (-1.0, 1.0),
        num_fixed_samples: int = 64,
        fixed_noise_seed: int = 0,
        ema_decay: float | None = None,
    ) -> None:
        super().__init__(latent_dim, value_range, num_fixed_samples, fixed_noise_seed)
        if n_disc < 1:
            raise ConfigError(f"model.n_disc must be at least 1, got {n_disc}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ConfigError(
                f"model.ema_decay must be in (0, 1) or null (no EMA), got {ema_decay}; "
                "e.g. model.ema_decay=0.999"
            )
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.optimizer_g = optimizer_g
        self.optimizer_d = optimizer_d
        self.n_disc = n_disc
        self.disc_steps = 0
        self.generator_steps = 0
        self.generator_ema = None if ema_decay is None else generator_ema(generator, ema_decay)

    def sampling_generator(self) -> nn.Module:
        """The network that makes the reported images: the EMA generator when there is one."""
        return self.generator if self.generator_ema is None else self.generator_ema.module

    def decode(self, z: Tensor) -> Tensor:
        return self.to_unit_range(self.sampling_generator()(z))

    def compilable_networks(self) -> list[nn.Module]:
        return [self.generator, self.discriminator]

    def configure_optimizers(self) -> list[Optimizer]:
        return [
            self.optimizer_g(self.generator.parameters()),
            self.optimizer_d(self.discriminator.parameters()),
        ]

    def discriminator_regularizer(
        self, real: Tensor, fake: Tensor, real_scores: Tensor, fake_scores: Tensor
    ) -> tuple[Tensor | None, dict[str, Tensor]]:
        """An extra term for the discriminator's loss and values to log; none by default."""
        return None, {}

    def after_discriminator_step(self) -> None:
        """Called after each discriminator update (e.g. to clip its weights); nothing by default."""

    def training_step(self, batch: Any, batch_idx: int) -> None:
        real = self.images_of(batch)
        opt_g, opt_d = self.optimizers()
        logs = self._discriminator_step(real, opt_d)
        self.disc_steps += 1
        if self.disc_steps % self.n_disc == 0:
            logs["train/g_loss"] = self._generator_step(real.size(0), opt_g)
            self.generator_steps += 1
        self.count_images(real.size(0))
        self.record_step_values(
            logs, {k.removeprefix("train/"): v for k, v in logs.items() if k.endswith("_loss")}
        )

    def _discriminator_step(self, real: Tensor, opt_d: Any) -> dict[str, Tensor]:
        with self.toggled_optimizer(opt_d):
            fake = self.generator(self.sample_latent(real.size(0)))
            real_scores = self.discriminator(real)
            fake_scores = self.discriminator(fake)
            d_loss = self.loss.discriminator(real_scores, fake_scores)
            extra, extra_logs = self.discriminator_regularizer(real, fake, real_scores, fake_scores)
            total = d_loss if extra is None else d_loss + extra
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(total)
            opt_d.step()
        self.after_discriminator_step()
        logs = {
            "train/d_loss": d_loss.detach(),
            "train/d_real": real_scores.detach().mean(),
            "train/d_fake": fake_scores.detach().mean(),
        }
        logs.update({f"train/{k}": v.detach() for k, v in extra_logs.items()})
        return logs

    def _generator_step(self, batch_size: int, opt_g: Any) -> Tensor:
        with self.toggled_optimizer(opt_g):
            fake = self.generator(self.sample_latent(batch_size))
            g_loss = self.loss.generator(self.discriminator(fake))
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(g_loss)
            opt_g.step()
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        return g_loss.detach()

    def progress(self) -> dict[str, int]:
        return {**super().progress(), "generator_steps": self.generator_steps}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["gan_steps"] = {"disc": self.disc_steps, "generator": self.generator_steps}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        steps = checkpoint.get("gan_steps", {})
        self.disc_steps = int(steps.get("disc", 0))
        self.generator_steps = int(steps.get("generator", 0))


class WGANGP(GAN):
    """WGAN-GP (Gulrajani et al. 2017): Wasserstein loss plus a gradient penalty on the critic."""

    def __init__(self, *args: Any, gp_weight: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if gp_weight < 0:
            raise ConfigError(f"model.gp_weight must be non-negative, got {gp_weight}")
        self.gp_weight = gp_weight

    def compilable_networks(self) -> list[nn.Module]:
        # The gradient penalty differentiates the critic twice, which compiled graphs
        # (AOTAutograd) do not support: only the generator is compiled.
        return [self.generator]

    def discriminator_regularizer(
        self, real: Tensor, fake: Tensor, real_scores: Tensor, fake_scores: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        penalty = gradient_penalty(self.discriminator, real, fake)
        logs = {
            "gradient_penalty": penalty,
            "wasserstein": wasserstein_estimate(real_scores, fake_scores),
        }
        return self.gp_weight * penalty, logs


class WGAN(GAN):
    """WGAN (Arjovsky et al. 2017): Wasserstein loss with the critic's weights clipped to
    [-clip_value, clip_value] after every critic update."""

    def __init__(self, *args: Any, clip_value: float = 0.01, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if clip_value <= 0:
            raise ConfigError(f"model.clip_value must be positive, got {clip_value}")
        self.clip_value = clip_value

    @torch.no_grad()
    def after_discriminator_step(self) -> None:
        for parameter in self.discriminator.parameters():
            parameter.clamp_(-self.clip_value, self.clip_value)

    def discriminator_regularizer(
        self, real: Tensor, fake: Tensor, real_scores: Tensor, fake_scores: Tensor
    ) -> tuple[None, dict[str, Tensor]]:
        return None, {"wasserstein": wasserstein_estimate(real_scores, fake_scores)}


__all__ = ["GAN", "WGAN", "WGANGP"]
