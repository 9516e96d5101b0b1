"""Lightning's ModelCheckpoint, saving every N steps *and* every M minutes, and at the end."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.utilities.exceptions import SIGTERMException

from genlab._compat.lightning import CheckpointInternals
from genlab.errors import ConfigError


class PeriodicCheckpoint(CheckpointInternals):
    """``every_n_train_steps`` is Lightning's; ``every_n_minutes`` adds a time trigger.

    Lightning's ModelCheckpoint takes either a step or a time interval, and under manual
    optimization (genlab's GANs) it ignores ``train_time_interval`` altogether. One subclass
    with both triggers keeps one list of saved files, so ``save_top_k`` (with
    ``monitor: step``, ``mode: max``) bounds all periodic checkpoints together. With
    ``save_last``, ``last.ckpt`` is also written when training ends between two periodic
    checkpoints, so it always holds the final state.
    """

    def __init__(self, *args: Any, every_n_minutes: float | None, **kwargs: Any) -> None:
        if every_n_minutes is not None and every_n_minutes <= 0:
            raise ConfigError(
                "callbacks.model_checkpoint.every_n_minutes must be positive or null, "
                f"got {every_n_minutes}"
            )
        super().__init__(*args, **kwargs)
        self.every_n_minutes = every_n_minutes
        self._last_save_time: float | None = None

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # The checkpoint a run resumes from holds its step: a stop before training goes on
        # leaves that file as it is instead of writing the same step again.
        self.last_saved_step = int(checkpoint["global_step"])

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._last_save_time = time.monotonic()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        saved_before = self.last_saved_step
        super().on_train_batch_end(trainer, pl_module, *args, **kwargs)
        if self.last_saved_step != saved_before:
            self._last_save_time = time.monotonic()
        elif self._time_is_up(trainer) and not self.skips_saving(trainer):
            self.save_top_k_and_last(trainer)
            self._last_save_time = time.monotonic()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if training_ends_after_this_epoch(trainer):
            self._save_final(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._save_final(trainer)  # already written at the last epoch's end, as a rule
        super().on_train_end(trainer, pl_module)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        # Only a requested stop: after a divergence or a crash the current weights may be the
        # damage, and last.ckpt must keep the previous good state.
        if isinstance(exception, SIGTERMException):
            self._save_final(trainer)

    def _save_final(self, trainer: pl.Trainer) -> None:
        if self.save_last and self.last_saved_step != trainer.global_step:
            self.write_last_checkpoint(trainer)

    def _time_is_up(self, trainer: pl.Trainer) -> bool:
        if self.every_n_minutes is None or self._last_save_time is None:
            return False
        elapsed = timedelta(seconds=time.monotonic() - self._last_save_time)
        # Rank zero's clock decides for all ranks, so no rank waits for a save the others skip.
        return bool(trainer.strategy.broadcast(elapsed >= timedelta(minutes=self.every_n_minutes)))


def training_ends_after_this_epoch(trainer: pl.Trainer) -> bool:
    """At an epoch's end: whether Lightning's fit loop stops here (budget reached or a stop
    requested), the same conditions as its own ``done``."""
    if trainer.should_stop or 0 < trainer.max_steps <= trainer.global_step:
        return True
    max_epochs = trainer.max_epochs
    return max_epochs is not None and max_epochs >= 0 and trainer.current_epoch + 1 >= max_epochs
