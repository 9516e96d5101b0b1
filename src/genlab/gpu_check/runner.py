"""Runs the check's parts in turn, each to its end whatever the others did, and writes the
record: a part that raises is a failed row with the error's line, not a lost record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genlab.accelerators import cuda_gpu_count, no_cuda_gpu_reason
from genlab.errors import GenlabError, user_message
from genlab.gpu_check.budget import BUDGETS, Budget
from genlab.gpu_check.report import FAILED, SKIPPED, CheckResult

log = logging.getLogger("genlab.gpu_check")
CHECKS = ("training", "speed", "ddp", "fid")
RECORD_VERSION = 1


def check_device(device: str) -> None:
    """``--device cuda`` on a machine where torch sees no GPU: one line, before any work."""
    if device == "cuda" and cuda_gpu_count() == 0:
        raise GenlabError(
            f"--device cuda needs a CUDA GPU and {no_cuda_gpu_reason()}; "
            "run with --device cpu to check the CPU paths"
        )


def run_gpu_check(
    device: str, out_dir: Path, overrides: Sequence[str], checks: Sequence[str] | None = None
) -> tuple[dict[str, Any], list[CheckResult]]:
    """The record and its rows. ``checks``: the parts to run (None: all; on a CPU, DDP runs
    over gloo only when named, since it starts processes of its own)."""
    check_device(device)  # before Lightning loads: a machine without a GPU hears it at once
    from genlab.gpu_check.ddp import CPU_PROCESSES, ddp_checks
    from genlab.gpu_check.fid import fid_checks
    from genlab.gpu_check.runs import compose
    from genlab.gpu_check.speed import speed_checks
    from genlab.gpu_check.training import training_checks
    from genlab.machine import MachineRecord

    budget, runs_dir, overrides = BUDGETS[device], out_dir / "runs", list(overrides)
    compose(overrides, runs_dir, budget)  # overrides that do not compose: one line, no rows
    machine, started = MachineRecord(precision=None), time.monotonic()
    parts: dict[str, Callable[[], Iterable[CheckResult]]] = {
        "training": lambda: training_checks(budget, runs_dir, overrides),
        "speed": lambda: speed_checks(budget, runs_dir, overrides),
        "fid": lambda: fid_checks(budget, runs_dir, overrides),
    }
    skipped_ddp = ddp_skip_reason(budget, checks)
    if skipped_ddp is None:
        processes = cuda_gpu_count() if device == "cuda" else CPU_PROCESSES
        parts["ddp"] = lambda: ddp_checks(budget, runs_dir, overrides, processes)
    results: list[CheckResult] = []
    for part in CHECKS:
        if checks is not None and part not in checks:
            continue
        if part == "ddp" and skipped_ddp is not None:
            results.append(CheckResult("ddp", "all models", SKIPPED, skipped_ddp))
            continue
        log.info("gpu check: %s", part)
        results += run_part(part, parts[part])
    record = {
        "genlab_gpu_check": RECORD_VERSION,
        "device": device,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "passed": all(r.status != FAILED for r in results),
        "wall_s": round(time.monotonic() - started, 1),
        "overrides": overrides,
        "budget": budget.fields(),
        "machine": machine.block(),
    }
    return record, results


def ddp_skip_reason(budget: Budget, checks: Sequence[str] | None) -> str | None:
    if budget.device == "cuda":
        gpus = cuda_gpu_count()
        return None if gpus >= 2 else f"needs 2 or more GPUs, found {gpus}"
    if checks is None or "ddp" not in checks:
        return "on a CPU only when named: --device cpu --checks ddp (2 gloo processes per model)"
    return None


def run_part(part: str, run: Callable[[], Iterable[CheckResult]]) -> list[CheckResult]:
    """The part's rows; when it raises, the rows it gave before and a failed row with the
    error's line."""
    rows: list[CheckResult] = []
    started = time.monotonic()
    try:
        for row in run():
            rows.append(row)
            log.info("gpu check: %s %s: %s", row.check, row.name, row.status)
            started = time.monotonic()
        return rows
    except GenlabError as exc:
        message = user_message(exc)
    except Exception as exc:  # a bug or a broken machine: the row says which, the log has it
        log.exception("gpu check: %s raised", part)
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    name = "the rest" if rows else "all"
    return [*rows, CheckResult(part, name, FAILED, message, time.monotonic() - started)]
