"""Where a local sweep's study lives: SQLite in the sweep dir (one sweep process), or a
database several workers share (``storage=postgresql://...``, any SQLAlchemy URL Optuna takes).

A shared storage turns on Optuna's heartbeat: each running trial's worker records one every
``heartbeat_s`` seconds, and a trial silent for twice that (its worker was killed) is marked
failed by the next worker that asks for a trial and queued again with the same parameters.
A shared database that goes away after the sweep reached it is waited for
(:mod:`genlab.sweeps.outage`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from genlab.errors import StorageUnavailable
from genlab.sweeps.outage import OutageGuard, PatientStorage, failure_reason

STORAGE_FILE = "optuna.db"
# Between attempts to reach a database that went away: often enough that a running trial's
# heartbeat is written again well within its grace period (2 x heartbeat_s) once it is back.
_ATTEMPT_EVERY_S = 5.0


@dataclass(frozen=True)
class SweepStorage:
    studies: optuna.storages.BaseStorage  # Optuna's storage of the studies
    url: str  # as shown to people: without its password
    shared: bool  # several sweep processes may work on its studies

    def check(self) -> None:
        """Raises StorageUnavailable once its database stayed away longer than the sweep
        waits for it."""
        if isinstance(self.studies, PatientStorage):
            self.studies.guard.check()


def retry_callback() -> optuna.storages.RetryHeartbeatStaleTrialCallback:
    """Optuna's own: a WAITING copy of the trial, with the same parameters."""
    with warnings.catch_warnings():  # experimental in Optuna, stable in use
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback()


def retried_trial(trial: FrozenTrial) -> int | None:
    """The number of the trial that ``trial`` runs again, or None."""
    return trial.system_attrs.get("failed_trial")


def open_storage(
    url: str | None, sweep_dir: Path, heartbeat_s: int, retry_s: float = 600
) -> SweepStorage:
    """The study storage: ``url``, or ``<sweep_dir>/optuna.db`` when it is None. A database
    server that goes away once reached is waited for ``retry_s`` seconds."""
    shared = url is not None
    if url is None:
        url = f"sqlite:///{(sweep_dir / STORAGE_FILE).resolve()}"
    if shared and heartbeat_s < 1:
        raise StorageUnavailable(f"heartbeat_s must be >= 1 second, got {heartbeat_s}")
    if retry_s < 0:
        raise StorageUnavailable(f"storage_retry_s must be >= 0 seconds, got {retry_s}")
    shown = _without_password(url)
    heartbeat: dict[str, Any] = {}
    if shared:
        heartbeat = {
            "heartbeat_interval": heartbeat_s,
            "grace_period": 2 * heartbeat_s,
            "heartbeat_stale_trial_callback": retry_callback(),
        }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            rdb = optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url), **heartbeat)
        optuna.study.get_all_study_names(rdb)  # a connection now, not at the first trial
    except Exception as exc:
        reason = failure_reason(exc)
        if isinstance(exc, ImportError) and url.startswith("postgresql"):
            reason = "its driver is missing (pip install 'psycopg[binary]')"
        raise StorageUnavailable(
            f"cannot open the sweep storage {shown}: {reason}; check the URL "
            "(dialect[+driver]://user@host:port/database), the password (PostgreSQL: "
            "~/.pgpass or PGPASSWORD) and that the server runs"
        ) from exc
    if not shared or url.startswith("sqlite"):  # a file: nothing to wait for
        return SweepStorage(rdb, shown, shared)
    guard = OutageGuard(shown, retry_s, interval_s=min(_ATTEMPT_EVERY_S, heartbeat_s / 2))
    return SweepStorage(PatientStorage(rdb, guard, grace_s=2 * heartbeat_s), shown, shared)


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}  # several threads write the same file
    kwargs: dict[str, Any] = {"pool_pre_ping": True}  # servers drop idle connections
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 10}
    return kwargs


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url if "@" not in url else "<the storage URL>"
