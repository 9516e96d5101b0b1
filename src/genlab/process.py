"""A child process (a sweep trial, a baseline run) that ends with the process that started it,
and the one way genlab handles a stop signal (:func:`signals_handled`), in that child (the
run's :class:`genlab.checkpoints.StopSignals`) and in its parent (a sweep's stop).

A trial is a training process of its own; when the sweep or reproduce process is killed, even
with SIGKILL, the trial must not train on unseen, beside the retry that ``resume=true`` starts.
On Linux the child asks the kernel for a signal when its parent dies (``PR_SET_PDEATHSIG``) and
turns it into one SIGTERM: genlab's SIGTERM handling then saves the trial's checkpoint and
records it as preempted. It is set in the child itself, at start-up, because ``subprocess``'s
``preexec_fn`` is unsafe in a parent with threads (sweeps run trials from a thread pool).

Not SIGTERM itself: the kernel sends the death signal again each time the child is handed on,
first to the dead parent's other threads as they exit, so a parent with threads sends several.
A second SIGTERM that arrives after Lightning put back the default handler (training has
ended, the summary is not yet written) would kill the child and lose its record.

A parent that stops its child on purpose (a sweep pruning a trial) first writes why into the
child's run dir (:func:`request_stop`); the child records that status instead of the signal's.

A parent that judges each evaluation (a sweep with ``early_terminate``) asks the child to wait,
after writing each evaluation, for the verdict (:func:`await_verdict`, :func:`give_verdict`):
then a trial is stopped at the evaluation that condemned it, however fast it trains.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from genlab.atomic_write import write_json_atomic

log = logging.getLogger(__name__)

PARENT_ENV = "GENLAB_PARENT_PID"
_PR_SET_PDEATHSIG = 1
# Delivered by the kernel when the parent dies; nothing else in genlab or Lightning uses it.
_PARENT_DIED = signal.SIGUSR2


SignalHandler = Callable[[int, FrameType | None], Any]


@contextmanager
def signals_handled(
    signums: Iterable[signal.Signals], handler: SignalHandler
) -> Iterator[dict[signal.Signals, Any]]:
    """``handler`` handles ``signums`` until the block ends, when the handlers before it come
    back; it yields those, and one removed from the dict keeps the handler set meanwhile. In
    the main thread only: elsewhere Python lets no one install a handler (it yields ``{}``)."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous = {signum: signal.getsignal(signum) for signum in signums}
    for signum in previous:
        signal.signal(signum, handler)
    try:
        yield previous
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


def child_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child that should end with this process."""
    return {**env, PARENT_ENV: str(os.getpid())}


def end_with_parent() -> None:
    """In a child started with :func:`child_env`: SIGTERM when the parent dies. A parent that
    died before this call leaves the child re-parented: then it stops at once."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is None or not sys.platform.startswith("linux"):
        return
    stopping = False

    def stop_once(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(_PARENT_DIED, stop_once)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, _PARENT_DIED)
    if os.getppid() != int(parent):
        stop_once(_PARENT_DIED, None)


# Written into the run dir by the process that sends the signal, to say why (a sweep that
# prunes its trial): the run records that status and reason instead of the signal's.
STOP_REQUEST_FILE = "stop_request.json"


def request_stop(run_dir: Path, status: str, reason: str) -> None:
    """Records why the run is about to be stopped; send the signal after this."""
    (run_dir / STOP_REQUEST_FILE).write_text(json.dumps({"status": status, "reason": reason}))


def take_stop_request(run_dir: Path) -> dict[str, Any] | None:
    """The ``status`` and ``reason`` a stopping process recorded (the file is removed: a later
    stop of a resumed run is not taken for this one), or None."""
    path = run_dir / STOP_REQUEST_FILE
    try:
        request = json.loads(path.read_text())
        path.unlink()
    except (OSError, ValueError):
        return None
    return request if {"status", "reason"} <= request.keys() else None


# Set for a child whose parent judges each of its evaluations; the verdict file holds the
# step of the last evaluation the parent has read and let pass.
VERDICT_ENV = "GENLAB_AWAIT_VERDICT"
VERDICT_FILE = "verdict.json"


def judged_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child that waits for :func:`give_verdict` after each evaluation."""
    return {**env, VERDICT_ENV: "1"}


def give_verdict(run_dir: Path, step: int) -> None:
    """The parent has read the child's evaluations up to ``step`` and lets it go on."""
    write_json_atomic(run_dir / VERDICT_FILE, {"step": step})


def clear_verdict(run_dir: Path) -> None:
    """Before the child starts: a verdict left by an earlier attempt says nothing of this one."""
    (run_dir / VERDICT_FILE).unlink(missing_ok=True)


def await_verdict(run_dir: Path, step: int, timeout_s: float = 300.0) -> None:
    """In a child started with :func:`judged_env`, after writing its evaluation at ``step``:
    waits until the parent lets it go on or asks it to stop (a stop's signal follows)."""
    if os.environ.get(VERDICT_ENV) != "1":
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (run_dir / STOP_REQUEST_FILE).exists():
            # The parent's signal follows its request at once: let it arrive before this step
            # ends, so training stops at this step.
            time.sleep(0.5)
            return
        if _judged_step(run_dir) >= step:
            return
        time.sleep(0.02)
    log.warning(
        "no verdict on the evaluation at step %d after %.0f s from the process that started "
        "this run; going on",
        step,
        timeout_s,
    )


def _judged_step(run_dir: Path) -> int:
    try:
        return int(json.loads((run_dir / VERDICT_FILE).read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1
