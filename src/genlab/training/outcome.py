"""How a training run ended: the status, error and exit code that summary.json, W&B and the
process report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from genlab.errors import DiskFull, GenlabError, TrainingDiverged, user_message
from genlab.process import take_stop_request
from genlab.tracking.disk import disk_full_message, no_space_error

if TYPE_CHECKING:
    import pytorch_lightning as pl

    from genlab.checkpoints import StopSignals


@dataclass
class Outcome:
    """``failed`` until the run proves otherwise."""

    status: str = "failed"
    error: str | None = None
    exit_code: int | None = None  # set when a stop signal ended the run
    abandoned_evaluation: int | None = None  # the step of an evaluation a stop cut short

    @property
    def exit_status(self) -> int:
        """What the W&B run records: 0 for ``ok``, else the signal's status or 1."""
        return 0 if self.status == "ok" else (self.exit_code or 1)

    def finished(self, trainer: pl.Trainer) -> None:
        """Fit returned: ``ok``, unless it was interrupted or its last values are not finite."""
        if trainer.interrupted:
            self.error = "interrupted"
            return
        not_finite = not_finite_values(trainer.callback_metrics)
        if not_finite:
            raise TrainingDiverged(
                f"the run ended at step {trainer.global_step} with values that are not "
                f"finite: {', '.join(not_finite)}; lower the learning rates "
                "(model.optimizer*.lr) or check the metrics' settings"
            )
        self.status = "ok"

    def fail(
        self,
        exc: BaseException,
        trainer: pl.Trainer,
        stop_signals: StopSignals,
        run_dir: Path,
        checkpoints: Sequence[Path],
    ) -> NoReturn:
        """Records why ``exc`` ended the run and raises what the caller should see: the
        signal's exit status for a stop signal, :class:`DiskFull` for a full disk, else
        ``exc`` itself. ``checkpoints``: where a resume would continue from, the first that
        reads back."""
        from genlab.checkpoints import EvaluationAbandoned

        if isinstance(exc, TrainingDiverged):
            self.status, self.error = "diverged", str(exc)
            raise exc
        if stop_signals.status is not None:
            self.status, self.exit_code = stop_signals.status, stop_signals.exit_code
            if isinstance(exc, EvaluationAbandoned):
                self.abandoned_evaluation = exc.step
            self.error = stop_message(
                stop_signals, trainer.global_step, saved_checkpoint(checkpoints),
                self.abandoned_evaluation,
            )  # fmt: skip
            requested = take_stop_request(run_dir)
            if requested is not None:  # e.g. a sweep that pruned this trial, and why
                self.status, self.error = str(requested["status"]), str(requested["reason"])
            raise SystemExit(self.exit_code) from None
        if isinstance(exc, KeyboardInterrupt):
            self.status = "interrupted"
        no_space = no_space_error(exc)
        if no_space is not None:
            self.error = disk_full_message(no_space, run_dir, checkpoint_bytes(trainer))
            raise DiskFull(self.error) from exc
        message = user_message(exc) if isinstance(exc, GenlabError) else exc
        self.error = f"{type(exc).__name__}: {message}"
        raise exc


def saved_checkpoint(checkpoints: Sequence[Path]) -> tuple[str, int] | None:
    """The name and step of the first of ``checkpoints`` that reads back, as written."""
    from genlab.checkpoints.format import saved_step

    for path in checkpoints:
        step = saved_step(path)
        if step is not None:
            return path.name, step
    return None


def stop_message(
    stop_signals: StopSignals, step: int, saved: tuple[str, int] | None, evaluation: int | None
) -> str:
    """What stopped the run, where, the checkpoint a resume continues from and its step
    (``saved``, read from the file) and how to go on."""
    assert stop_signals.received is not None
    name = stop_signals.received.name
    if stop_signals.at_once:  # by a Ctrl+C after the first stop signal
        second = "a second SIGINT" if name == "SIGINT" else f"SIGINT after {name}"
        what = f"stopped at once by {second} at step {step}"
    elif evaluation is not None:
        what = f"stopped by {name} during the evaluation at step {evaluation}, which did not finish"
    elif stop_signals.before_training:
        what = f"stopped by {name} at start-up, before training (step {step})"
    else:
        what = f"stopped by {name} at step {step}"
    if saved is None:
        return f"{what}; no checkpoint was saved: resume=true starts the run again"
    checkpoint, saved_at = saved
    then = "continue with resume=true"
    if evaluation is not None and evaluation == saved_at:
        then += ", which runs the evaluation"
    if saved_at < step:
        then += f", which trains steps {saved_at + 1}-{step} again"
    return f"{what}; {checkpoint} holds step {saved_at}: {then}"


def not_finite_values(metrics: dict[str, Any]) -> list[str]:
    """``key=value`` of every NaN or infinite value the run logged last."""
    return [f"{k}={float(v)}" for k, v in metrics.items() if not math.isfinite(float(v))]


def checkpoint_bytes(trainer: pl.Trainer) -> int:
    """About what a checkpoint of this run takes: the weights and the optimizers' state."""
    tensors = list(trainer.lightning_module.state_dict().values())
    for optimizer in trainer.optimizers:
        for state in optimizer.state.values():
            tensors += [value for value in state.values() if hasattr(value, "nbytes")]
    return sum(int(tensor.nbytes) for tensor in tensors)
