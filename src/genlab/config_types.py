"""Typed values: a value given on the command line has the type of the default it replaces.

genlab does not declare a schema for every group (networks, optimizers and callbacks are
Hydra ``_target_`` nodes whose keys are constructor arguments); the composed defaults are the
schema. ``data.batch_size=abc`` is refused here, naming the key and the expected type, instead
of failing later inside a constructor with Python's ``TypeError`` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra import compose
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, ListConfig, OmegaConf

from genlab.errors import ConfigError


def check_override_types(cfg: DictConfig, overrides: Sequence[str], config_name: str) -> None:
    """Inside a Hydra app: composes the defaults of the chosen config groups and checks each
    ``key.path=value`` override against the default it replaces."""
    if not GlobalHydra.instance().is_initialized():
        return  # composed outside an app (tests, notebooks): nothing to compare with
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    groups = HydraConfig.get().runtime.choices
    values = [
        o
        for o in parsed
        if not o.is_add()
        and not o.is_delete()
        and not o.key_or_group.startswith("hydra.")
        and (o.package is None and "/" not in o.key_or_group and o.key_or_group not in groups)
    ]
    if not values:
        return
    choices = [o.input_line for o in parsed if o not in values and not o.is_delete()]
    # A user's own config folders (hydra.searchpath) hold options the defaults may name.
    choices += [o for o in HydraConfig.get().overrides.hydra if o.startswith("hydra.searchpath")]
    defaults = compose(config_name=config_name, overrides=choices)
    for override in values:
        key = override.key_or_group
        check_value_type(key, _select(defaults, key), _select(cfg, key))


def check_value_type(key: str, default: Any, value: Any) -> None:
    """Raises ConfigError when ``value`` cannot stand where ``default`` stood."""
    if default is None or value is None or isinstance(default, str):
        return  # no default to compare with; or a string, which a number may replace
    expected = _expected_kind(default)
    if expected is None or _fits(default, value):
        return
    raise ConfigError(
        f"{key} must be {expected} (its default is {show_value(default)}), got {show_value(value)}"
    )


def _select(cfg: DictConfig, key: str) -> Any:
    if OmegaConf.select(cfg, key, default=None, throw_on_missing=False) is None:
        return None
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    if isinstance(parent, DictConfig) and OmegaConf.is_interpolation(parent, leaf):
        return None  # an interpolation's type is its target's
    return OmegaConf.select(cfg, key)


def _expected_kind(default: Any) -> str | None:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int | float):
        return "a number"
    if isinstance(default, ListConfig | list):
        return "a list, e.g. [0.5,0.999]"
    if isinstance(default, DictConfig | dict):
        return "a mapping"
    return None


def _fits(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        # Integers and fractions both: Lightning's limits and data.val_size take either.
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, ListConfig | list):
        return isinstance(value, ListConfig | list)
    return isinstance(value, DictConfig | dict)


def show_value(value: Any) -> str:
    if isinstance(value, DictConfig | ListConfig):
        return str(OmegaConf.to_container(value))
    return repr(value)
