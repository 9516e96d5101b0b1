"""genlab-train: train one model, write its run dir (checkpoints, samples, W&B run, summary.json)."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from genlab import __version__
from genlab.cli.app import hydra_app, user_message
from genlab.cli.console import quiet_console
from genlab.config import check_train_config
from genlab.config_types import check_override_types
from genlab.errors import ConfigError, DiskFull, GenlabError, TrainingDiverged
from genlab.metrics.keys import SCORE_NAMES
from genlab.paths import git_sha
from genlab.tracking.disk import disk_full_message, no_space_error
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.hydra_record import write_hydra_record
from genlab.tracking.lock import DirectoryLock
from genlab.tracking.summary import (
    SUMMARY_FILE,
    finite_or_none,
    previous_summary,
    write_json_atomic,
)

# Lightning, torch and what needs them are imported where the task runs, so that `--help`,
# `--cfg job` and Hydra's composition start fast (docs/decisions.md).
if TYPE_CHECKING:
    import pytorch_lightning as pl

    from genlab.callbacks import FidelityMetrics

log = logging.getLogger("genlab.train")
_USER_WANDB_DATA_DIR = os.environ.get("WANDB_DATA_DIR")

quiet_console()


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Every entry of a config group that has a ``_target_`` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node and "_target_" in node]


def train(
    cfg: DictConfig, extra_callbacks: Sequence[pl.Callback] = (), record_config: bool = False
) -> dict[str, Any]:
    """Trains ``cfg.model`` on ``cfg.data``; returns the summary it writes to the run dir.

    ``extra_callbacks`` join the configured ones (for programmatic use: benchmarks, notebooks).
    ``record_config`` writes the run dir's ``.hydra/`` (the train app: Hydra's own writing is
    off, so a refused resume leaves the run's record as it was).
    """
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    check_train_config(cfg)
    run_dir = Path(cfg.paths.output_dir)
    lock = DirectoryLock(run_dir).acquire() if rank_zero_only.rank == 0 else None
    try:
        return _train(cfg, run_dir, extra_callbacks, record_config)
    finally:
        if lock is not None:
            lock.release()


def _train(
    cfg: DictConfig, run_dir: Path, extra_callbacks: Sequence[pl.Callback], record_config: bool
) -> dict[str, Any]:
    import pytorch_lightning as pl
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    from genlab.checkpoints import (
        RNGStateInCheckpoint,
        RunRecordInCheckpoint,
        StopSignals,
        check_weights_fit,
        finished_run,
        start_checkpoint,
    )
    from genlab.distributed import check_launch_is_safe
    from genlab.process import take_stop_request
    from genlab.tracking.wandb_run import finish_wandb, update_wandb_summary, wandb_run_info

    resume = bool(cfg.get("resume"))
    ckpt_path = start_checkpoint(cfg.get("ckpt_path"), resume, _checkpoint_dir(cfg), cfg.model_name)
    pl.seed_everything(cfg.seed, workers=True)
    datamodule: pl.LightningDataModule = instantiate(cfg.data)
    model: pl.LightningModule = instantiate(cfg.model)
    if ckpt_path is not None:
        check_weights_fit(ckpt_path, model, cfg)
    if resume and ckpt_path is not None:
        previous = previous_summary(run_dir)
        if finished_run(previous, ckpt_path, cfg.trainer):
            assert previous is not None
            log.info(
                "resume=true: %s already finished (status ok at step %d); nothing to do. "
                "To train longer, pass a larger trainer.max_steps.",
                run_dir,
                previous["global_step"],
            )
            return previous
        _continue_wandb_run(cfg, run_dir, ckpt_path)
    if _USER_WANDB_DATA_DIR is None:
        # W&B stages checkpoint artifacts here until they are synced: inside the run dir,
        # not in the home directory, so deleting a run frees its space.
        os.environ["WANDB_DATA_DIR"] = str(run_dir / "wandb" / "data")
    resolved = OmegaConf.to_container(cfg, resolve=True)
    if cfg.get("compile") and cfg.compile.enabled:
        model.compile_networks(backend=cfg.compile.backend, mode=cfg.compile.mode)
    # Missing data or extractor weights fail here, before a W&B run or a checkpoint exists.
    datamodule.prepare_data()
    datamodule.setup("fit")  # a split that leaves no training images fails here, too
    metrics = _metrics_callback(cfg, datamodule)
    if record_config and rank_zero_only.rank == 0:
        write_hydra_record(run_dir, cfg)

    loggers = instantiate_group(cfg.get("logger"))
    stop_signals = StopSignals()
    callbacks = [
        *instantiate_group(cfg.get("callbacks")),
        *extra_callbacks,
        RunRecordInCheckpoint(resolved),
        RNGStateInCheckpoint(),
        stop_signals,
    ]
    if metrics is not None:
        callbacks.append(metrics)
    trainer = _build_trainer(cfg.trainer, callbacks, loggers)
    check_launch_is_safe(trainer)
    if trainer.is_global_zero:
        log.info("%s", _describe_networks(model))
    protocol = metrics.evaluator.fields() if metrics is not None else {}
    for logger in loggers:
        logger.log_hyperparams({**resolved, "metric_protocol": protocol})

    started = time.monotonic()
    status, error, exit_code = "failed", None, None
    try:
        with torch_threads(cfg.get("threads")):
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        if metrics is not None and not metrics.final_results(trainer.callback_metrics):
            # Fit had nothing left to train (a resume after the final evaluation failed):
            # the evaluation it skipped.
            metrics.run(trainer, model)
        if trainer.interrupted:
            error = "interrupted"
        else:
            not_finite = _not_finite(trainer.callback_metrics)
            if not_finite:
                raise TrainingDiverged(
                    f"the run ended at step {trainer.global_step} with values that are not "
                    f"finite: {', '.join(not_finite)}; lower the learning rates "
                    "(model.optimizer*.lr) or check the metrics' settings"
                )
            status = "ok"
    except TrainingDiverged as exc:
        status, error = "diverged", str(exc)
        raise
    except BaseException as exc:
        if stop_signals.status is not None:
            assert stop_signals.received is not None
            status, exit_code = stop_signals.status, stop_signals.exit_code
            error = (
                f"stopped by {stop_signals.received.name} at step {trainer.global_step}; "
                "last.ckpt holds that step: continue with resume=true"
            )
            requested = take_stop_request(run_dir)
            if requested is not None:  # e.g. a sweep that pruned this trial, and why
                status, error = str(requested["status"]), str(requested["reason"])
            raise SystemExit(exit_code) from None
        if isinstance(exc, KeyboardInterrupt):
            status = "interrupted"
        no_space = no_space_error(exc)
        if no_space is not None:
            error = disk_full_message(no_space, run_dir, _checkpoint_bytes(trainer))
            raise DiskFull(error) from exc
        message = user_message(exc) if isinstance(exc, GenlabError) else exc
        error = f"{type(exc).__name__}: {message}"
        raise
    finally:
        summary = _summary(cfg, trainer, model, status, error, time.monotonic() - started)
        if metrics is not None:
            summary.update(metrics.final_results(trainer.callback_metrics))
        if trainer.is_global_zero:
            summary.update(wandb_run_info(loggers))
            write_json_atomic(run_dir / SUMMARY_FILE, summary)
            update_wandb_summary(loggers, summary)
        finish_wandb(loggers, exit_code=0 if status == "ok" else (exit_code or 1))
        if exit_code is not None and trainer.is_global_zero:
            log.warning("%s: %s", status, error)
    if trainer.is_global_zero:
        _report(run_dir, summary)
    return summary


def _checkpoint_bytes(trainer: pl.Trainer) -> int:
    """About what a checkpoint of this run takes: the weights and the optimizers' state."""
    tensors = list(trainer.lightning_module.state_dict().values())
    for optimizer in trainer.optimizers:
        for state in optimizer.state.values():
            tensors += [value for value in state.values() if hasattr(value, "nbytes")]
    return sum(int(tensor.nbytes) for tensor in tensors)


