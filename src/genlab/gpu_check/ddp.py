"""Each model trained under DDP on every GPU (NCCL) by genlab-train in a process of its own,
as a user starts it: the ranks' weights must agree (replicas.json), with one summary and one
W&B run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from genlab.callbacks.replicas import REPLICAS_FILE
from genlab.gpu_check.budget import MODELS, Budget
from genlab.gpu_check.report import FAILED, PASSED, CheckResult
from genlab.tracking.summary import read_summary

# A DDP run of the CPU budget: two gloo processes.
CPU_PROCESSES = 2


def ddp_checks(
    budget: Budget, runs_dir: Path, overrides: list[str], processes: int
) -> Iterator[CheckResult]:
    for model in MODELS:
        yield ddp_run_check(model, budget, runs_dir / f"ddp_{model}", overrides, processes)


def ddp_run_check(
    model: str, budget: Budget, run_dir: Path, overrides: list[str], processes: int
) -> CheckResult:
    width = [] if budget.network_width is None else _width_overrides(model, budget.network_width)
    batch = [] if budget.batch_size is None else [f"data.batch_size={budget.batch_size}"]
    # Lightning starts ranks 1..N-1 by running this command again (trainer=ddp, popen).
    command = [
        sys.executable, "-m", "genlab.cli.train", f"model={model}",
        f"trainer={budget.ddp_trainer}", f"trainer.devices={processes}",
        f"trainer.max_steps={budget.train_steps}", "metrics=off", "logger=wandb",
        f"trainer.log_every_n_steps={budget.log_every_n_steps}",
        "+trainer.enable_progress_bar=false", "~callbacks.progress_bar", *batch, *width,
        *overrides, f"hydra.run.dir={run_dir}",
    ]  # fmt: skip
    # Offline: the check's W&B run stays in its run dir, whatever the user's W&B settings.
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    name = f"{model} x{processes}"
    problems = ddp_problems(result, run_dir, processes, budget.train_steps)
    values = {"run_dir": str(run_dir), "processes": processes, "exit_status": result.returncode}
    if problems:
        return CheckResult("ddp", name, FAILED, "; ".join(problems), seconds, values)
    detail = (
        f"{processes} ranks ({budget.ddp_trainer}), {budget.train_steps} steps, replicas "
        "identical (replicas.json), one summary, one W&B run"
    )
    return CheckResult("ddp", name, PASSED, detail, seconds, values)


def ddp_problems(
    result: subprocess.CompletedProcess[str], run_dir: Path, processes: int, steps: int
) -> list[str]:
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [f"genlab-train exited with status {result.returncode}: {last[:300]}"]
    problems = []
    summary = read_summary(run_dir)
    if summary.get("status") != "ok" or summary.get("global_step") != steps:
        problems.append(
            f"summary: status {summary.get('status')}, step {summary.get('global_step')}"
        )
    replicas = json.loads((run_dir / REPLICAS_FILE).read_text())
    digests = replicas.get("parameter_sha256") or []
    if replicas.get("in_sync") is not True or len(digests) != processes or len(set(digests)) != 1:
        problems.append(
            f"replicas.json: in_sync {replicas.get('in_sync')}, {len(set(digests))} different "
            f"digests from {len(digests)} ranks"
        )
    wandb_runs = list((run_dir / "wandb").glob("offline-run-*"))
    if len(wandb_runs) != 1:
        problems.append(f"{len(wandb_runs)} W&B runs in wandb/, not one")
    return problems


def _width_overrides(model: str, width: int) -> list[str]:
    networks = ("encoder.trunk", "decoder") if model == "vae" else ("generator", "discriminator")
    return [f"model.{network}.width={width}" for network in networks]
