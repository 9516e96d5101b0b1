"""Stops a run whose training losses became NaN or infinite, or exploded past a threshold."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl

from genlab.errors import ConfigError, TrainingDiverged


class DivergenceGuard(pl.Callback):
    """After every training batch, checks the values logged under ``prefix``.

    A non-finite value, or one with ``abs(value) > threshold`` when a threshold is set, raises
    :class:`TrainingDiverged` on every rank (the decision is shared, so no rank waits at a
    collective the others left). The exception ends ``trainer.fit`` before the checkpoint
    callbacks of that batch run, so no checkpoint holds the diverged weights.
    """

    def __init__(self, threshold: float | None = None, prefix: str = "train/") -> None:
        if threshold is not None and not threshold > 0:
            raise ConfigError(
                f"callbacks.divergence_guard.threshold must be positive or null, got {threshold}"
            )
        self.threshold = threshold
        self.prefix = prefix

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        problem = self._first_problem(trainer.callback_metrics)
        if trainer.strategy.reduce_boolean_decision(problem is not None, all=False):
            raise TrainingDiverged(
                f"training diverged at step {trainer.global_step}: "
                f"{problem or 'a value on another process is not finite'}; lower the learning "
                "rates (model.optimizer*.lr) or change the model"
            )

    def _first_problem(self, metrics: dict[str, Any]) -> str | None:
        for key, value in metrics.items():
            if not key.startswith(self.prefix):
                continue
            number = float(value)
            if not math.isfinite(number):
                return f"{key}={number}"
            if self.threshold is not None and abs(number) > self.threshold:
                return (
                    f"|{key}|={abs(number):.4g} > callbacks.divergence_guard.threshold="
                    f"{self.threshold}"
                )
        return None
