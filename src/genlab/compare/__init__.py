"""Comparisons across runs: variants over seeds, statistics, verdicts, plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genlab.compare.report import compare

__all__ = ["compare"]


def __getattr__(name: str) -> Any:
    # Reading a run dir (genlab.compare.runs) needs neither pandas nor matplotlib: the report
    # module, which needs both, loads on first use of `genlab.compare.compare`.
    if name == "compare":
        from genlab.compare.report import compare

        return compare
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
