"""One writer per run dir (or sweep dir): an advisory lock that names its holder.

The lock is ``fcntl.flock`` on ``<dir>/.genlab.lock``: the kernel releases it when the holding
process ends, however it ends, so a lock left by a killed process is taken over without any
guessing about stale PIDs. While held, the file records the holder (PID, host, start time) so
a refused second process can say who holds it; on release it gets back its earlier bytes and
times, so a process that found nothing to do (a resume of a finished run) leaves the dir as it
was. The file itself stays: deleting it while another process waits on it would let two
processes lock two different files of the same name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from genlab.errors import GenlabError

LOCK_FILE = ".genlab.lock"


class DirectoryBusy(GenlabError):
    """Another process is writing to this directory."""


class _FileFlock(ABC):
    """An exclusive ``flock`` on ``path``, held from :meth:`acquire` until :meth:`release`
    (safe to call again) or the end of the process. Each acquisition opens its own descriptor,
    so threads of one process exclude each other too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    @abstractmethod
    def acquire(self) -> _FileFlock: ...

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> _FileFlock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class FileMutex(_FileFlock):
    """A short critical section shared by every process of a sweep, on any host: waits for
    the lock, unlike :class:`DirectoryLock`, which refuses."""

    def acquire(self) -> FileMutex:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd
        return self


class DirectoryLock(_FileFlock):
    """Holds the lock of ``folder`` from :meth:`acquire` until :meth:`release` or process end;
    a second process is refused with the holder's name."""

    def __init__(self, folder: Path, what: str = "run dir") -> None:
        super().__init__(Path(folder) / LOCK_FILE)
        self.what = what
        self._before: tuple[bytes, tuple[int, int]] | None = None

    def acquire(self) -> DirectoryLock:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise _busy(self.path.parent, self.what, holder) from None
        before = os.fstat(fd)
        self._before = (os.pread(fd, before.st_size, 0), (before.st_atime_ns, before.st_mtime_ns))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        _rewrite(fd, json.dumps(record).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None and self._before is not None:
            content, times = self._before
            # Only a record: a full disk here must not hide how the run itself ended.
            with contextlib.suppress(OSError):
                _rewrite(self._fd, content)
                os.utime(self._fd, ns=times)
            self._before = None
        super().release()


def _rewrite(fd: int, content: bytes) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, content, 0)


def refuse_if_busy(folder: Path, what: str = "run dir") -> None:
    """Raises :class:`DirectoryBusy` (the message :meth:`DirectoryLock.acquire` gives) when a
    process holds the lock of ``folder``, without taking it and without creating anything.

    A shared ``flock``, released at once: it conflicts with the holder's exclusive one but not
    with another check, so two checks never refuse each other.
    """
    try:
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return  # no lock file (or no folder): nobody has locked it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(Path(folder), what, _read_holder(fd)) from None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _busy(folder: Path, what: str, holder: dict[str, Any]) -> DirectoryBusy:
    return DirectoryBusy(
        f"the {what} {folder} is in use by {_describe(holder)}; wait for it to end (or stop "
        "it), or choose another directory"
    )


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict[str, Any]) -> str:
    if "pid" not in holder:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
    return f"process {holder['pid']} on {holder.get('host', '?')} (since {since})"
