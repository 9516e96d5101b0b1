"""early_terminate in the local engine: W&B's hyperband as Optuna's successive halving, fed
by the evaluations a trial appends to its metrics_history.jsonl while it trains.

W&B counts a run's "iterations" as the times its metric was logged; here that is the trial's
evaluations (``metrics.every_n_steps``). W&B's bands are ``min_iter * eta^k`` (or, with
``max_iter`` and ``s``, the ``s`` bands ``max_iter / eta^s ... max_iter / eta``); at each band
only the best ``1/eta`` of the trials that reached it go on. That is Optuna's
``SuccessiveHalvingPruner`` with ``min_resource`` the first band and ``reduction_factor`` eta.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import optuna

from genlab.errors import ConfigError
from genlab.sweeps.definition import SweepDefinition


def make_pruner(definition: SweepDefinition) -> optuna.pruners.BasePruner:
    """The definition's ``early_terminate`` as a pruner; Optuna's NopPruner without one."""
    spec = definition.config.get("early_terminate")
    if not spec:
        return optuna.pruners.NopPruner()
    where = f"sweep {definition.name}: early_terminate"
    eta = spec.get("eta", 3)
    if float(eta) != int(eta):
        raise ConfigError(f"{where}: eta must be a whole number locally (got {eta})")
    eta = int(eta)
    if "min_iter" in spec:
        first = int(spec["min_iter"])
    else:
        first = math.floor(int(spec["max_iter"]) / eta ** int(spec["s"]))
        if first < 1:
            raise ConfigError(
                f"{where}: max_iter / eta^s is {int(spec['max_iter']) / eta ** int(spec['s']):.3g}, "
                "below one evaluation; raise max_iter or lower s"
            )
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=first, reduction_factor=eta, min_early_stopping_rate=0
    )


def check_reports(definition: SweepDefinition, trial_config: dict[str, Any]) -> None:
    """A trial that never evaluates while it trains cannot be pruned: refuse, with the fix."""
    if not definition.config.get("early_terminate"):
        return
    metrics = trial_config.get("metrics") or {}
    if not metrics.get("enabled", False) or not metrics.get("every_n_steps"):
        raise ConfigError(
            f"sweep {definition.name}: early_terminate needs the trials to evaluate while they "
            "train; add `metrics.every_n_steps: {value: N}` to the definition's parameters"
        )


class EvaluationReader:
    """The evaluations a running trial has appended to its metrics_history.jsonl, read as they
    come (a line still being written is left for the next read)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.count = 0  # evaluations with a value of ``key`` so far
        self.last_step = -1  # training step of the last evaluation read, with a value or not
        self._offset = 0

    def new(self) -> list[tuple[int, int, float]]:
        """(evaluation number, training step, value) of each evaluation since the last call."""
        if not self.path.is_file():
            return []
        with self.path.open("rb") as history:
            history.seek(self._offset)
            chunk = history.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        found = []
        for line in complete.decode().splitlines():
            record = json.loads(line) if line.strip() else {}
            self.last_step = int(record.get("step", self.last_step))
            value = record.get(self.key)
            if isinstance(value, int | float) and math.isfinite(value):
                self.count += 1
                found.append((self.count, int(record.get("step", 0)), float(value)))
        return found
