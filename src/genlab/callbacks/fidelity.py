"""FID / IS / KID / precision-recall during training (every N steps and at the end)."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
import torch

from genlab.callbacks.every_n_steps import EveryNSteps
from genlab.metrics import degenerate
from genlab.metrics.evaluator import Evaluator
from genlab.models.base import GenerativeModule
from genlab.process import await_verdict
from genlab.tracking.history import append_history, read_history

if TYPE_CHECKING:
    from genlab.checkpoints import StopSignals

log = logging.getLogger(__name__)


class FidelityMetrics(EveryNSteps):
    """Rank zero samples and scores while the other ranks wait at a barrier, so a number is
    never computed on one shard's samples, and no rank runs ahead into the next step.

    With ``stop_signals``, a stop signal abandons an evaluation at once; a ``resumed`` run
    starts with the periodic evaluation that its checkpoint's step was due and that the run's
    history lacks (a stop or a kill during it)."""

    config_key = "metrics"

    def __init__(
        self,
        evaluator: Evaluator,
        every_n_steps: int | None = None,
        history_path: Path | None = None,
        stop_signals: StopSignals | None = None,
        resumed: bool = False,
    ) -> None:
        super().__init__(every_n_steps, at_start=False)
        self.evaluator = evaluator
        self.history_path = history_path
        self.stop_signals = stop_signals
        self.resumed = resumed
        self.results: dict[str, Any] = {}
        self.results_step: int | None = None  # the step the results are of

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if self._missed_evaluation(trainer):
            log.info("The evaluation at step %d did not finish before the run stopped: "
                     "running it now", trainer.global_step)  # fmt: skip
            self._run(trainer, pl_module)

    def _missed_evaluation(self, trainer: pl.Trainer) -> bool:
        """Whether a periodic evaluation was due at the step a resumed run starts from (a
        multiple of ``every_n_steps`` was crossed since the last evaluation in the history)
        and is not in the history. Rank zero reads it; every rank gets its answer."""
        missed = False
        if (
            trainer.is_global_zero
            and self.resumed
            and self.every_n_steps is not None
            and self.history_path is not None
            and trainer.global_step > 0
        ):
            step = trainer.global_step
            history = read_history(self.history_path.parent)
            last = max((r["step"] for r in history if r["step"] <= step), default=0)
            missed = step // self.every_n_steps > last // self.every_n_steps
        return bool(trainer.strategy.broadcast(missed))

    def _abandoned_on_stop(self, step: int) -> AbstractContextManager[None]:
        return nullcontext() if self.stop_signals is None else self.stop_signals.evaluation(step)

    def run(self, trainer: pl.Trainer, model: GenerativeModule) -> None:
        if trainer.is_global_zero:
            protocol = self.evaluator.protocol
            log.info(
                "Evaluating at step %d: %d generated images against the %s split (%s)",
                trainer.global_step, protocol.num_samples, protocol.real_split,
                protocol.extractor,
            )  # fmt: skip
            # Only the scoring: what follows writes the finished evaluation's files.
            with self._abandoned_on_stop(trainer.global_step):
                results = self.evaluator.score_model(model)
            self.results, self.results_step = results, trainer.global_step
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
            trainer.callback_metrics[self._step_key] = torch.tensor(trainer.global_step)
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

    @property
    def _step_key(self) -> str:
        return f"{self._prefix}step"

    def final_results(self, callback_metrics: dict[str, Any]) -> dict[str, Any]:
        """The latest scores, ``metrics_step`` (the step they are of) and whether they are
        degenerate: this process's, or those a spawned rank zero handed back."""
        if self.results:
            return {
                **self.results,
                "metrics_step": self.results_step,
                **degenerate.record(self.results),
            }
        scores = {
            key.removeprefix(self._prefix): float(value)
            for key, value in callback_metrics.items()
            if key.startswith(self._prefix) and key != self._step_key
        }
        if not scores:
            return {}
        step = int(callback_metrics[self._step_key])
        return {
            **self.evaluator.fields(),
            **scores,
            "metrics_step": step,
            **degenerate.record(scores),
        }
