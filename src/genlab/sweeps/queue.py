"""The sweep's budget as Optuna's queue of WAITING trials.

Every trial a sweep will run is enqueued up front (``study.enqueue_trial``): the grid's points,
random draws made with the sweep's seed, or, for bayes, trials whose parameters the sampler
chooses when a worker takes them. A worker takes the next trial from the queue and never
creates one, so several workers on one study run the budget exactly: no point twice, no
trial beyond ``count``.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.search_space import grid_space, suggest
from genlab.sweeps.table import swept_parameters

# genlab's status of a trial that stopped without an outcome: it runs again.
UNFINISHED = ("running", "interrupted")


def counts_toward_budget(trial: FrozenTrial) -> bool:
    """Trials that ran to an end (ok, failed, diverged, pruned), run, or wait to run; an
    interrupted one is not counted: its retry is."""
    if trial.state == TrialState.FAIL:
        return trial.user_attrs.get("status", "running") not in UNFINISHED
    return True


def done(study: optuna.Study) -> list[FrozenTrial]:
    return [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state.is_finished() and counts_toward_budget(t)
    ]


def waiting(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))


def fill(study: optuna.Study, definition: SweepDefinition, budget: int, seed: int) -> int:
    """Enqueues trials until ``budget`` trials have run, run or wait; returns how many."""
    trials = study.get_trials(deepcopy=False)
    held = [t for t in trials if counts_toward_budget(t)]
    missing = budget - len(held)
    if missing <= 0:
        return 0
    if definition.method == "grid":
        points = _grid_points(definition, held, missing, seed)
    elif definition.method == "random":
        points = _random_points(definition, missing, seed + len(trials))
    else:  # bayes: the sampler chooses when a worker takes the trial
        points = [{} for _ in range(missing)]
    for params in points:
        study.enqueue_trial(params, skip_if_exists=False)
    return len(points)


def planned_params(trial: FrozenTrial) -> dict[str, Any]:
    """A trial's parameters, also before it ran (an enqueued trial holds them aside)."""
    return trial.params or dict(trial.system_attrs.get("fixed_params") or {})


def _grid_points(
    definition: SweepDefinition, held: list[FrozenTrial], missing: int, seed: int
) -> list[dict[str, Any]]:
    """The grid's points not yet held, in the grid's order; a seeded sample of them when the
    budget is smaller than the grid."""
    space = grid_space(definition)
    names = [name for name in swept_parameters(definition) if name in space]
    taken = {_key(planned_params(t), names) for t in held}
    points = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(space[name] for name in names))
    ]
    free = [p for p in points if _key(p, names) not in taken]
    if missing < len(free):
        chosen = sorted(random.Random(seed).sample(range(len(free)), missing))
        free = [free[i] for i in chosen]
    return free


def _random_points(definition: SweepDefinition, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` draws of the search space by Optuna's RandomSampler seeded with ``seed``."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    searched = set(swept_parameters(definition))
    points = []
    for _ in range(n):
        params = suggest(study.ask(), definition)
        points.append({k: v for k, v in params.items() if k in searched})
    return points


def _key(params: dict[str, Any], names: list[str]) -> tuple[str, ...]:
    return tuple(repr(params.get(name)) for name in names)
