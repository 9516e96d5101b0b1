"""A Hydra callback that refuses an output dir that cannot be written, before Hydra creates it.

Hydra makes the run dir and writes ``.hydra/`` before the task starts; a failure there would
surface as an ``OSError`` with a traceback, outside genlab's error reporting.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from genlab.cli.app import exit_with
from genlab.errors import ConfigError


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
        _check_or_exit(Path(config.hydra.run.dir), "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_or_exit(Path(config.hydra.sweep.dir), "hydra.sweep.dir")


def _check_or_exit(path: Path, key: str) -> None:
    # Hydra reports a callback's exception with its traceback; a user error is one line.
    try:
        check_writable_dir(path.absolute(), key)
    except ConfigError as exc:
        exit_with(exc)
