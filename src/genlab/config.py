"""Composing a train config outside a Hydra app, and checks that fail before anything is
written or trained."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, open_dict

from genlab.errors import ConfigError
from genlab.paths import config_dir
from genlab.resolvers import register_resolvers


def compose_train_config(overrides: Iterable[str], output_dir: Path) -> DictConfig:
    """The config `genlab-train` would run with these overrides, writing to output_dir
    (for tests, benchmarks and notebooks)."""
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        # A Hydra app's task sees its config without the hydra node (read via HydraConfig).
        del cfg["hydra"]
    return cfg


def check_train_config(cfg: DictConfig) -> None:
    """Raises :class:`ConfigError` with the fix for the first invalid value found."""
    # Lightning's strategies only here: composing a config needs no Lightning.
    from genlab.distributed.strategy import check_strategy_fits_model

    trainer = cfg.trainer
    max_steps = trainer.get("max_steps", -1)
    max_epochs = trainer.get("max_epochs")
    if not isinstance(max_steps, int) or isinstance(max_steps, bool):
        raise ConfigError(f"trainer.max_steps must be an integer, got {max_steps!r}")
    if max_steps == -1:
        if (not isinstance(max_epochs, int) or max_epochs < 1) and not trainer.get("max_time"):
            raise ConfigError(
                "training has no end: set trainer.max_steps=N (optimizer steps), "
                "trainer.max_epochs=N with N >= 1, or trainer.max_time=DD:HH:MM:SS"
            )
    elif max_steps < 1:
        raise ConfigError(
            f"trainer.max_steps must be a positive number of optimizer steps, got {max_steps}; "
            "e.g. trainer.max_steps=2000"
        )
    resume = cfg.get("resume", False)
    if not isinstance(resume, bool):
        raise ConfigError(f"resume must be true or false, got {resume!r}")
    seed = cfg.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}; e.g. seed=0")
    threads = cfg.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ConfigError(f"threads must be a positive integer or null, got {threads!r}")
    num_samples = cfg.metrics.get("num_samples")
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ConfigError(f"metrics.num_samples must be a positive integer, got {num_samples!r}")
    for path, value in _find_keys(cfg.model, "lr", "model"):
        if not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{path} must be a positive learning rate, got {value!r}")
    check_strategy_fits_model(trainer.get("strategy"), cfg.model._target_)


def _find_keys(node: Any, key: str, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, DictConfig):
        for name in node:
            child_path = f"{prefix}.{name}"
            if name == key:
                yield child_path, node[name]
            else:
                yield from _find_keys(node[name], key, child_path)
    elif isinstance(node, ListConfig):
        for index, item in enumerate(node):
            yield from _find_keys(item, key, f"{prefix}[{index}]")
