"""The check's training runs: composed as genlab-train composes them, trained by genlab's own
training entry point (the one place this package imports it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.errors import HydraException
from omegaconf import DictConfig

from genlab.config import compose_train_config
from genlab.errors import ConfigError
from genlab.gpu_check.budget import Budget
from genlab.training import train

if TYPE_CHECKING:
    import pytorch_lightning as pl


def compose(overrides: Iterable[str], run_dir: Path, budget: Budget) -> DictConfig:
    """The train config of ``overrides`` at the budget's network width and batch size; a
    Hydra error (a user's override that does not parse or compose) becomes one line."""
    overrides = list(overrides)
    if budget.batch_size is not None:
        overrides.insert(0, f"data.batch_size={budget.batch_size}")
    try:
        cfg = compose_train_config(overrides, run_dir)
    except HydraException as exc:
        raise ConfigError(f"the overrides {' '.join(overrides)} do not compose: {exc}") from exc
    if budget.network_width is not None:
        _set_widths(cfg.model, budget.network_width)
    return cfg


def train_run(cfg: DictConfig, callbacks: Sequence[pl.Callback] = ()) -> dict[str, Any]:
    """genlab-train's run of ``cfg`` (its run dir complete, ``.hydra/`` included)."""
    return train(cfg, extra_callbacks=callbacks, record_config=True)


def _set_widths(node: DictConfig, width: int) -> None:
    """Every network's ``width`` in the model config, whatever the family calls its networks."""
    for key, value in node.items_ex(resolve=False):
        if key == "width":
            node[key] = width
        elif isinstance(value, DictConfig):
            _set_widths(value, width)
