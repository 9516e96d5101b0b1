"""A child process (a sweep trial, a baseline run) that ends with the process that started it.

A trial is a training process of its own; when the sweep or reproduce process is killed, even
with SIGKILL, the trial must not train on unseen, beside the retry that ``resume=true`` starts.
On Linux the child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``);
genlab's SIGTERM handling then saves the trial's checkpoint and records it as preempted. It is
set in the child itself, at start-up, because ``subprocess``'s ``preexec_fn`` is unsafe in a
parent with threads (sweeps run trials from a thread pool).

A parent that stops its child on purpose (a sweep pruning a trial) first writes why into the
child's run dir (:func:`request_stop`); the child records that status instead of the signal's.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

PARENT_ENV = "GENLAB_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def child_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child that should end with this process."""
    return {**env, PARENT_ENV: str(os.getpid())}


def end_with_parent() -> None:
    """In a child started with :func:`child_env`: SIGTERM when the parent dies. A parent that
    died before this call leaves the child re-parented: then it stops at once."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):
        os.kill(os.getpid(), signal.SIGTERM)


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
