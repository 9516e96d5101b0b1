"""A progress bar that counts what the run's budget counts: optimizer steps.

Lightning's bar counts the batches of an epoch against ``min(epoch length, max_steps)``, but a
GAN makes 2 optimizer steps per batch (WGAN-GP with ``n_disc=5``: 1.2), so a 20-step run ended
at "10/20" with an ETA off by the same factor, under "Epoch 0/-2". With ``trainer.max_steps``
set, this bar runs over the whole run, from ``global_step`` (also after a resume) to
``max_steps``; with an epoch budget it keeps Lightning's per-epoch count.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from genlab._compat.lightning import RichProgressBarInternals


class StepProgressBar(RichProgressBarInternals):
    def _counts_steps(self) -> bool:
        return self.trainer.max_steps is not None and self.trainer.max_steps > 0

    @property
    def total_train_batches(self) -> int | float:
        if self._counts_steps():
            return self.trainer.max_steps
        return super().total_train_batches

    def train_bar_description(self, current_epoch: int) -> str:
        if self._counts_steps():
            return f"step (epoch {current_epoch})"
        return super().train_bar_description(current_epoch)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_start(trainer, pl_module)
        if self._counts_steps() and self.progress is not None:
            # Start from the step reached, so the speed estimate (and ETA) after a resume or at
            # a new epoch measures this process's steps only.
            self.progress.reset(
                self.train_progress_bar_id,
                total=self.total_train_batches,
                completed=trainer.global_step,
                description=self.train_bar_description(trainer.current_epoch),
            )

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if not self._counts_steps():
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
            return
        if not self.is_disabled and self.train_progress_bar_id is None:
            self.start_train_bar()  # a mid-epoch resume
        self.advance_train_bar(trainer.global_step)
        self.show_metrics(trainer, pl_module)
        self.refresh()
