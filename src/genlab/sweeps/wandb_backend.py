"""backend=wandb: the sweep is created on the W&B server and run by W&B agents."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence

from genlab.sweeps.definition import SweepDefinition
from genlab.tracking.wandb_server import WandbUnavailableError, check_server

log = logging.getLogger("genlab.sweep")
_SWEEP_LOCALLY = "run the same sweep without a server: backend=local"


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

    check_server(timeout_s, what="backend=wandb", instead=_SWEEP_LOCALLY)
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
