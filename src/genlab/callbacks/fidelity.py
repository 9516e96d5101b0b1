"""FID / IS / KID / precision-recall during training (every N steps and at the end)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from genlab.callbacks.every_n_steps import EveryNSteps
from genlab.metrics.evaluator import Evaluator
from genlab.models.base import GenerativeModule
from genlab.process import await_verdict
from genlab.tracking.history import append_history

log = logging.getLogger(__name__)


class FidelityMetrics(EveryNSteps):
    """Rank zero samples and scores while the other ranks wait at a barrier, so a number is
    never computed on one shard's samples, and no rank runs ahead into the next step."""

    config_key = "metrics"

    def __init__(
        self,
        evaluator: Evaluator,
        every_n_steps: int | None = None,
        history_path: Path | None = None,
    ) -> None:
        super().__init__(every_n_steps, at_start=False)
        self.evaluator = evaluator
        self.history_path = history_path
        self.results: dict[str, Any] = {}

    def run(self, trainer: pl.Trainer, model: GenerativeModule) -> None:
        if trainer.is_global_zero:
            protocol = self.evaluator.protocol
            log.info(
                "Evaluating at step %d: %d generated images against the %s split (%s)",
                trainer.global_step, protocol.num_samples, protocol.real_split,
                protocol.extractor,
            )  # fmt: skip
            self.results = self.evaluator.score_model(model)
            if self.history_path is not None:
                progress = {k: v for k, v in model.progress().items() if k != "global_step"}
                record = {"step": trainer.global_step, **progress, **self.results}
                append_history(self.history_path, record)
                # A sweep that prunes decides on this evaluation before training goes on.
                await_verdict(self.history_path.parent, trainer.global_step)
            extractor = self.evaluator.protocol.extractor
            logged: dict[str, Any] = {
                f"metrics/{extractor}/{k}": v for k, v in self.results.items()
            }
            logged["metrics/optimizer_step"] = trainer.global_step
            for logger in trainer.loggers:
                logger.log_metrics(logged)
            # In callback_metrics, checkpoints can monitor the scores, and Lightning hands
            # them back to the main process when rank zero was spawned (ddp_spawn).
            protocol_fields = self.evaluator.fields()
            trainer.callback_metrics.update(
                {
                    f"{self._prefix}{key}": torch.tensor(float(value), dtype=torch.float64)
                    for key, value in self.results.items()
                    if key not in protocol_fields
                }
            )
            scores = " ".join(
                f"{key}={value:.4g}"
                for key, value in self.results.items()
                if key not in protocol_fields and key != "eval_s"
            )
            log.info(
                "Metrics at step %d (%s, %.0f s): %s",
                trainer.global_step,
                extractor,
                self.results.get("eval_s", 0.0),
                scores,
            )
        trainer.strategy.barrier("genlab-metrics")

    @property
    def _prefix(self) -> str:
        return f"metrics/{self.evaluator.protocol.extractor}/"

    def final_results(self, callback_metrics: dict[str, Any]) -> dict[str, Any]:
        """The latest scores: this process's, or those a spawned rank zero handed back."""
        if self.results:
            return self.results
        scores = {
            key.removeprefix(self._prefix): float(value)
            for key, value in callback_metrics.items()
            if key.startswith(self._prefix)
        }
        return {**self.evaluator.fields(), **scores} if scores else {}
