"""Stopping a run on a signal without losing it: SIGTERM, SIGUSR1 and SIGINT end training at the
next batch boundary, with ``last.ckpt`` saved at that step and the run recorded as preempted
or interrupted.

Lightning already turns SIGTERM into a stop at a batch boundary (``SIGTERMException``, also
across DDP ranks) but ends the process with status 0 and saves nothing. genlab routes SIGINT
(Ctrl+C) and SIGUSR1 (what SLURM sends before a time limit, with ``--signal``) through the same
path, remembers which signal arrived, and lets :class:`~genlab.checkpoints.PeriodicCheckpoint`
save and ``genlab.cli.train`` record the outcome and exit with ``128 + signal``. A second
Ctrl+C interrupts at once, as users expect.
"""

from __future__ import annotations

import signal
from types import FrameType

import pytorch_lightning as pl
from lightning_fabric.plugins.environments import SLURMEnvironment

# The run's status in summary.json for each signal.
STATUS_OF_SIGNAL = {
    signal.SIGTERM: "preempted",
    signal.SIGUSR1: "preempted",
    signal.SIGINT: "interrupted",
}


class StopSignals(pl.Callback):
    """Forwards SIGINT and SIGUSR1 to Lightning's SIGTERM handling during training."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Installed after Lightning's own handlers (registered when fit starts); Lightning puts
        # back the previous handlers of every signal when fit ends.
        lightning_sigterm = signal.getsignal(signal.SIGTERM)
        if not callable(lightning_sigterm):
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            if self.received is None:
                self.received = signal.Signals(signum)
            elif signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl+C: stop now
            lightning_sigterm(signal.SIGTERM, frame)

        signals = [signal.SIGTERM, signal.SIGINT]
        environment = getattr(trainer.strategy, "cluster_environment", None)
        if not (isinstance(environment, SLURMEnvironment) and environment.auto_requeue):
            signals.append(signal.SIGUSR1)  # under SLURM's auto-requeue, Lightning's own
        for signum in signals:
            signal.signal(signum, stop)

    @property
    def status(self) -> str | None:
        """``preempted`` or ``interrupted`` once a signal stopped training, else None."""
        return None if self.received is None else STATUS_OF_SIGNAL[self.received]

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal."""
        assert self.received is not None
        return 128 + int(self.received)
