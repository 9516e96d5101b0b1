"""FID / IS / KID / precision-recall during training (every N steps and at the end)."""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl

from genlab.callbacks.periodic import EveryNSteps
from genlab.metrics.evaluator import Evaluator
from genlab.models.base import GenerativeModule

log = logging.getLogger(__name__)


class FidelityMetrics(EveryNSteps):
    """Rank zero samples and scores while the other ranks wait at a barrier, so a number is
    never computed on one shard's samples, and no rank runs ahead into the next step."""

    name = "metrics"

    def __init__(self, evaluator: Evaluator, every_n_steps: int | None = None) -> None:
        super().__init__(every_n_steps, at_start=False)
        self.evaluator = evaluator
        self.results: dict[str, Any] = {}

    def run(self, trainer: pl.Trainer, model: GenerativeModule) -> None:
        if trainer.is_global_zero:
            self.results = self.evaluator.score_model(model)
            extractor = self.evaluator.protocol.extractor
            logged: dict[str, Any] = {
                f"metrics/{extractor}/{k}": v for k, v in self.results.items()
            }
            logged["metrics/optimizer_step"] = trainer.global_step
            for logger in trainer.loggers:
                logger.log_metrics(logged)
            log.info("Metrics at step %d (%s): %s", trainer.global_step, extractor, self.results)
        trainer.strategy.barrier("genlab-metrics")
