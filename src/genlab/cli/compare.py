"""genlab-compare: a table, verdicts and plots across runs; seeds of one config form a variant."""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import exit_with, hydra_app
from genlab.compare.axes import X_AXES
from genlab.errors import ConfigError
from genlab.metrics.keys import BY_NAME
from genlab.results import check_name

# The flags of compare.py's former argparse form, refused with the override form.
FORMER_FLAGS = (
    "--out", "--x", "--wandb-project", "--wandb-group", "--eval-noise", "--min-effect",
    "--allow-mixed-protocols",
)  # fmt: skip
OVERRIDE_FORM = (
    "python scripts/compare.py 'runs=[RUN_OR_SWEEP_DIR,...]' out=DIR "
    "[x=images_seen eval_noise=5 'min_effect={fid:2}' allow_mixed_protocols=true "
    "wandb_project=ENTITY/PROJECT wandb_group=NAME expected_best=true group_by=KEY]"
)


def refuse_former_form(argv: list[str]) -> None:
    """A ConfigError that gives the override form for the former argparse form: one of its
    flags, or a run dir given bare (an existing path with no ``=``, not a Hydra flag's value)."""
    for before, arg in zip(["", *argv], argv, strict=False):
        if arg.partition("=")[0] in FORMER_FLAGS:
            former = arg.partition("=")[0]
        elif "=" not in arg and not before.startswith("-") and os.path.exists(arg):
            former = f"a bare run dir ({arg})"
        else:
            continue
        raise ConfigError(f"compare.py takes Hydra overrides, not {former}: {OVERRIDE_FORM}")


def check_settings(cfg: DictConfig) -> dict[str, Any]:
    """The settings as Python values, or a ConfigError naming the key and the fix."""
    settings = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(settings, dict)
    if settings["out"] in (None, ""):
        raise ConfigError("give out=DIR: where comparison.md, comparison.csv and the PNGs go")
    if not isinstance(settings["runs"], list):
        settings["runs"] = [settings["runs"]]
    if not settings["runs"] and not settings["wandb_project"]:
        raise ConfigError("give run dirs or sweep dirs (runs=[DIR,...]) or wandb_project=")
    if settings["x"] is not None and settings["x"] not in X_AXES:
        raise ConfigError(f"x must be one of {', '.join(X_AXES)} or null, got {settings['x']!r}")
    eval_noise = settings["eval_noise"]
    if not (
        _is_number(eval_noise)
        and eval_noise == int(eval_noise)
        and eval_noise != 1
        and eval_noise >= 0
    ):
        raise ConfigError(f"eval_noise takes 0 or 2 or more evaluations, got {eval_noise!r}")
    min_effect = settings["min_effect"] or {}
    if not isinstance(min_effect, dict):
        raise ConfigError(
            f"min_effect takes {{SCORE:DIFF,...}} (min_effect={{fid:2}}), got {min_effect!r}"
        )
    for name, value in min_effect.items():
        if not (_is_number(value) and math.isfinite(value) and value > 0):
            raise ConfigError(
                f"min_effect takes a positive difference per score (min_effect={{fid:2}}), "
                f"got {name}={value}"
            )
    expected_best, group_by = settings["expected_best"], settings["group_by"]
    if not (isinstance(expected_best, bool) or expected_best in METRICS):
        raise ConfigError(
            f"expected_best takes true, false or a score ({', '.join(METRICS)}), "
            f"got {expected_best!r}"
        )
    if group_by is not None and expected_best is False:
        raise ConfigError("group_by makes the variants of expected_best=true: give both")
    if group_by is not None and not isinstance(group_by, str):
        raise ConfigError(f"group_by takes one config key (model.loss._target_), got {group_by!r}")
    if settings["record"] is not None:
        check_name(str(settings["record"]))
    settings["eval_noise"] = int(eval_noise)
    settings["min_effect"] = {str(k): float(v) for k, v in min_effect.items()}
    return settings


METRICS = tuple(BY_NAME)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(cfg: DictConfig) -> Path:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = check_settings(cfg)
    # pandas, matplotlib and W&B load once the settings are valid (docs/decisions.md).
    from genlab.compare.report import compare_runs
    from genlab.compare.runs import find_run_dirs, load_training_runs
    from genlab.compare.wandb_runs import load_wandb_runs

    out = Path(settings["out"])
    if settings["expected_best"] is not False:
        compare_at_equal_budget(settings, out)
        print(out / "comparison.md")
        return out
    runs = load_training_runs(find_run_dirs([Path(p) for p in settings["runs"]]))
    if settings["wandb_project"]:
        runs += load_wandb_runs(settings["wandb_project"], settings["wandb_group"])
    compare_runs(
        runs,
        out,
        settings["allow_mixed_protocols"],
        "allow_mixed_protocols=true",
        eval_noise=settings["eval_noise"],
        min_effect=settings["min_effect"],
        x=settings["x"],
        record=settings["record"],
    )
    print(out / "comparison.md")
    return out


def compare_at_equal_budget(settings: dict[str, Any], out: Path) -> None:
    """expected_best=true: one variant per sweep dir, or per value of ``group_by``."""
    from genlab.compare.budget_report import compare_budgets
    from genlab.compare.eval_noise import evaluation_noise
    from genlab.compare.runs import find_run_dirs, load_run, load_training_runs
    from genlab.compare.tuning_budget import grouped_trials, sweep_trials

    if settings["wandb_project"]:
        raise ConfigError(
            "expected_best=true reads sweep dirs or run dirs; W&B runs are not read for it yet"
        )
    chosen = settings["expected_best"]
    metric = None if chosen is True else str(chosen)
    if settings["group_by"] is not None:
        metric = metric or "fid"
        runs = load_training_runs(find_run_dirs([Path(p) for p in settings["runs"]]))
        trial_sets = grouped_trials(runs, settings["group_by"], metric)
    else:
        trial_sets, metrics = [], set()
        for path in settings["runs"]:
            trials, used, _ = sweep_trials(Path(path), metric)
            trial_sets.append(trials)
            metrics.add(used)
        if len(metrics) > 1:
            raise ConfigError(
                f"the sweeps ranked their trials by different metrics ({', '.join(sorted(metrics))}): "
                "compare sweeps of one metric"
            )
        metric = metrics.pop()
    eval_std = math.nan
    if settings["eval_noise"]:
        stds = [
            evaluation_noise(load_run(t.first_run), settings["eval_noise"], [metric])[metric]
            for t in trial_sets
            if t.first_run is not None
        ]
        eval_std = math.sqrt(sum(s * s for s in stds) / len(stds)) if stds else math.nan
    compare_budgets(trial_sets, metric, out, eval_std, settings["record"])


@hydra_app("compare", examples={"out": "DIR"})
def _hydra_main(cfg: DictConfig) -> Path:
    return compare(cfg)


def main() -> None:
    """The Hydra app; the former argparse form (``RUN... --out DIR``) gets the override form."""
    try:
        refuse_former_form(sys.argv[1:])
    except ConfigError as exc:
        exit_with(exc)
    _hydra_main()


if __name__ == "__main__":
    main()
