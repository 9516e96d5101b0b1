"""A sweep definition: W&B's sweep config format, keyed by Hydra override paths.

The same dict goes to the W&B server (``backend=wandb``) and to the local engine
(``backend=local``); it is validated against W&B's sweep config JSON schema, the file that
W&B's open-source ``sweeps`` engine ships (copied here with its MIT license, see
``wandb_sweep_schema.LICENSE``, because that package pins numpy < 2).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from genlab.errors import ConfigError
from genlab.metrics.keys import SCORE_NAMES
from genlab.tracking.summary import WANDB_SUMMARY_PREFIX

_SCHEMA_FILE = Path(__file__).with_name("wandb_sweep_schema.json")
# The W&B agent's default command with Hydra-style `key=value` arguments.
DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"]
DEFAULT_PROGRAM = "scripts/train.py"


@cache
def sweep_schema() -> Draft7Validator:
    return Draft7Validator(json.loads(_SCHEMA_FILE.read_text()))


def schema_violations(config: dict[str, Any]) -> list[str]:
    """Every violation of W&B's sweep schema, as `path: message`."""
    errors = sorted(sweep_schema().iter_errors(config), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}" for e in errors]


# Values a trial logs while it trains (summary.json's `train/...` and `val/...` keys), which W&B
# also holds without genlab's prefix.
_LOGGED_PREFIXES = ("train/", "val/")


def bound_mistakes(parameters: dict[str, Any]) -> list[str]:
    """A parameter's `min` above its `max`, which W&B's schema allows and every engine refuses
    once it draws the first trial."""
    mistakes = []
    for name, spec in parameters.items():
        low, high = spec.get("min"), spec.get("max")
        if not all(isinstance(b, int | float) and not isinstance(b, bool) for b in (low, high)):
            continue
        if low > high:
            mistakes.append(f"parameter {name}: min {low} is above max {high}; swap them")
    return mistakes


def is_reported_metric(name: str) -> bool:
    """Whether trials report ``name``: one of genlab's scores as summary.json and the W&B run
    summary hold it (``genlab/fid``), or a logged training value (``genlab/train/g_loss``)."""
    key = name.removeprefix(WANDB_SUMMARY_PREFIX)
    if key.startswith(_LOGGED_PREFIXES):
        return True
    return name == WANDB_SUMMARY_PREFIX + key and key in SCORE_NAMES


@dataclass(frozen=True)
class SweepDefinition:
    """A validated W&B sweep config (``config``) and what genlab reads from it."""

    config: dict[str, Any]

    @classmethod
    def from_dict(cls, config: dict[str, Any], source: str) -> SweepDefinition:
        violations = schema_violations(config)
        if violations:
            raise ConfigError(
                f"sweep definition {source} is not a valid W&B sweep config: "
                + "; ".join(violations[:3])
                + " (see https://docs.wandb.ai/guides/sweeps/define-sweep-configuration)"
            )
        if not config.get("name"):
            raise ConfigError(f"sweep definition {source} needs a `name:`")
        if "metric" not in config:
            raise ConfigError(
                f"sweep definition {source} needs `metric: {{name: genlab/fid, goal: minimize}}`"
            )
        mistakes = bound_mistakes(config.get("parameters", {}))
        if mistakes:
            raise ConfigError(f"sweep definition {source}: " + "; ".join(mistakes[:3]))
        metric = str(config["metric"]["name"])
        if not is_reported_metric(metric):
            raise ConfigError(
                f"sweep definition {source}: metric {metric} is not a value genlab's trials "
                "report, so no trial could be ranked by it; name one of "
                f"{', '.join(WANDB_SUMMARY_PREFIX + name for name in SCORE_NAMES)}, or a logged "
                f"training value ({WANDB_SUMMARY_PREFIX}train/<name>, e.g. "
                f"{WANDB_SUMMARY_PREFIX}train/g_loss)"
            )
        return cls(config)

    @property
    def name(self) -> str:
        return str(self.config["name"])

    @property
    def method(self) -> str:
        return str(self.config["method"])

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.config.get("parameters", {}))

    @property
    def metric_name(self) -> str:
        return str(self.config["metric"]["name"])

    @property
    def summary_key(self) -> str:
        """The metric's key in summary.json (the W&B summary key without ``genlab/``)."""
        return self.metric_name.removeprefix(WANDB_SUMMARY_PREFIX)

    @property
    def minimize(self) -> bool:
        return self.config["metric"].get("goal", "minimize") == "minimize"

    @property
    def program(self) -> str:
        return str(self.config.get("program", DEFAULT_PROGRAM))

    def command(self, overrides: Sequence[str] = ()) -> list[str]:
        """The agent command; every trial joins the W&B group named after the sweep and gets
        ``overrides`` (the sweep app's, for every trial) before the swept parameters."""
        command = [str(part) for part in self.config.get("command", DEFAULT_COMMAND)]
        if "${program}" not in command:
            raise ConfigError(
                f"sweep {self.name}: `command` must contain ${{program}} (genlab's training app)"
            )
        at = command.index("${program}") + 1
        return [*command[:at], f"group={self.name}", *overrides, *command[at:]]

    def for_wandb(self, overrides: Sequence[str] = ()) -> dict[str, Any]:
        """The config sent to the W&B server."""
        return {**self.config, "program": self.program, "command": self.command(overrides)}