def _describe_networks(model: pl.LightningModule) -> str:
    """One line: each network's class and trainable parameter count."""
    from pytorch_lightning.utilities.model_summary import get_human_readable_count

    parts = [
        f"{name} {type(child).__name__} "
        f"{get_human_readable_count(sum(p.numel() for p in child.parameters() if p.requires_grad))}"
        for name, child in model.named_children()
        if any(p.requires_grad for p in child.parameters())
    ]
    return f"model {type(model).__name__}: " + ", ".join(parts) + " parameters"


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count while training, restored afterwards (callers of
    ``train()`` in notebooks and tests keep theirs)."""
    if threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _build_trainer(
    trainer_cfg: DictConfig, callbacks: list[pl.Callback], loggers: list[Any]
) -> pl.Trainer:
    """Lightning's Trainer; its own argument checks become user errors with its message."""
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    try:
        return instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, MisconfigurationException | ValueError | ModuleNotFoundError):
            raise ConfigError(f"trainer: {cause}") from exc
        raise


def _checkpoint_dir(cfg: DictConfig) -> Path:
    configured = OmegaConf.select(cfg, "callbacks.model_checkpoint.dirpath")
    return Path(configured) if configured else Path(cfg.paths.output_dir) / "checkpoints"


def _continue_wandb_run(cfg: DictConfig, run_dir: Path, ckpt_path: Path) -> None:
    """A resumed run logs into the W&B run it started, not a new one."""
    from genlab.tracking.wandb_run import wandb_run_id_to_continue

    run_id = wandb_run_id_to_continue(ckpt_path, run_dir)
    wandb_cfg = OmegaConf.select(cfg, "logger.wandb")
    if run_id is None or wandb_cfg is None:
        return
    with open_dict(wandb_cfg):
        wandb_cfg.id = run_id
        wandb_cfg.resume = "allow"


