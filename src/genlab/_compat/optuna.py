"""Optuna internals genlab relies on, each with why the public API does not serve."""

from __future__ import annotations

from optuna.storages import BaseStorage, RDBStorage
from optuna.storages._heartbeat import BaseHeartbeat

from genlab._compat import Internal


class HeartbeatStorage(BaseStorage, BaseHeartbeat):
    """A storage with Optuna's trial heartbeat, its stale trials under a public name.

    Optuna runs a trial's heartbeat thread, and fails the trials whose heartbeat stopped, only
    for a storage that is a ``BaseHeartbeat`` (a private class), and asks it for those trials
    through ``_get_stale_trial_ids``: a storage that wraps ``RDBStorage`` must be one and
    answer it. Subclasses implement :meth:`stale_trial_ids`."""

    def stale_trial_ids(self, study_id: int) -> list[int]:
        raise NotImplementedError

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        return self.stale_trial_ids(study_id)


def stale_trial_ids_of(storage: RDBStorage, study_id: int) -> list[int]:
    """The running trials of the study whose heartbeat stopped, as ``storage`` finds them."""
    # Optuna's one query for them; its public fail_stale_trials also fails them at once.
    return storage._get_stale_trial_ids(study_id)


RELIES_ON = (
    Internal("optuna", "optuna.storages._heartbeat", "BaseHeartbeat"),
    Internal(
        "optuna", "optuna.storages._heartbeat.BaseHeartbeat", "_get_stale_trial_ids", ("study_id",)
    ),
    Internal("optuna", "optuna.storages.RDBStorage", "_get_stale_trial_ids", ("study_id",)),
)
