"""The comparison at equal tuning budget: DIR/comparison.md and comparison.html with the
table of expected best scores and the verdicts, expected_best.csv, budget_verdicts.csv and
expected_best.png."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from genlab.compare.budget_figure import expected_best_figure
from genlab.compare.html import write_html
from genlab.compare.tuning_budget import (
    TrialSet,
    budget_warnings,
    markdown_lines,
    summary_rows,
    verdicts,
)
from genlab.errors import ConfigError
from genlab.figures import save

log = logging.getLogger("genlab.compare")
FIGURE = "expected_best.png"


def compare_budgets(
    trial_sets: list[TrialSet], metric: str, out: Path, eval_std: float = math.nan
) -> str:
    """Writes the report of ``trial_sets`` into ``out``; returns comparison.md's text."""
    if not trial_sets:
        raise ConfigError("no trials to compare")
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(summary_rows(trial_sets, metric)).to_csv(out / "expected_best.csv", index=False)
    found = verdicts(trial_sets, metric, eval_std)
    pd.DataFrame([vars(v) for v in found]).to_csv(out / "budget_verdicts.csv", index=False)
    warnings = budget_warnings(trial_sets)
    for warning in warnings:
        log.warning("%s", warning.replace("`", ""))
    names = ", ".join(t.label for t in trial_sets)
    fig = expected_best_figure(trial_sets, metric, names)
    if fig is None:
        (out / FIGURE).unlink(missing_ok=True)
    else:
        save(fig, out / FIGURE, pdf=True)
    lines = [
        "# Comparison at equal tuning budget",
        *markdown_lines(trial_sets, metric, found, warnings, eval_std),
    ]
    if fig is not None:
        lines += ["", "## Figures", "", f"![{FIGURE}]({FIGURE})"]
    report = "\n".join(lines) + "\n"
    (out / "comparison.md").write_text(report)
    write_html(report, out, out / "comparison.html")
    for v in found:
        log.info("%s: %s vs %s: %s", v.budget, v.a, v.b, v.verdict)
    return report