def _metrics_callback(
    cfg: DictConfig, datamodule: pl.LightningDataModule
) -> FidelityMetrics | None:
    from genlab.callbacks import FidelityMetrics
    from genlab.metrics.evaluator import Evaluator
    from genlab.metrics.protocol import MetricProtocol

    if not cfg.metrics.enabled:
        return None
    protocol = MetricProtocol.from_config(cfg.metrics)
    evaluator = Evaluator(protocol, datamodule, Path(cfg.metrics.cache_dir))
    return FidelityMetrics(
        evaluator,
        every_n_steps=cfg.metrics.every_n_steps,
        history_path=Path(cfg.paths.output_dir) / HISTORY_FILE,
    )


def _not_finite(metrics: dict[str, Any]) -> list[str]:
    """``key=value`` of every NaN or infinite value the run logged last."""
    return [f"{k}={float(v)}" for k, v in metrics.items() if not math.isfinite(float(v))]


def _summary(
    cfg: DictConfig,
    trainer: pl.Trainer,
    model: pl.LightningModule,
    status: str,
    error: str | None,
    wall_s: float,
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "status": status,
        "model": cfg.model_name,
        "data": cfg.data_name,
        "experiment": cfg.get("experiment_name"),
        "seed": cfg.seed,
        "global_step": trainer.global_step,
        "images_seen": getattr(model, "images_seen", None),
        "wall_s": round(wall_s, 3),
        "git_sha": git_sha(),
        "genlab_version": __version__,
        "run_dir": str(cfg.paths.output_dir),
    }
    if hasattr(model, "generator_steps"):
        summary["generator_steps"] = model.generator_steps
    if error is not None:
        summary["error"] = error
    for key, value in trainer.callback_metrics.items():
        if key.startswith("progress/"):  # the training process's counts (also when spawned)
            summary[key.removeprefix("progress/")] = int(value)
        elif "/" in key and not key.startswith("metrics/"):
            # logged values ("train/g_loss"); bare keys are progress-bar copies, and the
            # scores are reported under the contract's names
            summary[key] = finite_or_none(float(value))
    return summary


def _report(run_dir: Path, summary: dict[str, Any]) -> None:
    samples = sorted((run_dir / "samples").glob("samples_step*.png"))
    lines = [
        f"status: {summary['status']} after {summary['global_step']} steps "
        f"({summary['wall_s']:.0f} s)",
        f"run dir:     {run_dir}",
        f"summary:     {run_dir / SUMMARY_FILE}",
        f"checkpoint:  {run_dir / 'checkpoints' / 'last.ckpt'}",
    ]
    if samples:
        lines.append(f"sample grid: {samples[-1]}")
    scores = [f"{key}={summary[key]:.4g}" for key in SCORE_NAMES if summary.get(key) is not None]
    if scores:
        lines.append(f"metrics:     {' '.join(scores)} ({summary['metric_extractor']})")
    if summary.get("wandb_dir"):
        lines.append(
            f"W&B run:     {summary['wandb_dir']} ({summary['wandb_mode']}; upload later with "
            f"`wandb sync {summary['wandb_dir']}`)"
            if summary["wandb_mode"] == "offline"
            else f"W&B run:     {summary['wandb_url']}"
        )
    log.info("\n".join(lines))


@hydra_app("train")
def main(cfg: DictConfig) -> dict[str, Any]:
    check_override_types(cfg, HydraConfig.get().overrides.task, "train")
    return train(cfg, record_config=True)


if __name__ == "__main__":
    main()
