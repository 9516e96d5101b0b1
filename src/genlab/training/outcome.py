"""How a training run ended: the status, error and exit code that summary.json, W&B and the
process report."""

from __future__ import annotations

import math
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
        self, exc: BaseException, trainer: pl.Trainer, stop_signals: StopSignals, run_dir: Path
    ) -> NoReturn:
        """Records why ``exc`` ended the run and raises what the caller should see: the
        signal's exit status for a stop signal, :class:`DiskFull` for a full disk, else
        ``exc`` itself."""
        if isinstance(exc, TrainingDiverged):
            self.status, self.error = "diverged", str(exc)
            raise exc
        if stop_signals.status is not None:
            assert stop_signals.received is not None
            self.status, self.exit_code = stop_signals.status, stop_signals.exit_code
            self.error = (
                f"stopped by {stop_signals.received.name} at step {trainer.global_step}; "
                "last.ckpt holds that step: continue with resume=true"
            )
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
