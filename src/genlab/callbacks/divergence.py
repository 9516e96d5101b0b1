"""Stops a run whose training losses became NaN or infinite, or exploded past a threshold."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from genlab.errors import ConfigError, TrainingDiverged

log = logging.getLogger(__name__)


class DivergenceGuard(pl.Callback):
    """After every training batch, checks the training values under ``prefix``: a genlab
    model's ``step_values`` (the batch's values, logged or not), else the logged ones.

    A non-finite value, or one with ``abs(value) > threshold`` when a threshold is set, raises
    :class:`TrainingDiverged` on every rank (the decision is shared, so no rank waits at a
    collective the others left). The exception ends ``trainer.fit`` before the checkpoint
    callbacks of that batch run, so no checkpoint holds the diverged weights.
    """

    def __init__(
        self,
        threshold: float | None,
        warn_above: float | None,
        prefix: str = "train/",
    ) -> None:
        for name, value in (("threshold", threshold), ("warn_above", warn_above)):
            if value is not None and not value > 0:
                raise ConfigError(
                    f"callbacks.divergence_guard.{name} must be positive or null, got {value}"
                )
        self.threshold = threshold
        self.warn_above = warn_above
        self.prefix = prefix
        self.warned: set[str] = set()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        values = getattr(pl_module, "step_values", None)
        problem = (
            self._first_problem(trainer.callback_metrics)
            if values is None
            else self._first_tensor_problem(values)
        )
        if trainer.is_global_zero:
            self._warn_once(
                trainer.callback_metrics if values is None else values, trainer.global_step
            )
        if trainer.strategy.reduce_boolean_decision(problem is not None, all=False):
            raise TrainingDiverged(
                f"training diverged at step {trainer.global_step}: "
                f"{problem or 'a value on another process is not finite'}; lower the learning "
                "rates (model.optimizer*.lr) and add resume=true to continue from the last "
                "checkpoint, or change the model"
            )

    def _warn_once(self, metrics: dict[str, Any], step: int) -> None:
        """A value far beyond any healthy loss scale (a gradient penalty of 1e24 with a finite
        loss): the run goes on, since only a threshold stops it, but the user hears of it."""
        if self.warn_above is None:
            return
        for key, value in metrics.items():
            number = float(value)
            if (
                key.startswith(self.prefix)
                and key not in self.warned
                and math.isfinite(number)
                and abs(number) > self.warn_above
            ):
                self.warned.add(key)
                log.warning(
                    "%s=%.4g at step %d: far beyond a healthy scale, the run is probably "
                    "diverging; callbacks.divergence_guard.threshold=%g would stop it",
                    key, number, step, self.warn_above,
                )  # fmt: skip

    def _first_tensor_problem(self, values: dict[str, Tensor]) -> str | None:
        """One check (one device sync) for the common case, all values fine."""
        checked = [v for k, v in values.items() if k.startswith(self.prefix)]
        if not checked:
            return None
        stacked = torch.stack([v.detach().float().reshape(()) for v in checked])
        bad = ~torch.isfinite(stacked)
        if self.threshold is not None:
            bad |= stacked.abs() > self.threshold
        return self._first_problem(values) if bool(bad.any()) else None

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
