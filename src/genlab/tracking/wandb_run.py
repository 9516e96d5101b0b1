"""Exactly one W&B run per training run, finished with the run's outcome."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.loggers import Logger
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

from genlab._compat.lightning import leave_out_wandb_init_argument
from genlab.checkpoints.format import checkpoint_wandb_run_id, read_checkpoint
from genlab.tracking.summary import MACHINE_KEY, WANDB_SUMMARY_PREFIX, previous_summary

if TYPE_CHECKING:
    from wandb import Run

log = logging.getLogger(__name__)


class WandbLogger(LightningWandbLogger):
    """Lightning's W&B logger without the ``anonymous`` argument: Lightning always passes it,
    and W&B, which no longer uses it, prints a warning about it at every run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leave_out_wandb_init_argument(self, "anonymous")


def wandb_loggers(loggers: Iterable[Logger]) -> list[LightningWandbLogger]:
    return [logger for logger in loggers if isinstance(logger, LightningWandbLogger)]


def started_run(logger: LightningWandbLogger) -> Run | None:
    """The W&B run ``logger`` started (or joined), without starting one: Lightning's
    ``logger.experiment`` would start a run when there is none. Lightning's logger makes its
    run W&B's current one (``wandb.run``) and reports its id as ``version``."""
    import wandb

    run = wandb.run
    if run is None or run.id != logger.version:
        return None
    return run


def wandb_run_info(loggers: Iterable[Logger]) -> dict[str, Any]:
    """Where the W&B run is, for summary.json and the final message."""
    for logger in wandb_loggers(loggers):
        run = started_run(logger)
        if run is None:
            continue
        return {
            "wandb_run_id": run.id,
            "wandb_mode": "offline" if run.offline else "online",
            "wandb_dir": str(Path(run.dir).parent),
            "wandb_url": None if run.offline else run.url,
        }
    return {}


def finish_wandb(loggers: Iterable[Logger], exit_code: int) -> None:
    """Close the run; a non-zero exit code marks it failed in W&B. Then W&B's session ends
    too: the next run of this process (a multirun's next job) starts a session of its own,
    with the W&B settings of that run's environment. The first session would keep the first
    run's and warn that the changes (genlab's ``WANDB_DATA_DIR`` for the run) are ignored."""
    finished = False
    for logger in wandb_loggers(loggers):
        run = started_run(logger)
        if run is None:
            continue
        try:
            run.finish(exit_code=exit_code)
            finished = True
        except OSError as exc:  # e.g. a full disk: the run's own outcome matters more
            log.warning("The W&B run could not be finished: %s", exc)
    if finished:
        import wandb

        wandb.teardown()


def update_wandb_summary(loggers: Iterable[Logger], summary: dict[str, Any]) -> None:
    """The run's final numbers in the W&B run summary, as in summary.json; the machine block
    goes to the config (:func:`update_wandb_config`)."""
    for logger in wandb_loggers(loggers):
        run = started_run(logger)
        if run is not None:
            run.summary.update(
                {
                    f"{WANDB_SUMMARY_PREFIX}{key}": value
                    for key, value in summary.items()
                    if value is not None and key != MACHINE_KEY
                }
            )


def update_wandb_config(loggers: Iterable[Logger], entries: dict[str, Any]) -> None:
    """``entries`` in the W&B run's config, beside the training config and metric protocol
    logged at the start (an entry logged before, e.g. by a resumed run's first part, is
    replaced)."""
    for logger in wandb_loggers(loggers):
        run = started_run(logger)
        if run is not None:
            run.config.update(entries, allow_val_change=True)


def wandb_run_id_to_continue(checkpoint_path: Path | None, run_dir: Path) -> str | None:
    """The W&B run a resumed run logs into: the one named in the checkpoint it resumes from,
    or, for a checkpoint written before genlab stored that id and for a run stopped before it
    saved a checkpoint, the one in the run's summary.json (``None`` when neither has one)."""
    run_id = None
    if checkpoint_path is not None:
        run_id = checkpoint_wandb_run_id(read_checkpoint(checkpoint_path))
    if run_id is None:
        previous = previous_summary(run_dir) or {}
        run_id = previous.get("wandb_run_id")
    return run_id


def continue_wandb_run(cfg: DictConfig, run_dir: Path, checkpoint_path: Path | None) -> None:
    """A resumed run logs into the W&B run it started, not a new one (also when it was stopped
    before its first checkpoint)."""
    run_id = wandb_run_id_to_continue(checkpoint_path, run_dir)
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
