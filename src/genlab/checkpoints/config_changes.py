"""Config values that differ from those of the checkpoint a run continues from (``resume=true``
or ``ckpt_path=FILE``) where the checkpoint's restored state would override them: genlab applies
those it can when training starts and says so in the log, and refuses the others before
anything is written. A run dir never records a value its training did not use.

A restore puts back the model's weights and buffers, the optimizers (their state and param
groups), the loops' position, the callbacks' state and the random-number states. Hence:

- an optimizer's ``lr``, ``betas``, ``eps``, ``weight_decay``, ``alpha`` and ``lr_decay`` are
  set on the restored param groups (:class:`ApplyOptimizerSettings`); each takes effect at the
  next step whatever state the optimizer has;
- the optimizer's class (``_target_``) and its other settings (``amsgrad``, ``momentum``,
  ``centered``, ...) cannot change: the restored state was built for the old ones;
- ``seed`` cannot change: the random-number states are restored, so the latents continue the
  checkpoint's streams (promise 14 of docs/reliability.md);
- ``model.fixed_noise_seed`` cannot change: the progress grids' latents are a restored buffer;
- the networks' shapes cannot change (:func:`genlab.checkpoints.check_weights_fit`).

Every other value (losses, ``n_disc``, data, budgets, callbacks, metrics) is read from the
config when the run is built, and so applies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from genlab.checkpoints.format import checkpoint_config, read_checkpoint
from genlab.config import flatten_config
from genlab.errors import CheckpointError

log = logging.getLogger(__name__)

# Param-group settings that a restored optimizer takes at its next step.
APPLICABLE_SETTINGS = ("lr", "betas", "eps", "weight_decay", "alpha", "lr_decay")

# Values whose effect is restored state, and what restores it.
_RESTORED_VALUES = {
    "seed": "the checkpoint's random-number states are restored",
    "model.fixed_noise_seed": "the checkpoint's grid latents are restored",
}

_ABSENT = "absent"


class NamesOptimizerConfigs(Protocol):
    """A model that names the config key of each of its optimizers, in
    ``configure_optimizers``' order (:class:`genlab.models.base.GenerativeModule` does)."""

    optimizer_config_keys: tuple[str, ...]


@dataclass(frozen=True)
class OptimizerSetting:
    """A changed setting of the optimizer at ``index`` (``configure_optimizers``' order)."""

    key: str  # the config key, e.g. model.optimizer_g.lr
    index: int
    name: str  # the param group's key, e.g. lr
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.key} {self.old} -> {self.new}"


def optimizer_settings_to_apply(
    path: Path, model: NamesOptimizerConfigs, run_config: DictConfig
) -> list[OptimizerSetting]:
    """The optimizer settings this run changes from those ``path`` was trained with, to apply
    when training starts. Raises :class:`CheckpointError` naming every changed value that the
    checkpoint's state would override."""
    checkpoint = read_checkpoint(path)
    resolved = OmegaConf.to_container(run_config, resolve=True)
    saved, current = flatten_config(checkpoint_config(checkpoint)), flatten_config(resolved)
    refused = [
        f"{key} {saved[key]} -> {current.get(key, _ABSENT)} ({reason})"
        for key, reason in _RESTORED_VALUES.items()
        if key in saved and saved[key] != current.get(key, _ABSENT)
    ]
    states = checkpoint.get("optimizer_states") or []
    settings: list[OptimizerSetting] = []
    for index, name in enumerate(model.optimizer_config_keys):
        group = states[index]["param_groups"][0] if index < len(states) else {}
        changes, not_applicable = _optimizer_changes(f"model.{name}.", saved, current, group)
        settings += [OptimizerSetting(key, index, *change) for key, change in changes.items()]
        refused += not_applicable
    if refused:
        raise CheckpointError(
            f"a run continued from {path} cannot take these changed values: "
            f"{'; '.join(refused)}; pass the checkpoint's values, or start a new run without "
            "resume/ckpt_path"
        )
    return settings


def _optimizer_changes(
    prefix: str, saved: dict[str, Any], current: dict[str, Any], group: dict[str, Any]
) -> tuple[dict[str, tuple[str, Any, Any]], list[str]]:
    """The changed settings under ``prefix`` that apply to the restored param ``group``, as
    ``{key: (name, old, new)}``, and the others described for the refusal. A setting the
    checkpoint's config left out had the value its param group holds."""
    target = f"{prefix}_target_"
    if saved.get(target) != current.get(target):  # another class: no restored state fits it
        return {}, [
            f"{target} {saved.get(target)} -> {current.get(target)} (the checkpoint's "
            "optimizer state is restored)"
        ]
    applicable: dict[str, tuple[str, Any, Any]] = {}
    refused: list[str] = []
    for key in sorted(k for k in saved.keys() | current.keys() if k.startswith(prefix)):
        name = key.removeprefix(prefix)
        old, new = saved.get(key, group.get(name, _ABSENT)), current.get(key, _ABSENT)
        if _as_lists(old) == _as_lists(new):
            continue
        if new is _ABSENT:
            refused.append(f"{key} {old} -> {new} (removed; pass it with its value)")
        elif name in APPLICABLE_SETTINGS and name in group:
            applicable[key] = (name, old, new)
        else:
            refused.append(
                f"{key} {old} -> {new} (only {', '.join(APPLICABLE_SETTINGS)} apply to a "
                "restored optimizer)"
            )
    return applicable, refused


def _as_lists(value: Any) -> Any:
    """A config holds lists where torch's param groups hold tuples (``betas``)."""
    return list(value) if isinstance(value, tuple) else value


class ApplyOptimizerSettings(pl.Callback):
    """Sets changed settings on the optimizers that Lightning restored from the checkpoint.
    ``on_train_start`` comes after the restore and before the first step; one log line per
    setting says it was applied."""

    def __init__(self, settings: list[OptimizerSetting], source: str) -> None:
        self.settings = settings
        self.source = source  # how the run continues: "resume" or "ckpt_path"

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for setting in self.settings:
            for group in trainer.optimizers[setting.index].param_groups:
                # torch keeps betas as a tuple; the config holds a list.
                kind = type(group[setting.name])
                group[setting.name] = kind(setting.new) if kind in (tuple, list) else setting.new
            if trainer.is_global_zero:
                log.info("%s: %s (applied)", self.source, setting)
        self.settings = []
