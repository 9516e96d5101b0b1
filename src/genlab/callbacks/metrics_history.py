"""metrics_history.jsonl: every evaluation of a run (step and scores), whatever the loggers.

compare.py draws metric-over-steps curves from it. The metrics callback scores; this one
only appends what it scored, one JSON object per evaluation, rank zero only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from genlab.callbacks.fidelity import FidelityMetrics
from genlab.tracking.history import HISTORY_FILE


class MetricsHistory(pl.Callback):
    def __init__(self, dirpath: str) -> None:
        self.path = Path(dirpath) / HISTORY_FILE
        self._written_step: int | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, *_: Any) -> None:
        self._append_new(trainer)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # After every callback's on_train_end, so the final evaluation is there.
        self._append_new(trainer)

    def _append_new(self, trainer: pl.Trainer) -> None:
        if not trainer.is_global_zero:
            return
        for callback in trainer.callbacks:
            # One evaluation per optimizer step at most: the step identifies it.
            if not isinstance(callback, FidelityMetrics) or not callback.results:
                continue
            if callback.last_step == self._written_step:
                continue
            self._written_step = callback.last_step
            record = {"step": callback.last_step, **callback.results}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as history:
                history.write(json.dumps(record, default=float) + "\n")
