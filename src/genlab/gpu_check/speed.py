"""Lightning against a plain PyTorch loop with the same GAN on the device (the ratio of
scripts/benchmark.py), images per second and peak GPU memory, eager and compiled."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from genlab.benchmarking import QUIET, BatchClock, StopAfter, plain_seconds_per_batch, rates
from genlab.gpu_check.budget import Budget
from genlab.gpu_check.report import PASSED, SKIPPED, CheckResult
from genlab.gpu_check.runs import compose, train_run

# Why the CPU check leaves compiled networks out, and where they are trained instead.
COMPILE_ON_CPU = (
    "torch.compile's inductor spends minutes compiling on a CPU; compile.enabled=true is "
    "trained on the CPU by tests/test_training.py::test_compiled_networks_train (aot_eager)"
)


def speed_checks(budget: Budget, runs_dir: Path, overrides: list[str]) -> list[CheckResult]:
    results = [lightning_over_plain(budget, runs_dir / "speed_eager", overrides, compiled=False)]
    if budget.device == "cpu":
        results.append(CheckResult("speed", "gan compiled", SKIPPED, COMPILE_ON_CPU))
    else:
        results.append(
            lightning_over_plain(budget, runs_dir / "speed_compiled", overrides, compiled=True)
        )
    return results


def lightning_over_plain(
    budget: Budget, run_dir: Path, overrides: list[str], compiled: bool
) -> CheckResult:
    """Seconds per batch of genlab-train's Lightning loop over those of a plain loop running
    the same networks, optimizers and data on the device, float32, after a warm-up (which
    holds the compilation when ``compiled``)."""
    cfg = compose(
        [
            "model=gan", f"trainer={budget.trainer}", "trainer.precision=32-true", *QUIET,
            f"compile.enabled={str(compiled).lower()}", *overrides,
        ],
        run_dir,
        budget,
    )  # fmt: skip
    warmup, batches = budget.warmup_batches, budget.timed_batches
    started = time.monotonic()
    if budget.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    plain_s = plain_seconds_per_batch(cfg, batches, warmup, budget.device, compiled)
    plain_memory = _peak_gpu_memory_gib(budget.device)
    if budget.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    summary = train_run(cfg, [BatchClock(warmup), StopAfter(warmup + batches)])
    measured = rates(summary)
    lightning_s = 1.0 / measured["batches_per_s"]
    values = {
        "lightning_s_per_batch": lightning_s,
        "plain_s_per_batch": plain_s,
        "lightning_over_plain": lightning_s / plain_s,
        "images_per_s": measured["images_per_s"],
        "batch_size": cfg.data.batch_size,
        "peak_gpu_memory_gib": measured.get("peak_gpu_memory_gib"),
        "plain_peak_gpu_memory_gib": plain_memory,
        "timed_batches": batches,
    }
    memory = values["peak_gpu_memory_gib"]
    detail = (
        f"Lightning / plain loop {values['lightning_over_plain']:.2f} "
        f"({lightning_s * 1e3:.1f} / {plain_s * 1e3:.1f} ms per batch of {cfg.data.batch_size}); "
        f"{values['images_per_s']:.0f} images/s"
        + (
            ", peak memory: not measured on the CPU"
            if memory is None
            else f", peak GPU memory {memory:.2f} GiB (plain loop {plain_memory:.2f})"
        )
    )
    name = "gan compiled" if compiled else "gan eager"
    return CheckResult("speed", name, PASSED, detail, time.monotonic() - started, values)


def _peak_gpu_memory_gib(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
