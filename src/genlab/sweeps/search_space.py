"""W&B sweep methods and parameter distributions, expressed in Optuna's terms."""

from __future__ import annotations

import math
from typing import Any

import optuna

from genlab.errors import ConfigError
from genlab.sweeps.definition import SweepDefinition

# W&B infers a parameter's distribution when `distribution:` is absent.
_INFERRED = (
    ("value", "constant"),
    ("values", "categorical"),
)
_SUPPORTED = (
    "constant, categorical, int_uniform, uniform, q_uniform, log_uniform, log_uniform_values"
)


def distribution_of(name: str, spec: dict[str, Any]) -> str:
    if "distribution" in spec:
        return str(spec["distribution"])
    for key, distribution in _INFERRED:
        if key in spec:
            return distribution
    if "parameters" in spec:
        raise ConfigError(
            f"sweep parameter {name}: nested `parameters:` are not supported by the local "
            "engine; write each as one dotted Hydra key (model.optimizer_g.lr)"
        )
    bounds = (spec.get("min"), spec.get("max"))
    return "int_uniform" if all(isinstance(b, int) for b in bounds) else "uniform"


def make_sampler(definition: SweepDefinition, seed: int) -> optuna.samplers.BaseSampler:
    """grid -> GridSampler, random -> RandomSampler, bayes -> TPESampler (seeded)."""
    if definition.method == "grid":
        return optuna.samplers.GridSampler(grid_space(definition), seed=seed)
    if definition.method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if definition.method == "bayes":
        return optuna.samplers.TPESampler(seed=seed)
    raise ConfigError(
        f"sweep {definition.name}: method {definition.method!r} is not supported locally; "
        "use grid, random or bayes"
    )


def grid_space(definition: SweepDefinition) -> dict[str, list[Any]]:
    space: dict[str, list[Any]] = {}
    for name, spec in definition.parameters.items():
        kind = distribution_of(name, spec)
        if kind == "categorical":
            space[name] = list(spec["values"])
        elif kind == "int_uniform":
            space[name] = list(range(spec["min"], spec["max"] + 1))
        elif kind != "constant":
            raise ConfigError(
                f"sweep {definition.name}: a grid needs `values:` (or int_uniform) for "
                f"{name}, got distribution {kind}"
            )
    return space


def grid_size(definition: SweepDefinition) -> int:
    return math.prod(len(values) for values in grid_space(definition).values())


def suggest(trial: optuna.Trial, definition: SweepDefinition) -> dict[str, Any]:
    """The trial's value of every parameter (constants included), in definition order."""
    params: dict[str, Any] = {}
    for name, spec in definition.parameters.items():
        params[name] = _suggest_one(trial, name, spec, definition.method)
    return params


def _suggest_one(trial: optuna.Trial, name: str, spec: dict[str, Any], method: str) -> Any:
    kind = distribution_of(name, spec)
    if kind == "constant":
        return spec["value"]
    if kind == "categorical":
        return trial.suggest_categorical(name, _categorical_values(name, spec["values"]))
    if kind == "int_uniform" and method == "grid":
        return trial.suggest_categorical(name, list(range(spec["min"], spec["max"] + 1)))
    if kind == "int_uniform":
        return trial.suggest_int(name, spec["min"], spec["max"])
    if kind == "uniform":
        return trial.suggest_float(name, spec["min"], spec["max"])
    if kind == "q_uniform":
        return trial.suggest_float(name, spec["min"], spec["max"], step=spec.get("q", 1.0))
    if kind == "log_uniform_values":
        return trial.suggest_float(name, spec["min"], spec["max"], log=True)
    if kind == "log_uniform":  # W&B's bounds are natural logarithms of the values
        return trial.suggest_float(name, math.exp(spec["min"]), math.exp(spec["max"]), log=True)
    raise ConfigError(
        f"sweep parameter {name}: distribution {kind} is not supported by the local engine "
        f"(supported: {_SUPPORTED}); use backend=wandb for it"
    )


def _categorical_values(name: str, values: list[Any]) -> list[Any]:
    for value in values:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ConfigError(
                f"sweep parameter {name}: value {value!r} is not a number, string or bool; "
                "sweep each entry of a list as its own key"
            )
    return list(values)
