"""Variants: runs whose configs differ only by seed, run name, group, tags and locations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genlab.compare.runs import Run
from genlab.naming import setting_labels

# Top-level keys that do not change what is trained. ``ckpt_path`` is compared by whether it
# is set (a run started from a checkpoint is another variant than one trained from scratch),
# not by its value (each seed may start from its own checkpoint).
_IGNORED_ROOTS = {"seed", "run_name", "group", "tags", "paths", "resume"}
# Keys that only say where things are (data, run dirs, caches).
_IGNORED_LEAVES = {"dirpath", "save_dir", "cache_dir", "root", "mirrors"}


def variant_key(config: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (key, repr(_compared_value(key, value)))
            for key, value in config.items()
            if key.split(".")[0] not in _IGNORED_ROOTS and key.split(".")[-1] not in _IGNORED_LEAVES
        )
    )


def _compared_value(key: str, value: Any) -> Any:
    if key == "ckpt_path":
        return "a checkpoint" if value else None
    return value


@dataclass
class Variant:
    label: str
    runs: list[Run]

    @property
    def seeds(self) -> list[Any]:
        return [run.seed for run in self.runs]


# Settings shown in a label at most; the rest are counted.
_MAX_LABEL_SETTINGS = 4


def group_variants(runs: list[Run]) -> list[Variant]:
    """Variants in order of first appearance, labelled by the settings that tell them apart:
    the command-line overrides that differ (``experiment=...``, ``model.ema_decay=...``) when
    those tell every variant apart, else the differing keys of the resolved configs; keys and
    values shortened to what differs (``loss=hinge, lr=0.0002``, :func:`setting_labels`)."""
    groups: dict[tuple[tuple[str, str], ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(variant_key(run.config), []).append(run)
    labels = _override_labels(list(groups.values())) or _config_labels(groups)
    return [
        Variant(label or "all runs", members)
        for label, members in zip(labels, groups.values(), strict=True)
    ]


def _override_labels(groups: list[list[Run]]) -> list[str] | None:
    chosen = [[o for o in members[0].overrides if _sets_what_is_trained(o)] for members in groups]
    if len({frozenset(c) for c in chosen}) < len(groups):
        return None
    common = set.intersection(*(set(c) for c in chosen))
    differing = [[_setting(o) for o in c if o not in common] for c in chosen]
    return [_join(labels) for labels in setting_labels(differing)]


def _setting(override: str) -> tuple[str, str] | str:
    """``key=value`` as its key and value; a deletion without a value (``~key``) as itself."""
    key, has_value, value = override.partition("=")
    return (key, value) if has_value else override


def _config_labels(groups: dict[tuple[tuple[str, str], ...], list[Run]]) -> list[str]:
    items = [set(key) for key in groups]
    common = set.intersection(*items) if items else set()
    differing = sorted({name for item in items for name, _ in item - common})
    settings = [
        [(name, members[0].config.get(name, "(unset)")) for name in differing]
        for members in groups.values()
    ]
    return [_join(labels) for labels in setting_labels(settings)]


def _sets_what_is_trained(override: str) -> bool:
    key = override.lstrip("+~").split("=", 1)[0]
    return (
        key.split(".")[0] not in _IGNORED_ROOTS | {"hydra"}
        and key.split(".")[-1] not in _IGNORED_LEAVES
    )


def _join(settings: list[str]) -> str:
    shown = ", ".join(settings[:_MAX_LABEL_SETTINGS])
    hidden = len(settings) - _MAX_LABEL_SETTINGS
    return shown + (f" (+{hidden} more settings)" if hidden > 0 else "")
