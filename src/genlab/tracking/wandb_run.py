"""Exactly one W&B run per training run, finished with the run's outcome."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.loggers import Logger
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

log = logging.getLogger(__name__)


class WandbLogger(LightningWandbLogger):
    """Lightning's W&B logger without the ``anonymous`` argument: Lightning always passes it,
    and W&B, which no longer uses it, prints a warning about it at every run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)


def wandb_loggers(loggers: Iterable[Logger]) -> list[LightningWandbLogger]:
    return [logger for logger in loggers if isinstance(logger, LightningWandbLogger)]


def wandb_run_info(loggers: Iterable[Logger]) -> dict[str, Any]:
    """Where the W&B run is, for summary.json and the final message."""
    for logger in wandb_loggers(loggers):
        run = logger.experiment
        return {
            "wandb_run_id": run.id,
            "wandb_mode": "offline" if run.settings._offline else "online",
            "wandb_dir": str(Path(run.dir).parent),
            "wandb_url": run.url if not run.settings._offline else None,
        }
    return {}


def finish_wandb(loggers: Iterable[Logger], exit_code: int) -> None:
    """Close the run; a non-zero exit code marks it failed in W&B."""
    for logger in wandb_loggers(loggers):
        if logger._experiment is not None:
            try:
                logger._experiment.finish(exit_code=exit_code)
            except OSError as exc:  # e.g. a full disk: the run's own outcome matters more
                log.warning("The W&B run could not be finished: %s", exc)
            logger._experiment = None


def update_wandb_summary(loggers: Iterable[Logger], summary: dict[str, Any]) -> None:
    """The run's final numbers in the W&B run summary, as in summary.json."""
    for logger in wandb_loggers(loggers):
        if logger._experiment is not None:
            logger._experiment.summary.update(
                {f"genlab/{key}": value for key, value in summary.items() if value is not None}
            )


def previous_wandb_run_id(run_dir: Path) -> str | None:
    """The id of the newest W&B run written into ``run_dir``: W&B names each run's folder
    ``<offline-run|run>-<time>-<id>``."""
    runs = [p for p in (run_dir / "wandb").glob("*run-*-*") if p.is_dir()]
    if not runs:
        return None
    newest = max(runs, key=lambda p: p.name.rsplit("-", 2)[-2])
    return newest.name.rsplit("-", 1)[-1]


def continue_wandb_run(cfg: DictConfig, run_dir: Path) -> None:
    """A resumed run logs into the W&B run it started, not a new one."""
    run_id = previous_wandb_run_id(run_dir)
    wandb_cfg = OmegaConf.select(cfg, "logger.wandb")
    if run_id is None or wandb_cfg is None:
        return
    with open_dict(wandb_cfg):
        wandb_cfg.id = run_id
        wandb_cfg.resume = "allow"


# Read once, when genlab first loads this module: the runs of one process (a notebook, a test
# session) then each stage into their own run dir unless the user chose a folder.
_USER_WANDB_DATA_DIR = os.environ.get("WANDB_DATA_DIR")


def stage_wandb_data_in(run_dir: Path) -> None:
    """W&B stages checkpoint artifacts in ``WANDB_DATA_DIR`` until they are synced: inside
    the run dir, not in the home directory, so deleting a run frees its space. A
    ``WANDB_DATA_DIR`` the user set is kept."""
    if _USER_WANDB_DATA_DIR is None:
        os.environ["WANDB_DATA_DIR"] = str(run_dir / "wandb" / "data")
