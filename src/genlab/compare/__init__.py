"""Comparisons across runs: variants over seeds, statistics, verdicts, plots."""

from genlab.compare.report import compare

__all__ = ["compare"]
