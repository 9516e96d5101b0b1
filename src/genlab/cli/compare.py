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

# The flags of compare.py's former argparse form, refused with the override form.
FORMER_FLAGS = (
    "--out", "--x", "--wandb-project", "--wandb-group", "--eval-noise", "--min-effect",
    "--allow-mixed-protocols",
)  # fmt: skip
OVERRIDE_FORM = (
    "python scripts/compare.py 'runs=[RUN_OR_SWEEP_DIR,...]' out=DIR "
    "[x=images_seen eval_noise=5 'min_effect={fid:2}' allow_mixed_protocols=true "
    "wandb_project=ENTITY/PROJECT wandb_group=NAME]"
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
    settings["eval_noise"] = int(eval_noise)
    settings["min_effect"] = {str(k): float(v) for k, v in min_effect.items()}
    return settings


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
    )
    print(out / "comparison.md")
    return out


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
