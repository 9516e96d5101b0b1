"""Short names of what tells runs apart: ``loss=hinge, lr=0.0002`` in labels and figures,
``007_loss-HingeLoss_lr-0.0002`` as a filesystem-safe folder name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

MAX_FOLDER_NAME = 120
_DOTTED_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+")
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def short_key(key: str) -> str:
    """``model.optimizer_g.lr`` -> ``lr``; ``model.loss._target_`` -> ``loss``;
    ``model/loss`` (a config group) -> ``loss``."""
    return _key_parts(key)[-1]


def short_keys(keys: Iterable[str]) -> dict[str, str]:
    """Each key by the shortest tail of its :func:`short_key` parts that no other key shares:
    ``model.optimizer_g.lr`` beside ``model.optimizer_d.lr`` -> ``optimizer_g.lr``; keys whose
    parts are the same (``model.loss._target_`` and ``model/loss``) keep their full names."""
    keys = list(dict.fromkeys(keys))
    parts = {key: _key_parts(key) for key in keys}
    shortened = {}
    for key in keys:
        others = [parts[other] for other in keys if other != key]
        for length in range(1, len(parts[key]) + 1):
            tail = parts[key][-length:]
            if all(other[-length:] != tail for other in others):
                shortened[key] = ".".join(tail)
                break
        else:
            shortened[key] = key
    return shortened


def _key_parts(key: str) -> list[str]:
    parts = [p for p in re.split(r"[./@]", key.lstrip("+~")) if p and not p.startswith("_")]
    return parts or [key]


def short_value(value: Any) -> Any:
    """A value as a person reads it in a table: a class path by its class name, a float with
    4 significant digits."""
    if isinstance(value, str) and _DOTTED_PATH.fullmatch(value):
        return value.rsplit(".", 1)[-1]
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def label_value(key: str, value: Any) -> str:
    """A value as a label shows it: :func:`short_value`, and a class whose name ends in the
    key's own name without that ending, in snake case, as its option in ``conf/`` is named
    (``model.loss._target_``: ``genlab.losses.NonSaturatingLoss`` -> ``non_saturating``)."""
    shown = short_value(value)
    if isinstance(value, str) and shown != value:  # a class path
        ending = short_key(key).lower()
        if len(shown) > len(ending) and shown.lower().endswith(ending):
            return _WORD_START.sub("_", shown[: -len(ending)]).lower()
    return str(shown)


def setting_labels(settings: Sequence[Sequence[tuple[str, Any] | str]]) -> list[list[str]]:
    """Each row's ``(key, value)`` settings as ``key=value`` labels, the keys shortened over
    all rows (:func:`short_keys`) and the values by :func:`label_value`; the full ``key=value``
    where the short labels would make two different rows read the same. A setting given as a
    string (a deleted key, ``~key``) stays as it is."""
    names = short_keys(s[0] for row in settings for s in row if not isinstance(s, str))

    def label(setting: tuple[str, Any] | str, short: bool) -> str:
        if isinstance(setting, str):
            return setting
        key, value = setting
        return f"{names[key]}={label_value(key, value)}" if short else f"{key}={value}"

    full = [[label(setting, short=False) for setting in row] for row in settings]
    short = [[label(setting, short=True) for setting in row] for row in settings]
    distinct = len({tuple(row) for row in full})
    return short if len({tuple(row) for row in short}) == distinct else full


def common_prefix(labels: Sequence[str]) -> str:
    """The start that every one of several labels shares, up to a separator (``/_.-=``) and
    leaving each label something of its own: ``lucic2018/fashion_mnist_`` of
    ``lucic2018/fashion_mnist_ns`` and ``lucic2018/fashion_mnist_wgan_gp``; else ``""``."""
    if len(labels) < 2:
        return ""
    shared = labels[0]
    for label in labels[1:]:
        while not label.startswith(shared):
            shared = shared[:-1]
    cut = max((shared.rfind(separator) for separator in "/_.-="), default=-1) + 1
    prefix = shared[:cut]
    return prefix if all(len(label) > len(prefix) for label in labels) else ""


def folder_name(prefix: str, values: Iterable[tuple[str, Any]], fallback: str) -> str:
    """``<prefix>_<key>-<value>_...`` of the short keys and values, or ``<prefix>_<fallback>``
    without values; no ``=`` or other character a shell or Hydra reads, at most 120 chars."""
    parts = [f"{short_key(key)}-{short_value(value)}" for key, value in values]
    name = "_".join([prefix, *parts]) if parts else f"{prefix}_{fallback}"
    return re.sub(r"[^\w.+-]", "-", name)[:MAX_FOLDER_NAME]
