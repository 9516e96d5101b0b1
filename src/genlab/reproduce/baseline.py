"""A baseline (conf/baseline/NAME.yaml): a paper's models as experiments, its numbers, budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from genlab.errors import ConfigError

PaperValue = float | tuple[float, float] | None


@dataclass(frozen=True)
class BaselineVariant:
    name: str
    label: str
    experiment: str
    paper: PaperValue  # the paper's number, a [low, high] range, or None when it has none

    @property
    def paper_point(self) -> float | None:
        """The number ranked against genlab's: the value, or a range's midpoint."""
        if self.paper is None or isinstance(self.paper, float):
            return self.paper
        return sum(self.paper) / 2


@dataclass(frozen=True)
class Budget:
    name: str
    description: str
    overrides: tuple[str, ...]
    variant_overrides: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Baseline:
    name: str
    title: str
    source: str
    paper_metric: str
    paper_extractor: str
    paper_protocol: str
    variants: tuple[BaselineVariant, ...]
    budgets: dict[str, Budget]

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> Baseline:
        name = config.get("name") or "(unnamed)"
        where = f"baseline {name} (conf/baseline/{name}.yaml)"
        try:
            variants = tuple(
                BaselineVariant(key, str(v["label"]), str(v["experiment"]), _paper(v.get("paper")))
                for key, v in config["variants"].items()
            )
            budgets = {
                key: Budget(
                    key,
                    str(b.get("description", "")),
                    tuple(map(str, b.get("overrides") or ())),
                    {k: tuple(map(str, o)) for k, o in (b.get("variant_overrides") or {}).items()},
                )
                for key, b in config["budgets"].items()
            }
            baseline = cls(
                name=str(config["name"]),
                title=str(config["title"]),
                source=str(config["source"]),
                paper_metric=str(config["paper_metric"]),
                paper_extractor=str(config["paper_extractor"]),
                paper_protocol=str(config["paper_protocol"]),
                variants=variants,
                budgets=budgets,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} is incomplete or malformed: {exc!r}") from None
        for budget in budgets.values():
            unknown = set(budget.variant_overrides) - {v.name for v in variants}
            if unknown:
                raise ConfigError(
                    f"{where}: budget {budget.name} has overrides for unknown variants "
                    f"{sorted(unknown)}"
                )
        return baseline

    def budget(self, name: str) -> Budget:
        if name not in self.budgets:
            raise ConfigError(
                f"baseline {self.name} has no budget {name!r}; choose one of "
                f"{', '.join(self.budgets)}"
            )
        return self.budgets[name]

    def select(self, names: Sequence[str] | None) -> tuple[BaselineVariant, ...]:
        """The variants named (in the baseline's order), or all of them for None."""
        if names is None:
            return self.variants
        known = {v.name for v in self.variants}
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise ConfigError(
                f"baseline {self.name} has no variants {unknown or '[]'}; choose among "
                f"{', '.join(sorted(known))}"
            )
        return tuple(v for v in self.variants if v.name in names)


def _paper(value: Any) -> PaperValue:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    low, high = (float(v) for v in value)
    return (low, high)
