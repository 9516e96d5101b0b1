"""A child process (a sweep trial, a baseline run) that ends with the process that started it.

A trial is a training process of its own; when the sweep or reproduce process is killed, even
with SIGKILL, the trial must not train on unseen, beside the retry that ``resume=true`` starts.
On Linux the child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``);
genlab's SIGTERM handling then saves the trial's checkpoint and records it as preempted. It is
set in the child itself, at start-up, because ``subprocess``'s ``preexec_fn`` is unsafe in a
parent with threads (sweeps run trials from a thread pool).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

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
