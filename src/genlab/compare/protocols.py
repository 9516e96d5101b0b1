"""The comparability guard: numbers measured under different metric protocols (extractor,
weights, image counts, split, image size, metric seed, ...) are not one measurement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from genlab.errors import ConfigError
from genlab.metrics.keys import BY_NAME, PROTOCOL_FIELDS

MARK = "†"
ALLOW_FLAG = "allow_mixed_protocols=true"


@dataclass(frozen=True)
class MixedProtocols:
    """Which scores' numbers come from more than one protocol, and the fields that differ."""

    fields: dict[str, tuple[Any, ...]]  # differing field -> its values, in order of appearance
    affected: dict[str, tuple[str, ...]]  # score -> the differing fields it depends on

    def describe(self) -> str:
        return "; ".join(
            f"{field.removeprefix('metric_')} {' vs '.join(map(str, values))}"
            for field, values in self.fields.items()
        )


def protocol_key(summary: dict[str, Any]) -> tuple[Any, ...]:
    """A run's full protocol: what groups runs whose numbers are one measurement."""
    return tuple(summary.get(field) for field in PROTOCOL_FIELDS)


def mixed_protocols(summaries: Sequence[dict[str, Any]], scores: Sequence[str]) -> MixedProtocols:
    """For each score, the protocol fields it depends on that differ among the runs that
    report it (a field a run does not record counts as its own value, "unset")."""
    fields: dict[str, tuple[Any, ...]] = {}
    affected: dict[str, tuple[str, ...]] = {}
    for score in scores:
        reporting = [s for s in summaries if s.get(score) is not None]
        differing = []
        for field in BY_NAME[score].depends_on:
            values = tuple(dict.fromkeys(s.get(field, "unset") for s in reporting))
            if len(values) > 1:
                differing.append(field)
                fields[field] = values
        if differing:
            affected[score] = tuple(differing)
    return MixedProtocols(fields, affected)


def check_protocols(
    summaries: Sequence[dict[str, Any]], scores: Sequence[str], allow_mixed: bool, flag: str
) -> MixedProtocols:
    """Refuses runs measured under different protocols (one line naming the differing
    fields) unless ``allow_mixed``; then returns what the report must mark."""
    mixed = mixed_protocols(summaries, scores)
    if mixed.affected and not allow_mixed:
        raise ConfigError(
            f"the runs were scored under different metric protocols ({mixed.describe()}), so "
            f"their {', '.join(mixed.affected)} are not one measurement: compare each "
            f"protocol's runs separately, or pass {flag} to compare them with those cells "
            f"marked {MARK}"
        )
    return mixed
