"""Composing a train config outside a Hydra app, checks that fail before anything is written
or trained, and a config as dotted keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

from genlab.config_types import show_value
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


def flatten_config(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"prefix.a.b": value}`` of a nested config dict; lists and empty dicts are values."""
    if not isinstance(node, dict) or (not node and prefix):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(flatten_config(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


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
    check_model_values(cfg.model)
    check_strategy_fits_model(trainer.get("strategy"), cfg.model._target_)


def _integer_of_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _adam_betas(value: Any) -> bool:
    return (
        isinstance(value, ListConfig | list)
        and len(value) == 2
        and all(_is_number(b) and 0 <= b < 1 for b in value)
    )


# What a value must be wherever its key appears in the model config: the model, its networks
# (and their trunks), its optimizers. The keys are the networks' and optimizers' own argument
# names, so a network of the user's own that takes a `width` is checked too.
# key -> (test, what the value must be)
MODEL_VALUE_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "latent_dim": (_integer_of_at_least(1), "an integer of at least 1"),
    "width": (_integer_of_at_least(1), "an integer of at least 1"),
    "hidden": (_integer_of_at_least(1), "an integer of at least 1"),
    "depth": (_integer_of_at_least(0), "an integer of at least 0"),
    "lr": (lambda v: _is_number(v) and v > 0, "a positive learning rate"),
    "betas": (_adam_betas, "two numbers in [0, 1) ([beta1, beta2], e.g. [0.5,0.999])"),
}


def check_model_values(model: DictConfig) -> None:
    """Every value of ``model`` under a key of MODEL_VALUE_RULES, before anything is built: a
    width of 0 or one beta would otherwise fail inside torch, mid-training or with a
    traceback."""
    for path, key, value in _values_by_key(model, "model"):
        test, expected = MODEL_VALUE_RULES[key]
        if not test(value):
            raise ConfigError(f"{path} must be {expected}, got {show_value(value)}")


def _values_by_key(node: Any, prefix: str) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of each key of MODEL_VALUE_RULES below ``node``. An interpolation
    (``latent_dim: ${model.latent_dim}``) is checked where its value is set."""
    if isinstance(node, DictConfig):
        for name in node:
            child_path = f"{prefix}.{name}"
            if OmegaConf.is_interpolation(node, str(name)):
                continue
            if name in MODEL_VALUE_RULES:
                yield child_path, str(name), node[name]
            else:
                yield from _values_by_key(node[name], child_path)
    elif isinstance(node, ListConfig):
        for index, item in enumerate(node):
            yield from _values_by_key(item, f"{prefix}[{index}]")
