"""A short critical section shared by every process of a sweep, on any host: ``flock`` on a
file in the sweep dir (waits, unlike the sweep dir's one-writer lock, which refuses)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FileMutex:
    """``with FileMutex(path):`` holds an exclusive ``flock`` on ``path``; :meth:`release` may
    end it early and is safe to call again. Each acquisition opens its own descriptor, so
    threads of one process exclude each other too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> FileMutex:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileMutex:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
