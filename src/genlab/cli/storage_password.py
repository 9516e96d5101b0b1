"""A Hydra callback that refuses a database password in the sweep's storage URL, before Hydra
writes anything.

Hydra records the config and the command-line overrides in ``.hydra/`` of the sweep dir (and
``multirun.yaml``, submitit's job files, the log of a failed job) before genlab's task runs, so
a password in ``storage=`` would end up in shared folders and on stderr. PostgreSQL's client
library finds the password without the URL: ``~/.pgpass``, ``PGPASSFILE``, ``PGPASSWORD``, a
service file (docs/scaling_out.md, "The database password").
"""

from __future__ import annotations

import re
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import report_user_errors
from genlab.errors import ConfigError

STORAGE_KEY = "storage"
# ``scheme://user:password@``, read as SQLAlchemy reads a URL (the user ends at ``:`` or ``/``,
# the password at ``@``), and libpq's ``password=`` / ``sslpassword=`` query parameters.
_PASSWORD = re.compile(r"[a-z][\w+.-]*://[^:/@]*:[^@]*@|[?&](?:ssl)?password=", re.IGNORECASE)


def holds_password(url: str) -> bool:
    """True when ``url`` (or any URL in the text, e.g. a swept ``a,b``) carries a password."""
    return _PASSWORD.search(url) is not None


def refuse_storage_password(config: DictConfig) -> None:
    """Raises ConfigError when the composed ``storage`` or a command-line override of it
    (also a swept one, which the composed config of ``-m`` leaves out) holds a password."""
    values = [OmegaConf.select(config, STORAGE_KEY, throw_on_resolution_failure=False)]
    for override in OmegaConf.select(config, "hydra.overrides.task", default=None) or ():
        key, _, value = str(override).partition("=")
        if key.lstrip("+~") == STORAGE_KEY:
            values.append(value)
    if any(isinstance(value, str) and holds_password(value) for value in values):
        raise ConfigError(
            f"{STORAGE_KEY}= holds a database password, which would be recorded in the sweep "
            "dir and its logs: give the URL without it (postgresql://USER@HOST:PORT/DB) and the "
            "password to PostgreSQL in ~/.pgpass (or PGPASSFILE=FILE), PGPASSWORD or a service "
            "file; see docs/scaling_out.md"
        )


class RefuseStoragePassword(Callback):
    # Hydra reports a callback's exception with its traceback; a user error is one line.
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        report_user_errors(refuse_storage_password)(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        report_user_errors(refuse_storage_password)(config)
