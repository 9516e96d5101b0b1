"""summary.json's record of a run: how it ended, what ran, and where, on which machine and
with which code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from genlab import __version__
from genlab.atomic_write import finite_or_none, write_json_atomic
from genlab.machine import MachineRecord
from genlab.paths import git_sha
from genlab.tracking.summary import MACHINE_KEY, SUMMARY_FILE

if TYPE_CHECKING:
    import pytorch_lightning as pl

    from genlab.models.base import GenerativeModel
    from genlab.training.outcome import Outcome


def run_record(
    status: str, wall_s: float, run_dir: str | Path, machine: MachineRecord, **fields: Any
) -> dict[str, Any]:
    """The record every command writes: its status, the command's own ``fields``, then the
    wall time, the code (git sha, genlab version), the run dir and the ``machine`` block
    (the one nested value), taken now: the command's work has ended."""
    return {
        "status": status,
        **fields,
        "wall_s": round(wall_s, 3),
        "git_sha": git_sha(),
        "genlab_version": __version__,
        "run_dir": str(run_dir),
        MACHINE_KEY: machine.block(),
    }


def _run_fields(cfg: DictConfig) -> dict[str, Any]:
    """What a training run trains."""
    return {
        "model": cfg.model_name,
        "data": cfg.data_name,
        "experiment": cfg.get("experiment_name"),
        "seed": cfg.seed,
    }


def training_record(
    cfg: DictConfig,
    trainer: pl.Trainer,
    model: GenerativeModel,
    outcome: Outcome,
    wall_s: float,
    machine: MachineRecord,
) -> dict[str, Any]:
    """A training run's record: what was trained, its progress and last logged values."""
    progress = model.progress()
    summary = run_record(
        outcome.status,
        wall_s,
        cfg.paths.output_dir,
        machine,
        **_run_fields(cfg),
        global_step=trainer.global_step,
        images_seen=progress["images_seen"],
    )
    if "generator_steps" in progress:
        summary["generator_steps"] = progress["generator_steps"]
    if outcome.error is not None:
        summary["error"] = outcome.error
    for key, value in trainer.callback_metrics.items():
        if key.startswith("progress/"):  # the training process's counts (also when spawned)
            summary[key.removeprefix("progress/")] = int(value)
        elif "/" in key and not key.startswith("metrics/"):
            # logged values ("train/g_loss"); bare keys are progress-bar copies, and the
            # scores are reported under the contract's names
            summary[key] = finite_or_none(float(value))
    return summary


def start_up_record(
    cfg: DictConfig, status: str, error: str, wall_s: float, machine: MachineRecord
) -> dict[str, Any]:
    """The record of a run stopped during start-up, before it trained or wrote anything."""
    return run_record(
        status, wall_s, cfg.paths.output_dir, machine, **_run_fields(cfg), global_step=0,
        images_seen=0, error=error,
    )  # fmt: skip


def metrics_note(summary: dict[str, Any], abandoned_evaluation: int | None) -> dict[str, Any]:
    """``metrics_note`` beside scores that are not of the run's last step (``metrics_step`` is
    the step they are of), so that they are never taken for the run's current ones."""
    step, scored = summary["global_step"], summary.get("metrics_step")
    if scored is None or scored == step:
        return {}
    note = f"the scores are of the evaluation at step {scored}, not of step {step}"
    if abandoned_evaluation == step:
        note += f": the evaluation at step {step} did not finish"
    return {"metrics_note": note}


def publish_record(run_dir: Path, summary: dict[str, Any], loggers: list[Any]) -> None:
    """summary.json in the run dir, with the W&B run's whereabouts, the same numbers in the
    W&B run's summary and the machine block in its config (rank zero's job)."""
    from genlab.tracking.wandb_run import (
        update_wandb_config,
        update_wandb_summary,
        wandb_run_info,
    )

    summary.update(wandb_run_info(loggers))
    write_json_atomic(run_dir / SUMMARY_FILE, summary)
    update_wandb_summary(loggers, summary)
    update_wandb_config(loggers, {MACHINE_KEY: summary[MACHINE_KEY]})
