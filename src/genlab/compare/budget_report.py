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
    budget_table,
    budget_warnings,
    markdown_lines,
    summary_rows,
    verdict_note,
    verdicts,
)
from genlab.errors import ConfigError
from genlab.figures import save
from genlab.machine import MachineRecord
from genlab.results import write_record

log = logging.getLogger("genlab.compare")
FIGURE = "expected_best.png"


def compare_budgets(
    trial_sets: list[TrialSet],
    metric: str,
    out: Path,
    eval_std: float = math.nan,
    record: str | None = None,
) -> str:
    """Writes the report of ``trial_sets`` into ``out``; returns comparison.md's text.
    ``record``: also write the table of expected best scores and the verdicts as the results
    record of this name (genlab.results)."""
    if not trial_sets:
        raise ConfigError("no trials to compare")
    machine = MachineRecord(precision=None) if record is not None else None
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
    if machine is not None:
        header, rows = budget_table(trial_sets, metric)
        figures = {"variants": len(trial_sets), "trials": sum(t.n for t in trial_sets)}
        write_record(record, machine.block(), header, rows, figures, verdict_note(found))
    write_html(report, out, out / "comparison.html")
    for v in found:
        log.info("%s: %s vs %s: %s", v.budget, v.a, v.b, v.verdict)
    return report
