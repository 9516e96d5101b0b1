"""The sweep dir's table of trials: trials.csv (for tools) and trials.md (for people)."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from genlab.atomic_write import write_text_atomic
from genlab.markdown import markdown_table
from genlab.metrics import degenerate
from genlab.naming import short_value
from genlab.sweeps.definition import SweepDefinition

TRIALS_CSV = "trials.csv"
TRIALS_MD = "trials.md"
_LOCK = threading.Lock()


def trial_rows(study: optuna.Study, definition: SweepDefinition) -> list[dict[str, Any]]:
    rows = []
    for trial in study.get_trials(deepcopy=False):
        # A queued retry carries the attributes of the attempt it repeats: not its own yet.
        attrs = {} if trial.state == optuna.trial.TrialState.WAITING else trial.user_attrs
        row: dict[str, Any] = {
            "trial": trial.number,
            "status": trial_status(trial),
            definition.metric_name: trial.value if trial.state.is_finished() else None,
        }
        params = attrs.get("params") or trial.params or trial.system_attrs.get("fixed_params", {})
        row.update({name: params.get(name) for name in swept_parameters(definition)})
        row.update(
            {
                "step": attrs.get("step"),
                "exit_code": attrs.get("exit_code"),
                "wall_s": attrs.get("wall_s"),
                "started": iso_time(attrs.get("started")),
                "ended": iso_time(attrs.get("ended")),
                "run_dir": attrs.get("run_dir"),
                "error": attrs.get("error"),
                "retry_of": trial.system_attrs.get("failed_trial"),
                "worker": attrs.get("worker"),
                "degenerate": "; ".join(attrs.get(degenerate.DEGENERATE_KEY) or []) or None,
            }
        )
        rows.append(row)
    _flag_equal_fids(definition, rows)
    return rows


def _flag_equal_fids(definition: SweepDefinition, rows: list[dict[str, Any]]) -> None:
    """Trials of different settings with the same FID drew the same (constant) images."""
    if definition.summary_key != "fid":
        return
    swept = swept_parameters(definition)
    shared = degenerate.same_fid(
        (str(r["trial"]), repr([r[name] for name in swept]), r[definition.metric_name])
        for r in rows
        if r["status"] == "ok"
    )
    for row in rows:
        if str(row["trial"]) in shared:
            reason = shared[str(row["trial"])]
            row["degenerate"] = "; ".join(filter(None, [row["degenerate"], reason]))


def trial_status(trial: optuna.trial.FrozenTrial) -> str:
    """genlab's status of a trial: its outcome (ok, failed, diverged, pruned), ``running``,
    ``queued``, or ``interrupted`` when it stopped without one (its worker died)."""
    state = trial.state
    if state == optuna.trial.TrialState.WAITING:
        return "queued"
    status = str(trial.user_attrs.get("status", state.name.lower()))
    if state == optuna.trial.TrialState.FAIL and status == "running":
        return "interrupted"  # failed by Optuna's heartbeat check, not by genlab
    return status


def swept_parameters(definition: SweepDefinition) -> list[str]:
    """The parameters that vary (fixed `value:` settings are the same in every row)."""
    return [name for name, spec in definition.parameters.items() if "value" not in spec]


def columns(definition: SweepDefinition) -> list[str]:
    return [
        "trial",
        "status",
        definition.metric_name,
        *swept_parameters(definition),
        "step",
        "exit_code",
        "wall_s",
        "started",
        "ended",
        "run_dir",
        "error",
        "retry_of",
        "worker",
        "degenerate",
    ]


def iso_time(timestamp: float | None) -> str | None:
    """A trial's start or end as ISO 8601 (UTC, seconds)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def best_row(definition: SweepDefinition, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ok trial with the best metric value, or None; degenerate trials are never best."""
    scored = [
        r
        for r in rows
        if r["status"] == "ok"
        and r.get(definition.metric_name) is not None
        and not r.get("degenerate")
    ]
    if not scored:
        return None
    pick = min if definition.minimize else max
    return pick(scored, key=lambda r: float(r[definition.metric_name]))


def ranked(definition: SweepDefinition, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scored trials best first, then the others in trial order."""
    metric = definition.metric_name
    scored = [r for r in rows if r["status"] == "ok" and r.get(metric) is not None]
    scored.sort(key=lambda r: float(r[metric]), reverse=not definition.minimize)
    return scored + [r for r in rows if r not in scored]


def write_tables(sweep_dir: Path, definition: SweepDefinition, rows: list[dict[str, Any]]) -> None:
    """Rewrites both files (atomically; trials end in parallel worker threads): trials.csv in
    trial order with full values, trials.md best first with the best trial marked."""
    frame = pd.DataFrame(rows, columns=columns(definition))
    best = best_row(definition, rows)
    readable = pd.DataFrame(ranked(definition, rows), columns=columns(definition))
    readable = readable.drop(columns=["started", "ended"])
    flagged = {r["trial"] for r in rows if r.get("degenerate")}
    readable.insert(
        0,
        "best",
        [
            "★" if best and r == best["trial"] else degenerate.MARK if r in flagged else ""
            for r in readable["trial"]
        ],
    )
    for name in swept_parameters(definition):
        readable[name] = [short_value(v) for v in readable[name]]
    readable["run_dir"] = [_relative(d, sweep_dir) for d in readable["run_dir"]]
    with _LOCK:
        write_text_atomic(sweep_dir / TRIALS_CSV, frame.to_csv(index=False))
        write_text_atomic(sweep_dir / TRIALS_MD, _markdown(readable))


def _markdown(frame: pd.DataFrame) -> str:
    return "\n".join(markdown_table(list(frame.columns), frame.itertuples(index=False))) + "\n"


def _relative(run_dir: Any, sweep_dir: Path) -> Any:
    return os.path.relpath(run_dir, sweep_dir) if isinstance(run_dir, str) else run_dir
