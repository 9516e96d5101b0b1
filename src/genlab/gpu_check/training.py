"""Each model trained on the device in each precision: finite losses, a complete run dir, a
checkpoint that loads back in float32, and the run's images/s and peak GPU memory."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from genlab.benchmarking import BatchClock, rates
from genlab.gpu_check.budget import MODELS, PRECISIONS, Budget
from genlab.gpu_check.report import FAILED, PASSED, CheckResult
from genlab.gpu_check.runs import compose, train_run
from genlab.models import load_checkpoint

# What every run dir holds when a run has ended well (docs/training.md).
RUN_DIR_FILES = ("summary.json", "checkpoints/last.ckpt", ".hydra/config.yaml", "csv/metrics.csv")


def training_checks(budget: Budget, runs_dir: Path, overrides: list[str]) -> Iterator[CheckResult]:
    for model in MODELS:
        for precision in PRECISIONS:
            run_dir = runs_dir / f"{model}_{precision}"
            yield train_and_check(model, precision, budget, run_dir, overrides)


def train_and_check(
    model: str, precision: str, budget: Budget, run_dir: Path, overrides: list[str]
) -> CheckResult:
    cfg = compose(
        [
            f"model={model}", f"trainer={budget.trainer}", f"trainer.precision={precision}",
            f"trainer.max_steps={budget.train_steps}", "metrics=off", "logger=csv",
            f"trainer.log_every_n_steps={budget.log_every_n_steps}",
            "+trainer.enable_progress_bar=false", "~callbacks.progress_bar", *overrides,
        ],
        run_dir,
        budget,
    )  # fmt: skip
    if budget.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.monotonic()
    summary = train_run(cfg, [BatchClock(budget.warmup_batches)])
    seconds = time.monotonic() - started
    problems = run_problems(summary, run_dir, budget.train_steps)
    measured = rates(summary)
    values = {
        "run_dir": str(run_dir),
        "global_step": summary.get("global_step"),
        "losses": losses(summary),
        "images_per_s": measured.get("images_per_s"),
        "peak_gpu_memory_gib": measured.get("peak_gpu_memory_gib"),
    }
    if problems:
        return CheckResult("training", f"{model} {precision}", FAILED, "; ".join(problems), seconds, values)  # fmt: skip
    memory = values["peak_gpu_memory_gib"]
    detail = (
        f"{summary['global_step']} steps, losses finite, run dir complete, float32 checkpoint; "
        f"{values['images_per_s']:.0f} images/s"
        + ("" if memory is None else f", peak GPU memory {memory:.2f} GiB")
    )
    return CheckResult("training", f"{model} {precision}", PASSED, detail, seconds, values)


def losses(summary: dict[str, Any]) -> dict[str, float]:
    return {key: value for key, value in summary.items() if key.startswith("train/")}


def run_problems(summary: dict[str, Any], run_dir: Path, steps: int) -> list[str]:
    """What is wrong with a finished run, as short phrases; empty when nothing is."""
    if summary.get("status") != "ok":
        return [f"status {summary.get('status')}: {summary.get('error')}"]
    problems = []
    if summary.get("global_step") != steps:
        problems.append(f"ended at step {summary.get('global_step')}, not {steps}")
    values = losses(summary)
    if not values:
        problems.append("summary.json holds no training loss")
    not_finite = sorted(key for key, value in values.items() if not _finite(value))
    if not_finite:
        problems.append(f"not finite: {', '.join(not_finite)}")
    problems += [f"no {name}" for name in RUN_DIR_FILES if not (run_dir / name).is_file()]
    if not any((run_dir / "samples").glob("*.png")):
        problems.append("no sample grid in samples/")
    last = run_dir / "checkpoints" / "last.ckpt"
    if last.is_file():
        problems += checkpoint_problems(last)
    return problems


def checkpoint_problems(path: Path) -> list[str]:
    """A checkpoint must load back on the CPU in float32, whatever precision trained it, and
    sample finite images."""
    model, _ = load_checkpoint(path)
    dtypes = sorted({str(p.dtype) for p in model.parameters()})
    problems = [] if dtypes == ["torch.float32"] else [f"checkpoint parameters in {dtypes}"]
    if not torch.isfinite(model.sample(4, seed=0)).all():
        problems.append("the checkpoint samples non-finite images")
    return problems


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
