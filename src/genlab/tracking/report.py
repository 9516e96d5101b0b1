"""What a training run tells its user on the console: its networks, then where its results are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from genlab.metrics.degenerate import DEGENERATE_KEY
from genlab.metrics.keys import SCORE_NAMES
from genlab.tracking.summary import SUMMARY_FILE

if TYPE_CHECKING:
    import pytorch_lightning as pl


def describe_networks(model: pl.LightningModule) -> str:
    """One line: each network's class and trainable parameter count."""
    from pytorch_lightning.utilities.model_summary import get_human_readable_count

    parts = [
        f"{name} {type(child).__name__} "
        f"{get_human_readable_count(sum(p.numel() for p in child.parameters() if p.requires_grad))}"
        for name, child in model.named_children()
        if any(p.requires_grad for p in child.parameters())
    ]
    return f"model {type(model).__name__}: " + ", ".join(parts) + " parameters"


def end_of_run_report(run_dir: Path, summary: dict[str, Any]) -> str:
    """The run's outcome and where to find its summary, checkpoint, samples, scores and W&B run."""
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
        step = summary["global_step"]
        scored = summary.get("metrics_step", step)
        of = "" if scored == step else f"; of step {scored}, not of step {step}"
        lines.append(f"metrics:     {' '.join(scores)} ({summary['metric_extractor']}{of})")
    flagged = summary.get(DEGENERATE_KEY) or {}
    if flagged.get("flag"):
        lines.append(
            f"degenerate:  {'; '.join(flagged['reasons'])}: these numbers say nothing about "
            "the model, and reports do not rank them"
        )
    if summary.get("wandb_dir"):
        lines.append(
            f"W&B run:     {summary['wandb_dir']} ({summary['wandb_mode']}; upload later with "
            f"`wandb sync {summary['wandb_dir']}`)"
            if summary["wandb_mode"] == "offline"
            else f"W&B run:     {summary['wandb_url']}"
        )
    return "\n".join(lines)
