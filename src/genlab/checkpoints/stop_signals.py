"""Stopping a run on a signal without losing it: SIGTERM, SIGUSR1 and SIGINT, from the moment
the run dir is locked until the run's record is written.

What a stop does depends on where the run is:

- **start-up, before the run writes anything** (its W&B run, ``.hydra/``): the run ends at once
  (:class:`StopRequested`); nothing was trained, and nothing is left half-made;
- **the rest of start-up** (the W&B run, Lightning's set-up, restoring a checkpoint): the signal
  is recorded and training stops before its first batch, through the same path as a stop during
  training, so that the summary, the W&B run and ``last.ckpt`` tell the step the run is at;
- **training**: Lightning turns SIGTERM into a stop at the next batch boundary
  (``SIGTERMException``, also across DDP ranks), where
  :class:`~genlab.checkpoints.PeriodicCheckpoint` saves ``last.ckpt``; SIGINT (Ctrl+C) and
  SIGUSR1 (what SLURM sends before a time limit, with ``--signal``) are routed into the same
  path, and a second Ctrl+C stops at once, as users expect;
- **an evaluation** (periodic or final): abandoned at once (:class:`EvaluationAbandoned`, a
  ``SIGTERMException``): it changes nothing that a checkpoint holds, and ``resume=true`` runs it;
- **writing the run's record**: further signals wait for it.

``genlab.training.train`` records the outcome (``preempted`` or ``interrupted``) and exits with
``128 + signal``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from types import FrameType
from typing import Any

import pytorch_lightning as pl
from lightning_fabric.plugins.environments import SLURMEnvironment
from pytorch_lightning.utilities.exceptions import SIGTERMException

from genlab.process import signals_handled

# The run's status in summary.json for each signal.
STATUS_OF_SIGNAL = {
    signal.SIGTERM: "preempted",
    signal.SIGUSR1: "preempted",
    signal.SIGINT: "interrupted",
}


class StopRequested(BaseException):
    """A stop signal during start-up, before the run wrote anything. A BaseException, as
    KeyboardInterrupt is, so that no library's ``except Exception`` takes it for an error."""


class EvaluationAbandoned(SIGTERMException):
    """A stop signal during the evaluation at ``step``: the evaluation is given up. Lightning's
    stop exception, so that a stop during a periodic evaluation saves ``last.ckpt`` as one
    between two batches does."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step


class _Phase(Enum):
    STARTING = "starting"  # nothing written yet: a stop ends the run at once
    PREPARING = "preparing"  # e.g. W&B run and Lightning's set-up: a stop waits for training
    RUNNING = "running"  # training and evaluations
    ENDING = "ending"  # the record is written: signals wait


class StopSignals(pl.Callback):
    """The run's handler of SIGTERM, SIGINT and SIGUSR1 (:meth:`installed`), and the callback
    that hands them to Lightning while it trains."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.before_training = False  # the signal came during start-up
        self.at_once = False  # a second Ctrl+C stopped the run without saving
        self._phase = _Phase.PREPARING
        self._evaluating: int | None = None  # the step of the evaluation running now
        self._forwarding = False
        self._previous: dict[signal.Signals, Any] = {}

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """This object handles the stop signals (in the main thread; elsewhere Python lets no
        one install a handler) until the block ends, when the previous handlers come back."""
        with signals_handled(STATUS_OF_SIGNAL, self._handle) as self._previous:
            try:
                yield self
            finally:
                self._previous = {}

    @contextmanager
    def starting(self) -> Iterator[None]:
        """The part of start-up before the run writes anything (its W&B run, ``.hydra/``): a
        stop signal, also one that came before, ends it at once with :class:`StopRequested`.
        After it, a stop goes through training's stop, before the first batch."""
        self._phase = _Phase.STARTING
        try:
            if self.received is not None:
                raise StopRequested
            yield
        finally:
            self._phase = _Phase.PREPARING

    def ending(self) -> None:
        """The run's record is being written: signals no longer interrupt anything."""
        self._phase = _Phase.ENDING

    def leave_requeue_to_lightning(self, trainer: pl.Trainer) -> None:
        """Under SLURM's auto-requeue Lightning's own handler of the requeue signal saves and
        requeues the job; it installs it only where no handler is set."""
        environment = getattr(trainer.strategy, "cluster_environment", None)
        if not (isinstance(environment, SLURMEnvironment) and environment.auto_requeue):
            return
        requeue = signal.Signals(environment.requeue_signal or signal.SIGUSR1)
        if requeue in self._previous:
            signal.signal(requeue, self._previous.pop(requeue))

    @contextmanager
    def evaluation(self, step: int) -> Iterator[None]:
        """An evaluation at ``step`` that a stop signal abandons at once (also one that came
        before it started)."""
        if self.received is not None:
            raise EvaluationAbandoned(step)
        self._evaluating = step
        try:
            yield
        finally:
            self._evaluating = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._phase = _Phase.RUNNING
        if self.received is None:
            return
        # A signal during start-up: stop before the first batch. Several processes stop
        # together through Lightning's own stop, which its loop checks on every rank before
        # each batch.
        if trainer.world_size == 1:
            raise SIGTERMException
        self._lightning_stop(None)

    @property
    def status(self) -> str | None:
        """``preempted`` or ``interrupted`` once a signal stopped the run, else None."""
        return None if self.received is None else STATUS_OF_SIGNAL[self.received]

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal."""
        assert self.received is not None
        return 128 + int(self.received)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._forwarding:  # Lightning's SIGTERM handler calls this one back
            return
        if self.received is None:
            self.received = signal.Signals(signum)
            self.before_training = self._phase in (_Phase.STARTING, _Phase.PREPARING)
            if self._phase is _Phase.STARTING:
                raise StopRequested
        elif signum == signal.SIGINT and self._phase is _Phase.RUNNING:
            self.at_once = True
            raise KeyboardInterrupt  # a second Ctrl+C: stop now
        if self._evaluating is not None:
            step, self._evaluating = self._evaluating, None
            raise EvaluationAbandoned(step)
        # Lightning's SIGTERM handler calls this one for SIGTERM: the others are routed into it.
        if self._phase is _Phase.RUNNING and signum != signal.SIGTERM:
            self._lightning_stop(frame)

    def _lightning_stop(self, frame: FrameType | None) -> None:
        """While Lightning trains, its SIGTERM handler makes the loop stop at the next batch
        boundary (on every rank)."""
        lightning: Callable[[int, FrameType | None], Any] | int | None = signal.getsignal(
            signal.SIGTERM
        )
        if not callable(lightning) or lightning == self._handle:
            return
        self._forwarding = True
        try:
            lightning(signal.SIGTERM, frame)
        finally:
            self._forwarding = False
