"""Runs a callback's work every N optimizer steps and once more at the end of training."""

from __future__ import annotations

from abc import abstractmethod

import pytorch_lightning as pl

from genlab.errors import ConfigError


class EveryNSteps(pl.Callback):
    """Checks whether a multiple of ``every_n_steps`` was crossed, since a GAN's global_step
    advances by more than one per batch. ``every_n_steps=None`` runs only at the end."""

    config_key = "callback"  # where the callback's settings are in the config, for errors

    def __init__(self, every_n_steps: int | None, at_start: bool = False) -> None:
        if every_n_steps is not None and every_n_steps < 1:
            raise ConfigError(
                f"{self.config_key}.every_n_steps must be >= 1 or null, got {every_n_steps}"
            )
        self.every_n_steps = every_n_steps
        self.at_start = at_start
        self.last_step: int | None = None

    @abstractmethod
    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The periodic work; called on every rank (rank-zero logic is the subclass's)."""

    def _run(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.last_step = trainer.global_step
        self.run(trainer, pl_module)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.last_step = trainer.global_step
        if self.at_start:
            self._run(trainer, pl_module)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_) -> None:
        if self.every_n_steps is None or self.last_step is None:
            return
        if trainer.global_step // self.every_n_steps > self.last_step // self.every_n_steps:
            self._run(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.last_step != trainer.global_step:
            self._run(trainer, pl_module)
