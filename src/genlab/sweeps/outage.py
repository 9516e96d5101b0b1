"""A shared sweep's storage that waits out an outage of its database.

Every operation on the study (the worker's own, Optuna's asks and tells, the heartbeat thread
of a running trial) goes through :class:`PatientStorage`. When one fails because the database
cannot be reached, the thread waits and tries again, one line per attempt, for ``patience_s``
seconds; the trial's process trains on meanwhile (it does not use the database) and is
recorded when the database is back. After ``patience_s`` every operation fails with
StorageUnavailable, and the worker ends with one line.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from optuna.storages import BaseStorage, RDBStorage
from sqlalchemy import exc as sqlalchemy_errors

from genlab._compat.optuna import HeartbeatStorage, stale_trial_ids_of
from genlab.errors import StorageUnavailable, exception_chain

log = logging.getLogger("genlab.sweep")
T = TypeVar("T")


def failure_reason(exc: BaseException) -> str:
    """The first line of the error at the root of ``exc`` (the database driver's, which
    SQLAlchemy and Optuna wrap)."""
    cause = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def unreachable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a bad query)."""
    return any(
        isinstance(e, (sqlalchemy_errors.OperationalError, sqlalchemy_errors.DisconnectionError))
        or (isinstance(e, sqlalchemy_errors.DBAPIError) and e.connection_invalidated)
        for e in exception_chain(exc)
    )


class OutageGuard:
    """Runs storage operations; while the database is away, the threads that need it wait
    in turn (one line per attempt), and after ``patience_s`` seconds all of them give up."""

    def __init__(self, shown_url: str, patience_s: float, interval_s: float) -> None:
        self.shown_url = shown_url
        self.patience_s = patience_s
        self.interval_s = interval_s
        self._lock = threading.Lock()  # held by the thread that waits for the next attempt
        self._down_since: float | None = None
        self._back_at: float | None = None
        self._attempts = 0
        self._given_up: str | None = None  # the message every later operation fails with

    def check(self) -> None:
        """Raises StorageUnavailable once this guard has given up."""
        if self._given_up is not None:
            raise StorageUnavailable(self._given_up)

    def call(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        while True:
            self.check()
            try:
                result = operation(*args, **kwargs)
            except Exception as exc:
                if not unreachable(exc):
                    raise
                self._wait(exc)
                continue
            if self._down_since is not None:
                self._back()
            return result

    def recently_back(self, seconds: float) -> bool:
        """Away now, or back for less than ``seconds``."""
        return self._down_since is not None or (
            self._back_at is not None and time.monotonic() - self._back_at < seconds
        )

    def _wait(self, exc: Exception) -> None:
        with self._lock:
            if self._given_up is not None:
                return
            now = time.monotonic()
            if self._down_since is None:
                self._down_since, self._attempts = now, 0
            waited = now - self._down_since
            if waited >= self.patience_s:
                self._given_up = (
                    f"the sweep storage {self.shown_url} has been unreachable for {waited:.0f} s "
                    f"({failure_reason(exc)}); this worker ends: start it again with the same "
                    "command once the database is back (its trial then runs again), and give "
                    "storage_retry_s=SECONDS to wait longer"
                )
                return
            self._attempts += 1
            pause = min(self.interval_s, self.patience_s - waited)
            log.warning(
                "The sweep storage %s is unreachable (%s): attempt %d, next in %.2g s, "
                "giving up in %.0f s (storage_retry_s)",
                self.shown_url, failure_reason(exc), self._attempts, pause,
                self.patience_s - waited,
            )  # fmt: skip
            time.sleep(pause)

    def _back(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            log.info(
                "The sweep storage %s is back after %.0f s",
                self.shown_url,
                time.monotonic() - self._down_since,
            )
            self._down_since = None
            self._back_at = time.monotonic()


class PatientStorage(HeartbeatStorage):
    """Optuna's RDBStorage with every operation run by an :class:`OutageGuard`, its heartbeat
    included."""

    def __init__(self, backend: RDBStorage, guard: OutageGuard, grace_s: float) -> None:
        self.backend = backend
        self.guard = guard
        self.grace_s = grace_s

    def record_heartbeat(self, trial_id: int) -> None:
        # After giving up, the worker is ending: the thread that runs the trial says why.
        with contextlib.suppress(StorageUnavailable):
            self.guard.call(self.backend.record_heartbeat, trial_id)

    def stale_trial_ids(self, study_id: int) -> list[int]:
        def stale() -> list[int]:
            found = stale_trial_ids_of(self.backend, study_id)  # raises while it is away
            # Right after an outage every running trial's last heartbeat is old: their
            # workers get a grace period to beat again before any of them counts as dead.
            return [] if self.guard.recently_back(self.grace_s) else found

        return self.guard.call(stale)


def _guarded(name: str) -> Callable[..., Any]:
    def operation(self: PatientStorage, *args: Any, **kwargs: Any) -> Any:
        return self.guard.call(getattr(self.backend, name), *args, **kwargs)

    operation.__name__ = operation.__qualname__ = name
    return operation


# The storage interface (BaseStorage's methods) and the heartbeat's settings, passed on.
for _name in [n for n in dir(BaseStorage) if not n.startswith("_")] + [
    "get_heartbeat_interval",
    "get_heartbeat_stale_trial_callback",
]:
    setattr(PatientStorage, _name, _guarded(_name))
abc.update_abstractmethods(PatientStorage)
