"""Progress as log lines, for a console that is no terminal (a cluster job's log file).

Rich draws its progress bar only on a terminal; written to a file it appears once, at the end,
so a job log showed nothing for minutes. Where standard output is no terminal, this callback
logs one line every ``every_n_seconds`` (optimizer steps of the budget, steps per second, the
ETA and the batch's training values); on a terminal it does nothing and the bar shows the same.
The evaluations announce themselves (genlab.callbacks.fidelity) with the time they took.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import pytorch_lightning as pl

from genlab.errors import ConfigError
from genlab.job_progress import duration

log = logging.getLogger(__name__)


class ProgressLog(pl.Callback):
    def __init__(self, every_n_seconds: float | None = 30.0) -> None:
        if every_n_seconds is not None and every_n_seconds <= 0:
            raise ConfigError(
                f"callbacks.progress_log.every_n_seconds must be > 0 or null, got {every_n_seconds}"
            )
        self.every_n_seconds = every_n_seconds
        self._start_step = 0
        self._start_time = 0.0
        self._last_line = 0.0

    def _active(self, trainer: pl.Trainer) -> bool:
        return (
            self.every_n_seconds is not None and trainer.is_global_zero and not sys.stdout.isatty()
        )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Speed counts this process's steps only (a resumed run starts at its checkpoint's).
        self._start_step = trainer.global_step
        self._start_time = self._last_line = time.monotonic()
        if self._active(trainer):
            log.info(
                "Training from step %d to %s; progress every %g s",
                trainer.global_step, _budget(trainer), self.every_n_seconds,
            )  # fmt: skip

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        now = time.monotonic()
        due = self.every_n_seconds is not None and now - self._last_line >= self.every_n_seconds
        if due and self._active(trainer):
            self._last_line = now
            log.info("%s", self.line(trainer, pl_module, now))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._active(trainer):
            log.info("%s", self.line(trainer, pl_module, time.monotonic(), ended=True))

    def line(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, now: float, ended: bool = False
    ) -> str:
        """``step 120/2000 (6%), 3.2 steps/s, ETA 9 min 47 s, train/d_loss=0.69 ...``; at the
        end the training time instead of the ETA."""
        step, max_steps = trainer.global_step, trainer.max_steps
        elapsed = max(now - self._start_time, 1e-9)
        rate = (step - self._start_step) / elapsed
        if max_steps is not None and max_steps > 0:
            parts = [f"step {step}/{max_steps} ({step / max_steps:.0%})", f"{rate:.3g} steps/s"]
            if not ended:
                parts.append(f"ETA {duration((max_steps - step) / rate)}" if rate else "")
        else:
            parts = [f"step {step} (epoch {trainer.current_epoch})", f"{rate:.3g} steps/s"]
        if ended:
            parts.append(f"trained in {duration(elapsed)}")
        values = getattr(pl_module, "step_values", None) or {}
        parts += [" ".join(f"{key}={float(value):.4g}" for key, value in values.items())]
        return ", ".join(part for part in parts if part)


def _budget(trainer: pl.Trainer) -> str:
    if trainer.max_steps is not None and trainer.max_steps > 0:
        return f"step {trainer.max_steps}"
    return f"epoch {trainer.max_epochs}"
