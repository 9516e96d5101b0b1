"""genlab-compare: a table, verdicts and plots across runs; seeds of one config form a variant."""

from __future__ import annotations

import logging
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from genlab.cli.app import exit_with, hydra_app
from genlab.compare.axes import X_AXES
from genlab.errors import ConfigError

# The argparse flags of earlier versions: flag -> (config key, takes a value).
LEGACY_FLAGS = {
    "--out": ("out", True),
    "--x": ("x", True),
    "--wandb-project": ("wandb_project", True),
    "--wandb-group": ("wandb_group", True),
    "--eval-noise": ("eval_noise", True),
    "--min-effect": ("min_effect", True),
    "--allow-mixed-protocols": ("allow_mixed_protocols", False),
}
# Hydra's own flags that take the next argument as their value (`--cfg job`, `-cn NAME`).
HYDRA_VALUE_FLAGS = {
    *("--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn"),
    *("--config-dir", "-cd", "--experimental-rerun", "--shell-completion", "-sc"),
}
HYDRA_INFO_FLAGS = {"--info", "-i"}  # an optional value, one of these
HYDRA_INFO_TOPICS = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}


def legacy_overrides(argv: list[str]) -> list[str]:
    """``RUN... --out DIR --min-effect fid=2 --allow-mixed-protocols`` as Hydra overrides
    (``runs=[...]``, ``out=...``, ``min_effect={fid:2}``, ``allow_mixed_protocols=true``).

    Hydra's own arguments and ``key=value`` overrides pass unchanged; any other argument that
    is no flag (no ``=`` in it, or an existing path) is a run dir.
    """
    flags: list[str] = []  # before the overrides: Hydra's parser wants those in one run
    overrides: list[str] = []
    runs: list[str] = []
    min_effect: list[str] = []
    i = 0
    while i < len(argv):
        arg, i = argv[i], i + 1
        flag, has_value, inline = arg.partition("=")
        takes_next = arg in HYDRA_VALUE_FLAGS or (
            arg in HYDRA_INFO_FLAGS and i < len(argv) and argv[i] in HYDRA_INFO_TOPICS
        )
        if takes_next:
            flags += argv[i - 1 : i + 1]
            i += 1
        elif flag in LEGACY_FLAGS:
            key, takes_value = LEGACY_FLAGS[flag]
            if not takes_value:
                overrides.append(f"{key}=true")
                continue
            if not has_value:
                if i == len(argv):
                    raise ConfigError(f"{flag} needs a value")
                inline, i = argv[i], i + 1
            if key == "min_effect":
                min_effect.append(_min_effect_item(inline))
            elif key in ("x", "eval_noise"):
                overrides.append(f"{key}={inline}")  # a word or a number, as Hydra types it
            else:
                overrides.append(f"{key}={_quoted(inline)}")
        elif arg.startswith("-"):
            flags.append(arg)  # Hydra's flags, or a flag its parser will refuse
        elif "=" in arg and not os.path.exists(arg):
            overrides.append(arg)
        else:
            runs.append(_quoted(arg))
    if runs:
        if any(o.split("=", 1)[0].lstrip("+~") == "runs" for o in overrides):
            raise ConfigError("give run dirs as RUN_DIR ... or as runs=[...], not both")
        overrides.insert(0, f"runs=[{','.join(runs)}]")
    if min_effect:
        overrides.append(f"min_effect={{{','.join(min_effect)}}}")
    return flags + overrides


def _min_effect_item(item: str) -> str:
    name, _, value = item.partition("=")
    if not re.fullmatch(r"\w+", name) or not value:
        raise ConfigError(f"--min-effect takes SCORE=DIFF (fid=2), got {item!r}")
    return f"{name}:{value}"


def _quoted(value: str) -> str:
    """A value as a quoted string of Hydra's override grammar, whatever characters it holds
    (commas, brackets, spaces, quotes)."""
    # Hydra unescapes only the backslashes before a quote; OmegaConf reads \${ as a literal ${.
    escaped = re.sub(r"(\\*)('|$)", lambda m: m[1] * 2 + (f"\\{m[2]}" if m[2] else ""), value)
    escaped = escaped.replace("${", "\\${")
    return f"'{escaped}'"


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
    """The Hydra app, also called with the flags of earlier versions (``RUN... --out DIR``)."""
    try:
        sys.argv[1:] = legacy_overrides(sys.argv[1:])
    except ConfigError as exc:
        exit_with(exc)
    _hydra_main()


if __name__ == "__main__":
    main()
