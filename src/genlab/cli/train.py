"""genlab-train: train one model, write its run dir (checkpoints, samples, W&B run, summary.json)."""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from genlab import __version__
from genlab.callbacks import ConfigInCheckpoint, FidelityMetrics
from genlab.checkpoints import RNGStateInCheckpoint, start_checkpoint
from genlab.cli.app import hydra_app
from genlab.config import check_train_config
from genlab.distributed import check_launch_is_safe
from genlab.errors import ConfigError, TrainingDiverged
from genlab.metrics.evaluator import Evaluator
from genlab.metrics.protocol import MetricProtocol
from genlab.paths import git_sha
from genlab.tracking.history import HISTORY_FILE
from genlab.tracking.summary import SUMMARY_FILE, finite_or_none, write_json_atomic
from genlab.tracking.wandb_run import (
    finish_wandb,
    previous_wandb_run_id,
    update_wandb_summary,
    wandb_run_info,
)

log = logging.getLogger("genlab.train")
_USER_WANDB_DATA_DIR = os.environ.get("WANDB_DATA_DIR")

# Lightning's advice for automatic optimization; genlab's manual steps checkpoint the
# post-update state on purpose.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization")
warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)")


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Every entry of a config group that has a ``_target_`` (callbacks, loggers)."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node and "_target_" in node]


def train(cfg: DictConfig, extra_callbacks: Sequence[pl.Callback] = ()) -> dict[str, Any]:
    """Trains ``cfg.model`` on ``cfg.data``; returns the summary it writes to the run dir.

    ``extra_callbacks`` join the configured ones (for programmatic use: benchmarks, notebooks).
    """
    check_train_config(cfg)
    run_dir = Path(cfg.paths.output_dir)
    ckpt_path = start_checkpoint(
        cfg.get("ckpt_path"), bool(cfg.get("resume")), _checkpoint_dir(cfg), cfg.model_name
    )
    if ckpt_path is not None and cfg.get("resume"):
        _continue_wandb_run(cfg, run_dir)
    if _USER_WANDB_DATA_DIR is None:
        # W&B stages checkpoint artifacts here until they are synced: inside the run dir,
        # not in the home directory, so deleting a run frees its space.
        os.environ["WANDB_DATA_DIR"] = str(run_dir / "wandb" / "data")
    resolved = OmegaConf.to_container(cfg, resolve=True)
    pl.seed_everything(cfg.seed, workers=True)

    datamodule: pl.LightningDataModule = instantiate(cfg.data)
    model: pl.LightningModule = instantiate(cfg.model)
    if cfg.get("compile") and cfg.compile.enabled:
        model.compile_networks(backend=cfg.compile.backend, mode=cfg.compile.mode)
    # Missing data or extractor weights fail here, before a W&B run or a checkpoint exists.
    datamodule.prepare_data()
    metrics = _metrics_callback(cfg, datamodule)

    loggers = instantiate_group(cfg.get("logger"))
    callbacks = [
        *instantiate_group(cfg.get("callbacks")),
        *extra_callbacks,
        ConfigInCheckpoint(resolved),
        RNGStateInCheckpoint(),
    ]
    if metrics is not None:
        callbacks.append(metrics)
    trainer = _build_trainer(cfg.trainer, callbacks, loggers)
    check_launch_is_safe(trainer)
    protocol = metrics.evaluator.fields() if metrics is not None else {}
    for logger in loggers:
        logger.log_hyperparams({**resolved, "metric_protocol": protocol})

    started = time.monotonic()
    status, error = "failed", None
    try:
        with torch_threads(cfg.get("threads")):
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        if trainer.interrupted:
            error = "interrupted"
        else:
            status = "ok" if _all_finite(trainer.callback_metrics) else "diverged"
    except TrainingDiverged as exc:
        status, error = "diverged", str(exc)
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        summary = _summary(cfg, trainer, model, status, error, time.monotonic() - started)
        if metrics is not None:
            summary.update(metrics.final_results(trainer.callback_metrics))
        if trainer.is_global_zero:
            summary.update(wandb_run_info(loggers))
            write_json_atomic(run_dir / SUMMARY_FILE, summary)
            update_wandb_summary(loggers, summary)
        finish_wandb(loggers, exit_code=0 if status == "ok" else 1)
    if trainer.is_global_zero:
        _report(run_dir, summary)
    return summary


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count while training, restored afterwards (callers of
    ``train()`` in notebooks and tests keep theirs)."""
    if threads is None:
        yield
        return
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


def _continue_wandb_run(cfg: DictConfig, run_dir: Path) -> None:
    """A resumed run logs into the W&B run it started, not a new one."""
    run_id = previous_wandb_run_id(run_dir)
    wandb_cfg = OmegaConf.select(cfg, "logger.wandb")
    if run_id is None or wandb_cfg is None:
        return
    with open_dict(wandb_cfg):
        wandb_cfg.id = run_id
        wandb_cfg.resume = "allow"


def _metrics_callback(
    cfg: DictConfig, datamodule: pl.LightningDataModule
) -> FidelityMetrics | None:
    if not cfg.metrics.enabled:
        return None
    protocol = MetricProtocol.from_config(cfg.metrics)
    evaluator = Evaluator(protocol, datamodule, Path(cfg.metrics.cache_dir))
    return FidelityMetrics(
        evaluator,
        every_n_steps=cfg.metrics.every_n_steps,
        history_path=Path(cfg.paths.output_dir) / HISTORY_FILE,
    )


def _all_finite(metrics: dict[str, Any]) -> bool:
    return all(math.isfinite(float(v)) for v in metrics.values())


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


_SCORES = ("fid", "is_mean", "kid_mean", "precision", "recall")


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
    scores = [f"{key}={summary[key]:.4g}" for key in _SCORES if summary.get(key) is not None]
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
    return train(cfg)


if __name__ == "__main__":
    main()
