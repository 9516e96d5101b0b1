"""Hydra callbacks that refuse an output dir before Hydra creates it or writes to it: one that
cannot be written, and one that another genlab process is writing (its lock is held).

Hydra makes the run dir and writes ``.hydra/`` (and its log file) before the task starts; a
failure there would surface as an ``OSError`` with a traceback, outside genlab's error
reporting, and a task refused by the dir's lock would come too late: Hydra would already have
replaced the busy run's ``.hydra/`` files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from genlab.cli.app import exit_with
from genlab.errors import ConfigError, GenlabError
from genlab.tracking.lock import refuse_if_busy


def check_writable_dir(path: Path, key: str) -> None:
    """Raises ConfigError unless ``path`` is, or can be created as, a writable directory."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"cannot create the output dir {path}: {existing} is a file, not a folder; "
            f"pass another {key}=DIR"
        )
    # A folder made and removed at once: permission bits and os.access do not tell (root may
    # write anywhere by them, yet /proc or a read-only mount takes no new folder).
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".genlab-write-check-", dir=existing))
    except OSError as exc:
        what = "write" if existing == path else "create"
        raise ConfigError(
            f"cannot {what} the output dir {path}: {existing} takes no new files or folders "
            f"({exc.strerror}); pass a writable {key}=DIR"
        ) from exc


class CheckOutputDir(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_or_exit(config, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_or_exit(config, "hydra.sweep.dir")


class RefuseBusyDir(Callback):
    """Refuses a ``hydra.run.dir`` whose lock a running process holds (a second ``train.py`` in
    a run dir, a second ``sweep.py`` on a sweep dir), with the lock's own message. The task
    takes the lock itself; this check only comes before Hydra's writes. ``what`` names the dir
    in the message: ``run dir``, ``sweep dir``."""

    def __init__(self, what: str) -> None:
        self.what = what

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        # The other ranks of a multi-process run (Lightning's launcher, torchrun, SLURM tasks)
        # start the same app in the run dir that rank zero holds, and take no lock themselves.
        from pytorch_lightning.utilities.rank_zero import rank_zero_only

        if rank_zero_only.rank != 0:
            return
        try:
            refuse_if_busy(_output_dir(config, "hydra.run.dir").absolute(), self.what)
        except GenlabError as exc:
            exit_with(exc)


@contextmanager
def _hydra_config_set(config: DictConfig) -> Iterator[None]:
    """Hydra's runtime config as Hydra sets it when the job starts, so that the output dir's
    ``${hydra:...}`` values (the run name's ``${hydra:runtime.choices.model}``) resolve in a
    callback that runs before: Hydra calls ``on_run_start`` before it sets it."""
    hydra_config = HydraConfig.instance()
    previous, was_readonly = hydra_config.cfg, OmegaConf.is_readonly(config.hydra)
    hydra_config.set_config(config)  # also makes config.hydra read-only: undone below
    try:
        yield
    finally:
        hydra_config.cfg = previous
        OmegaConf.set_readonly(config.hydra, was_readonly)


def _check_or_exit(config: DictConfig, key: str) -> None:
    # Hydra reports a callback's exception as a warning and goes on; a user error is one line.
    try:
        check_writable_dir(_output_dir(config, key).absolute(), key)
    except ConfigError as exc:
        exit_with(exc)


def _output_dir(config: DictConfig, key: str) -> Path:
    try:
        with _hydra_config_set(config):
            return Path(str(OmegaConf.select(config, key, throw_on_missing=True)))
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{key} does not resolve: {str(exc).splitlines()[0]}") from exc
