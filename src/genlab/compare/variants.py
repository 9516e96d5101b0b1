"""Variants: runs whose configs differ only by seed, run name, group, tags and locations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genlab.compare.runs import Run

# Top-level keys that do not change what is trained.
_IGNORED_ROOTS = {"seed", "run_name", "group", "tags", "paths", "ckpt_path"}
# Keys that only say where things are (data, run dirs, caches).
_IGNORED_LEAVES = {"dirpath", "save_dir", "cache_dir", "root", "mirrors"}


def variant_key(config: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (key, repr(value))
            for key, value in config.items()
            if key.split(".")[0] not in _IGNORED_ROOTS and key.split(".")[-1] not in _IGNORED_LEAVES
        )
    )


@dataclass
class Variant:
    label: str
    runs: list[Run]

    @property
    def seeds(self) -> list[Any]:
        return [run.seed for run in self.runs]


def group_variants(runs: list[Run]) -> list[Variant]:
    """Variants in order of first appearance, labelled by the settings that tell them apart."""
    groups: dict[tuple[tuple[str, str], ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(variant_key(run.config), []).append(run)
    items = [set(key) for key in groups]
    common = set.intersection(*items) if items else set()
    differing = sorted({name for item in items for name, _ in item - common})
    variants = []
    for members in groups.values():
        config = members[0].config
        label = ", ".join(f"{name}={config.get(name, '(unset)')}" for name in differing)
        variants.append(Variant(label or "all runs", members))
    return variants
