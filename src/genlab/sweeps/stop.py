"""Stopping a local sweep: Ctrl+C (SIGINT, which a terminal sends to the sweep and its trials
alike) or SIGTERM to the sweep process.

The first signal starts no further trial and asks each running one to stop: the sweep records
why in its run dir and sends it SIGTERM (:func:`genlab.process.request_stop`), so the trial
saves ``last.ckpt`` at its next batch and records ``status: interrupted``; a trial that a
Ctrl+C already reached stops the same way, once. The sweep then writes its table and exits
with ``128 + signal``; ``resume=true`` runs the interrupted trials again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from genlab.process import signals_handled

log = logging.getLogger("genlab.sweep")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A trial the stop cut short: it runs again when the sweep resumes.
INTERRUPTED = "interrupted"


class SweepStop:
    """Whether a stop signal reached the sweep process, and which."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._requested = threading.Event()

    @contextmanager
    def installed(self) -> Iterator[SweepStop]:
        """Handles the stop signals until the block ends (in the main thread; elsewhere
        Python lets no one install a handler)."""
        with signals_handled(STOP_SIGNALS, self._handle):
            yield self

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def trial_stop(self) -> tuple[str, str] | None:
        """The status and reason a running trial is stopped with, once the sweep stops."""
        if self.received is None:
            return None
        return (
            INTERRUPTED,
            f"the sweep was stopped by {self.received.name}; this trial runs again when the "
            "sweep resumes (resume=true)",
        )

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # a trial that a second Ctrl+C reached stops at once by itself
        self.received = signal.Signals(signum)
        self._requested.set()
        log.warning(
            "%s: stopping the sweep: no further trial starts, the running ones save their step",
            self.received.name,
        )
