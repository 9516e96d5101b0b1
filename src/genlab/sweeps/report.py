"""The sweep report: Optuna's matplotlib plots of a study as PNGs beside trials.md.

- ``history.png``: the metric of every finished trial in order, and the best so far;
- ``importances.png``: each searched parameter's importance for the metric (PED-ANOVA,
  Optuna's evaluator that needs no scikit-learn), from 2 finished trials on;
- ``parallel_coordinate.png``: every finished trial as a line through its parameter values
  and its metric;
- ``slice.png``: the metric against each searched parameter;
- ``intermediate.png``: each trial's evaluations while it trained (pruned trials end early).

A plot that the study cannot draw yet (no finished trial, nothing searched) is left out.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.table import swept_parameters

log = logging.getLogger("genlab.sweep")
REPORT_PNGS = (
    "history.png",
    "importances.png",
    "parallel_coordinate.png",
    "slice.png",
    "intermediate.png",
)


def write_report(study: optuna.Study, definition: SweepDefinition, sweep_dir: Path) -> list[Path]:
    """Writes the plots the study can draw; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only, also without a display
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    # A searched value that reads as a number is still drawn as a category; matplotlib says so
    # at INFO for every such axis.
    logging.getLogger("matplotlib.category").setLevel(logging.WARNING)
    metric = definition.metric_name
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    searched = [
        name for name in swept_parameters(definition) if any(name in t.params for t in finished)
    ]
    reported = any(t.intermediate_values for t in study.get_trials(deepcopy=False))
    drawers: dict[str, Callable[[], Any]] = {}
    if finished:
        drawers["history.png"] = lambda: plots.plot_optimization_history(study, target_name=metric)
    if searched and finished:
        drawers["parallel_coordinate.png"] = lambda: plots.plot_parallel_coordinate(
            study, params=searched, target_name=metric
        )
        drawers["slice.png"] = lambda: plots.plot_slice(study, params=searched, target_name=metric)
    if searched and len(finished) >= 2:
        drawers["importances.png"] = lambda: plots.plot_param_importances(
            study,
            evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
            params=searched,
            target_name=metric,
        )
    if reported:
        drawers["intermediate.png"] = lambda: plots.plot_intermediate_values(study)
    written = []
    for name, draw in drawers.items():
        with warnings.catch_warnings():  # Optuna's matplotlib plots are marked experimental
            warnings.simplefilter("ignore")
            drawn = draw()
        figure = _figure(drawn)
        figure.suptitle(f"sweep {definition.name}", fontsize=9)
        figure.savefig(sweep_dir / name, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(sweep_dir / name)
    for stale in set(REPORT_PNGS) - set(drawers):
        (sweep_dir / stale).unlink(missing_ok=True)
    return written


def _figure(drawn: Any) -> Any:
    """The figure of what a plot function returned (one Axes, or an array of them)."""
    first = drawn.flat[0] if hasattr(drawn, "flat") else drawn
    return first.get_figure()
