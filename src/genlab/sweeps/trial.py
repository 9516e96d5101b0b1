"""One trial: the training app in its own process, with the command W&B's agent would build."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab.process import STOP_REQUEST_FILE, child_env, clear_verdict, judged_env, request_stop
from genlab.sweeps.definition import SweepDefinition
from genlab.tracking.summary import SUMMARY_FILE, read_summary

CONSOLE_LOG = "console.log"
# genlab's training app run by module: a baseline run's command works from any directory.
TRAIN_APP = ("-m", "genlab.cli.train")


def child_command(launch: Sequence[str], args: Sequence[str], run_dir: Path) -> list[str]:
    """The command of one child training run (a sweep trial, a baseline run): ``launch`` (an
    interpreter and the training app, with what precedes the run's own overrides), the run's
    ``args``, then its run dir, last, so that it is the one Hydra uses."""
    return [*launch, *args, f"hydra.run.dir={run_dir.resolve()}"]


def agent_command(
    definition: SweepDefinition,
    params: dict[str, Any],
    interpreter: str = "python",
    env_prefix: tuple[str, ...] = ("/usr/bin/env",),
    overrides: Sequence[str] = (),
) -> list[str]:
    """The command line W&B's agent runs for ``params``: wandb's own functions format the
    arguments (``key=value`` for ``${args_no_hyphens}``); the macros are filled as the agent
    does (``wandb.wandb_agent.Agent._command_run``)."""
    # W&B loads here, not for every user of run_trial (the paper baselines' runner).
    from genlab._compat.wandb import sweep_command_parts

    template, sweep_vars = sweep_command_parts(definition.command(overrides), params)
    sweep_vars["interpreter"] = [interpreter]
    sweep_vars["program"] = [definition.program]
    sweep_vars["env"] = list(env_prefix)
    command: list[str] = []
    for part in template:
        part = str(part)
        if part.startswith("${") and part.endswith("}"):
            command += sweep_vars.get(part[2:-1]) or []
        else:
            command.append(part)
    return command


@dataclass
class TrialOutcome:
    status: str  # ok | failed | diverged | pruned (summary.json's), or failed when the process died first
    exit_code: int
    summary: dict[str, Any]
    error: str | None
    wall_s: float


# While a trial runs: the status to stop it with (e.g. "pruned") and why, or None to go on.
StopCheck = Callable[[], tuple[str, str] | None]


def run_trial(
    command: list[str],
    run_dir: Path,
    cwd: Path,
    should_stop: StopCheck | None = None,
    judged: bool = False,
    poll_s: float = 0.25,
) -> TrialOutcome:
    """Runs one trial to its end; its console output goes to ``run_dir/console.log``.
    ``should_stop`` is asked every ``poll_s`` seconds; when it answers, the trial is told why
    (``stop_request.json``) and sent SIGTERM: it saves ``last.ckpt`` at the next batch and
    records that status. A ``judged`` trial waits after each evaluation until ``should_stop``
    gives its verdict (:func:`genlab.process.give_verdict`) or stops it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = child_env({**os.environ, "WANDB_MODE": os.environ.get("WANDB_MODE", "offline")})
    env.pop("HYDRA_FULL_ERROR", None)
    if judged:
        env = judged_env(env)
        clear_verdict(run_dir)
    started = time.monotonic()
    # Appended: a trial continued after an interruption keeps the earlier attempt's output.
    with (run_dir / CONSOLE_LOG).open("a") as console:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=console, stderr=subprocess.STDOUT
        )
        try:
            while True:
                try:
                    exit_code = process.wait(timeout=poll_s)
                    break
                except subprocess.TimeoutExpired:
                    stop = should_stop() if should_stop is not None else None
                    if stop is not None:
                        request_stop(run_dir, *stop)
                        process.send_signal(signal.SIGTERM)
                        should_stop = None
        finally:
            if process.poll() is None:  # the sweep itself is stopping: so does its trial
                process.terminate()
                process.wait()
            # A request the trial did not take (it ended first) says nothing of a later run.
            (run_dir / STOP_REQUEST_FILE).unlink(missing_ok=True)
    wall_s = time.monotonic() - started
    summary = read_summary(run_dir) if (run_dir / SUMMARY_FILE).is_file() else {}
    status = summary.get("status", "ok" if exit_code == 0 else "failed")
    if exit_code != 0 and status == "ok":
        status = "failed"  # e.g. killed after writing summary.json
    error = summary.get("error")
    if status != "ok" and error is None:
        error = _last_error_line(run_dir / CONSOLE_LOG) or f"exit status {exit_code}"
    return TrialOutcome(status, exit_code, summary, error, wall_s)


def _last_error_line(log: Path) -> str | None:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("genlab: error:"):
            return line.removeprefix("genlab: error:").strip()
    return lines[-1].strip() if lines else None
