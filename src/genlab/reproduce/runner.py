"""Runs a baseline's variants x seeds, each a training process with its own run dir.

``out_dir/<variant>/seed<k>/`` holds each run; a run that ended (``ok`` or ``diverged``:
the same seed diverges again) is kept when the table is run again, so an interrupted
table, or one given more seeds, only runs what is missing. A run that left a checkpoint
(killed, preempted, failed in its evaluation) is started again with ``resume=true``: it
continues from its checkpoint of the highest step instead of starting again. A run with no
checkpoint yet starts without it (``resume=true`` there would warn that there is nothing to
resume).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab.job_progress import JobProgress
from genlab.reproduce.baseline import Baseline, BaselineVariant, Budget
from genlab.sweeps.trial import TRAIN_APP, child_command, run_trial
from genlab.tracking.summary import SUMMARY_FILE, previous_summary

log = logging.getLogger("genlab.reproduce")
FINISHED = ("ok", "diverged")


@dataclass(frozen=True)
class PlannedRun:
    variant: BaselineVariant
    seed: int
    run_dir: Path
    command: tuple[str, ...]


@dataclass
class RunResult:
    variant: BaselineVariant
    seed: int
    run_dir: Path
    summary: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "failed"))


def plan(
    baseline: Baseline,
    budget: Budget,
    variants: Sequence[BaselineVariant],
    seeds: int,
    out_dir: Path,
    overrides: Sequence[str] = (),
) -> list[PlannedRun]:
    """Every run of the table, seed-major: with fewer seeds done, every variant has some."""
    runs = []
    for seed in range(seeds):
        for variant in variants:
            run_dir = (out_dir / variant.name / f"seed{seed}").resolve()
            args = (
                f"experiment={variant.experiment}",
                f"seed={seed}",
                f"group={baseline.name}_{budget.name}",
                f"run_name={baseline.name}_{variant.name}_seed{seed}",
                *budget.overrides,
                *budget.variant_overrides.get(variant.name, ()),
                *overrides,
                *(["resume=true"] if has_checkpoint(run_dir) else []),
            )
            command = tuple(child_command((sys.executable, *TRAIN_APP), args, run_dir))
            runs.append(PlannedRun(variant, seed, run_dir, command))
    return runs


def has_checkpoint(run_dir: Path) -> bool:
    """Whether an earlier attempt of the run saved a checkpoint (in the run dir's
    ``checkpoints/``, where training saves them), damaged or not: ``resume=true`` picks the
    readable one of the highest step."""
    return any((run_dir / "checkpoints").glob("*.ckpt"))


def finished(run_dir: Path) -> bool:
    summary = previous_summary(run_dir)
    return summary is not None and summary.get("status") in FINISHED


def _reported_summary(run_dir: Path, not_run: dict[str, Any]) -> dict[str, Any]:
    """The run's summary for the table; ``not_run`` when it has none or one that is not JSON
    (damaged, or replaced in a shared folder), which a warning names."""
    summary = previous_summary(run_dir)
    if summary is None and (run_dir / SUMMARY_FILE).exists():
        log.warning("%s cannot be read: reported as %s", run_dir / SUMMARY_FILE, not_run["status"])
    return summary or not_run


def execute(
    runs: Sequence[PlannedRun], cwd: Path, workers: int = 1, train: bool = True
) -> list[RunResult]:
    """Runs what has not finished yet (``workers`` at a time; nothing when ``train`` is
    false); returns every run's result."""
    todo = [run for run in runs if train and not finished(run.run_dir)]
    done = sum(finished(run.run_dir) for run in runs)
    log.info("%d of %d runs to do (%d finished before)", len(todo), len(runs), done)

    progress = JobProgress(len(todo), workers)

    def run_one(run: PlannedRun) -> None:
        log.info(
            "%s Run %s seed %d: %s",
            progress.start(), run.variant.name, run.seed, " ".join(run.command[3:]),
        )  # fmt: skip
        outcome = run_trial(list(run.command), run.run_dir, cwd)
        fid = outcome.summary.get("fid")
        log.info(
            "Run %s seed %d: %s in %.0f s%s (%s)",
            run.variant.name,
            run.seed,
            outcome.status,
            outcome.wall_s,
            f", fid {fid:.3f}" if fid is not None else f" ({outcome.error})",
            progress.finish(outcome.wall_s),
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run_one, todo))
    not_run = {"status": "failed" if train else "not run"}
    return [
        RunResult(
            run.variant,
            run.seed,
            run.run_dir,
            _reported_summary(run.run_dir, not_run),
        )
        for run in runs
    ]
