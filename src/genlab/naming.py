"""Short, filesystem-safe names of what tells runs apart: ``007_loss-HingeLoss_lr-0.0002``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MAX_FOLDER_NAME = 120
_DOTTED_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+")


def short_key(key: str) -> str:
    """``model.optimizer_g.lr`` -> ``lr``; ``model.loss._target_`` -> ``loss``;
    ``model/loss`` (a config group) -> ``loss``."""
    parts = re.split(r"[./@]", key.lstrip("+~"))
    return next((p for p in reversed(parts) if p and not p.startswith("_")), key)


def short_value(value: Any) -> Any:
    """A value as a person reads it in a table: a class path by its class name, a float with
    4 significant digits."""
    if isinstance(value, str) and _DOTTED_PATH.fullmatch(value):
        return value.rsplit(".", 1)[-1]
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def folder_name(prefix: str, values: Iterable[tuple[str, Any]], fallback: str) -> str:
    """``<prefix>_<key>-<value>_...`` of the short keys and values, or ``<prefix>_<fallback>``
    without values; no ``=`` or other character a shell or Hydra reads, at most 120 chars."""
    parts = [f"{short_key(key)}-{short_value(value)}" for key, value in values]
    name = "_".join([prefix, *parts]) if parts else f"{prefix}_{fallback}"
    return re.sub(r"[^\w.+-]", "-", name)[:MAX_FOLDER_NAME]
