"""Training one model from its config: the run dir (checkpoints, samples, W&B run, summary.json)
and the summary it returns. ``genlab-train`` (:mod:`genlab.cli.train`) is its Hydra app."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from genlab.accelerators import check_accelerator_available
from genlab.atomic_write import write_json_atomic
from genlab.config import check_train_config
from genlab.console import quiet_console
from genlab.tracking.hydra_record import write_hydra_record
from genlab.tracking.lock import DirectoryLock
from genlab.tracking.log_file import LogFileHeldBack
from genlab.tracking.report import describe_networks, end_of_run_report
from genlab.tracking.summary import SUMMARY_FILE, previous_summary
from genlab.training import assembly
from genlab.training.outcome import Outcome, stop_message
from genlab.training.run_record import (
    metrics_note,
    publish_record,
    start_up_record,
    training_record,
)
from genlab.training.threads import torch_threads

# Lightning, torch and what needs them are imported where the task runs, so that `--help`,
# `--cfg job` and Hydra's composition start fast (docs/decisions.md).
if TYPE_CHECKING:
    import pytorch_lightning as pl

    from genlab.checkpoints import StopSignals

log = logging.getLogger("genlab.train")
LAST_CHECKPOINT = "last.ckpt"
quiet_console()


def train(
    cfg: DictConfig, extra_callbacks: Sequence[pl.Callback] = (), record_config: bool = False
) -> dict[str, Any]:
    """Trains ``cfg.model`` on ``cfg.data``; returns the summary it writes to the run dir.

    ``extra_callbacks`` join the configured ones (for programmatic use: benchmarks, notebooks).
    ``record_config`` writes the run dir's ``.hydra/`` (the train app: Hydra's own writing is
    off, so a refused resume leaves the run's record as it was).
    """
    import pytorch_lightning as pl
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    from genlab import checkpoints as ckpts
    from genlab.distributed import check_launch_is_safe
    from genlab.machine import MachineRecord
    from genlab.tracking import wandb_run

    check_train_config(cfg)
    check_accelerator_available(cfg.trainer)  # before the data and the model are loaded
    run_dir, rank_zero = Path(cfg.paths.output_dir), rank_zero_only.rank == 0
    stop_signals, started = ckpts.StopSignals(), time.monotonic()
    with DirectoryLock(run_dir) if rank_zero else nullcontext(), stop_signals.installed():
        try:
            with stop_signals.starting():  # nothing is written here: a stop ends the run at once
                resume = bool(cfg.get("resume"))
                ckpt_dir = OmegaConf.select(cfg, "callbacks.model_checkpoint.dirpath")
                ckpt_dir = Path(ckpt_dir or run_dir / "checkpoints")
                # The run's log file gets these lines only once the run has work: a no-op or
                # refused resume leaves it as it was (the console shows them all).
                with LogFileHeldBack() as log_file:
                    ckpt_path = ckpts.start_checkpoint(
                        cfg.get("ckpt_path"), resume, ckpt_dir, cfg.model_name
                    )
                    pl.seed_everything(cfg.seed, workers=True)
                    datamodule: pl.LightningDataModule = instantiate(cfg.data)
                    model = assembly.instantiate_model(cfg)
                    settings: list[ckpts.OptimizerSetting] = []
                    if ckpt_path is not None:
                        ckpts.check_weights_fit(ckpt_path, model, cfg)
                        settings = ckpts.optimizer_settings_to_apply(ckpt_path, model, cfg)
                    if resume and ckpt_path is not None:
                        previous = previous_summary(run_dir)
                        finished = ckpts.summary_if_finished(
                            run_dir, previous, ckpt_path, cfg.trainer
                        )
                        if finished:
                            return finished
                    log_file.keep()
                if resume:
                    wandb_run.continue_wandb_run(cfg, run_dir, ckpt_path)
                if rank_zero and ckpt_dir.absolute().is_relative_to(run_dir.absolute()):
                    ckpts.remove_partial_checkpoints(ckpt_dir)  # held lock: no other writer
                wandb_run.stage_wandb_data_in(run_dir)
                resolved = OmegaConf.to_container(cfg, resolve=True)
                # Missing data or extractor weights fail here, before a W&B run or a
                # checkpoint exists.
                datamodule.prepare_data()
                datamodule.setup("fit")  # a split that leaves no training images fails here
                metrics = assembly.metrics_callback(cfg, datamodule, stop_signals)
                loggers = assembly.instantiate_group(cfg.get("logger"))
                # The stop signals first: a stop during start-up ends the run before the
                # others start their work.
                callbacks = [stop_signals, *assembly.instantiate_group(cfg.get("callbacks"))]
                callbacks += [*extra_callbacks, ckpts.RunRecordInCheckpoint(resolved)]
                callbacks.append(ckpts.RNGStateInCheckpoint())
                applied = ckpts.ApplyOptimizerSettings(
                    settings, "resume" if resume else "ckpt_path"
                )
                callbacks.append(applied)
                trainer = assembly.build_trainer(cfg.trainer, callbacks, loggers, metrics)
                check_launch_is_safe(trainer)
                stop_signals.leave_requeue_to_lightning(trainer)
        except ckpts.StopRequested:
            stopped_at_start_up(cfg, run_dir, stop_signals, time.monotonic() - started)
        if record_config and rank_zero:
            write_hydra_record(run_dir, cfg)
        if trainer.is_global_zero:
            log.info("%s", describe_networks(model))
        assembly.log_run_config(loggers, resolved, metrics)

        started, outcome = time.monotonic(), Outcome()
        machine = MachineRecord(precision=trainer.precision, threads=cfg.get("threads"))
        try:
            with torch_threads(cfg.get("threads")):
                # Lightning reads the checkpoint again: tensors only, whatever the environment
                # (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD) says.
                trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
            if metrics is not None and not metrics.final_results(trainer.callback_metrics):
                metrics.run(trainer, model)  # fit had nothing left to train: the skipped evaluation
            outcome.finished(trainer)
        except BaseException as exc:
            stop_signals.ending()
            # Where a resume continues from: last.ckpt, or the checkpoint this one started from.
            saved = [ckpt_dir / LAST_CHECKPOINT, *([ckpt_path] if resume and ckpt_path else [])]
            outcome.fail(exc, trainer, stop_signals, run_dir, saved)
        finally:
            stop_signals.ending()
            wall_s = time.monotonic() - started
            summary = training_record(cfg, trainer, model, outcome, wall_s, machine)
            if metrics is not None:
                summary.update(metrics.final_results(trainer.callback_metrics))
                summary.update(metrics_note(summary, outcome.abandoned_evaluation))
            if trainer.is_global_zero:
                publish_record(run_dir, summary, loggers)
            wandb_run.finish_wandb(loggers, exit_code=outcome.exit_status)
            if outcome.exit_code is not None and trainer.is_global_zero:
                log.warning("%s: %s", outcome.status, outcome.error)
        if trainer.is_global_zero:
            log.info(end_of_run_report(run_dir, summary))
        return summary


def stopped_at_start_up(
    cfg: DictConfig, run_dir: Path, stop_signals: StopSignals, wall_s: float
) -> NoReturn:
    """A stop signal before the run wrote anything: one line and the signal's exit status. A
    new run dir gets a summary that says so; a resumed run's files stay as they were, and
    still tell where it stands."""
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    from genlab.machine import MachineRecord

    assert stop_signals.status is not None
    if (run_dir / SUMMARY_FILE).exists():
        assert stop_signals.received is not None
        message = (
            f"stopped by {stop_signals.received.name} at start-up, before the run began; its "
            "files are as they were: continue with resume=true"
        )
    else:
        message = stop_message(stop_signals, step=0, saved=None, evaluation=None)
        if rank_zero_only.rank == 0:
            machine = MachineRecord(precision=None, threads=cfg.get("threads"))
            record = start_up_record(cfg, stop_signals.status, message, wall_s, machine)
            write_json_atomic(run_dir / SUMMARY_FILE, record)
    if rank_zero_only.rank == 0:
        log.warning("%s: %s", stop_signals.status, message)
    raise SystemExit(stop_signals.exit_code)
