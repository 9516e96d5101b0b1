"""Runs of a W&B project (online only): the same Run records compare() reads from run dirs."""

from __future__ import annotations

from pathlib import Path

from genlab.compare.runs import Run, flat_config
from genlab.tracking.summary import WANDB_CONFIG_RECORDS, WANDB_SUMMARY_PREFIX
from genlab.tracking.wandb_server import check_server

_INSTEAD = (
    "compare the local run dirs instead (scripts/compare.py 'runs=[RUN_OR_SWEEP_DIR]' out=DIR)"
)


def load_wandb_runs(project: str, group: str | None, timeout_s: float = 10.0) -> list[Run]:
    """The runs of ``entity/project`` (one ``group`` when given) with genlab's summary keys."""
    import wandb

    check_server(timeout_s, what="wandb_project", instead=_INSTEAD)
    filters = {"group": group} if group else None
    runs = []
    for remote in wandb.Api(timeout=int(timeout_s)).runs(project, filters=filters):
        summary = {
            key.removeprefix(WANDB_SUMMARY_PREFIX): value
            for key, value in remote.summary.items()
            if key.startswith(WANDB_SUMMARY_PREFIX)
        }
        if summary:
            config = flat_config(
                {k: v for k, v in remote.config.items() if k not in WANDB_CONFIG_RECORDS}
            )
            runs.append(Run(Path(remote.path[-1]), summary, config))
    return runs
