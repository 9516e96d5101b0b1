"""early_terminate in the local engine: W&B's hyperband as Optuna's successive halving, fed
by the evaluations a trial appends to its metrics_history.jsonl while it trains.

W&B counts a run's "iterations" as the times its metric was logged; here that is the trial's
evaluations (``metrics.every_n_steps``). W&B's bands are ``min_iter * eta^k`` (or, with
``max_iter`` and ``s``, the ``s`` bands ``max_iter / eta^s ... max_iter / eta``); at each band
only the best ``1/eta`` of the trials that reached it go on. That is Optuna's
``SuccessiveHalvingPruner`` with ``min_resource`` the first band and ``reduction_factor`` eta.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna

from genlab.errors import ConfigError
from genlab.sweeps.definition import SweepDefinition
from genlab.tracking.history import HistoryFollower


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
    """The evaluations of ``key`` a running trial has appended to its metrics_history.jsonl,
    read as they come (:class:`~genlab.tracking.history.HistoryFollower`)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.count = 0  # evaluations with a value of ``key`` so far
        self._history = HistoryFollower(path)

    @property
    def last_step(self) -> int:
        """Training step of the last evaluation read, with a value or not; -1 before one."""
        return self._history.last_step

    def new(self) -> list[tuple[int, int, float]]:
        """(evaluation number, training step, value) of each evaluation since the last call."""
        found = []
        for record in self._history.new():
            value = record.get(self.key)
            if isinstance(value, int | float) and math.isfinite(value):
                self.count += 1
                found.append((self.count, record["step"], float(value)))
        return found
