"""backend=wandb: the sweep is created on the W&B server and run by W&B agents."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from urllib.parse import urlparse

from genlab.errors import GenlabError
from genlab.sweeps.definition import SweepDefinition

log = logging.getLogger("genlab.sweep")
DEFAULT_BASE_URL = "https://api.wandb.ai"


class WandbUnavailableError(GenlabError):
    """No W&B login, or no route to the W&B server."""


def base_url() -> str:
    return os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL)


def api_key_configured() -> bool:
    """A W&B API key in the environment or in ~/.netrc for the configured server."""
    from genlab._compat.wandb import netrc_api_key

    return bool(os.environ.get("WANDB_API_KEY") or netrc_api_key(base_url()))


_SWEEP_LOCALLY = "run the same sweep without a server: backend=local"


def check_server(
    timeout_s: float, what: str = "backend=wandb", instead: str = _SWEEP_LOCALLY
) -> None:
    """Fails fast, with the fix, when there is no login or the server cannot be reached
    (wandb itself would prompt for a key, or retry for minutes)."""
    if not api_key_configured():
        raise WandbUnavailableError(
            f"{what} needs a W&B login (`wandb login` or WANDB_API_KEY); {instead}"
        )
    url = urlparse(base_url())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise WandbUnavailableError(
            f"cannot reach the W&B server {base_url()} ({exc}); {instead}"
        ) from exc


def run_wandb_sweep(
    definition: SweepDefinition,
    count: int | None,
    workers: int,
    project: str,
    entity: str | None,
    timeout_s: float,
    overrides: Sequence[str] = (),
) -> str:
    """Creates the sweep on the server and runs ``workers`` agents (``wandb agent``), each for
    ``count`` runs (all the sweep's runs when None); returns the sweep id."""
    import wandb

    check_server(timeout_s)
    try:
        sweep_id = wandb.sweep(definition.for_wandb(overrides), entity=entity, project=project)
    except Exception as exc:
        raise WandbUnavailableError(
            f"the W&B server did not create the sweep ({type(exc).__name__}: {exc}); "
            "check `wandb login`, or run the same sweep without a server: backend=local"
        ) from exc
    path = "/".join(part for part in (entity, project, sweep_id) if part)
    agent = [sys.executable, "-m", "wandb", "agent", path]
    if count is not None:
        agent[4:4] = ["--count", str(count)]
    log.info("Sweep %s created; starting %d agent(s): %s", path, workers, " ".join(agent))
    agents = [subprocess.Popen(agent) for _ in range(workers)]
    codes = [process.wait() for process in agents]
    if any(codes):
        raise WandbUnavailableError(f"a W&B agent of sweep {path} exited with status {max(codes)}")
    return sweep_id
