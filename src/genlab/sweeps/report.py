"""The sweep report: genlab's figures of a study, as PNGs beside trials.md.

- ``history.png``: the metric of every finished trial by trial number, and the best so far;
- ``slice.png``: the metric against each searched parameter, one panel each;
- ``intermediate.png``: each trial's evaluations while it trained, by evaluation (pruned trials
  end early, marked where they stopped);
- ``expected_best.png``: the expected best metric of k trials drawn from the study's ended
  trials, against k and against their training time (:mod:`genlab.compare.expected_best`;
  pruned, failed and degenerate trials are spent, never the best), for one of genlab's scores;
- ``importances.png``: each searched parameter's importance for the metric (PED-ANOVA,
  Optuna's evaluator that needs no scikit-learn), with two or more searched parameters (one
  has nothing to be weighed against) and finished trials of two or more values.

Degenerate trials (trials.md's ⚠) are drawn hollow and are never the best. Parameters and
values are shown by their short names (``loss``, ``hinge``: :mod:`genlab.naming`). The study is
read through Optuna's public API (trials, their parameters, values and intermediate values,
``optuna.importance``). A figure the study cannot draw yet (no finished trial, nothing
searched, no evaluation while training) is left out, and an older one of that name removed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import optuna
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from optuna.trial import FrozenTrial, TrialState

from genlab.compare.budget_figure import expected_best_figure
from genlab.compare.stats import METRICS
from genlab.compare.tuning_budget import TrialSet
from genlab.figures import (
    FONT_SIZE,
    WIDTH,
    fit_width,
    integer_ticks,
    keep_tick_labels_apart,
    log_x_axis,
    save,
)
from genlab.metrics.keys import BY_NAME
from genlab.naming import common_prefix, label_value, short_keys
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.search_space import distribution_of
from genlab.sweeps.table import best_row, swept_parameters, trial_rows

REPORT_PNGS = (
    "history.png", "slice.png", "intermediate.png", "expected_best.png", "importances.png",
)  # fmt: skip
# Figures earlier versions of the report drew: removed, so that none is left beside new ones.
FORMER_PNGS = ("parallel_coordinate.png",)
_LOG_SCALED = {"log_uniform", "log_uniform_values"}
_PANEL_WIDTH = 2.6  # inches per slice panel
_COLUMNS = 3  # slice panels per row


def write_report(study: optuna.Study, definition: SweepDefinition, sweep_dir: Path) -> list[Path]:
    """Writes the figures the study can draw; returns their paths."""
    view = StudyView.of(study, definition)
    drawers: dict[str, Callable[[StudyView], Figure | None]] = {
        "history.png": history_figure,
        "slice.png": slice_figure,
        "intermediate.png": intermediate_figure,
        "expected_best.png": expected_best_of_study,
        "importances.png": importances_figure,
    }
    written = []
    for name, draw in drawers.items():
        fig = draw(view)
        if fig is None:
            (sweep_dir / name).unlink(missing_ok=True)
            continue
        save(fig, sweep_dir / name)
        written.append(sweep_dir / name)
    for former in FORMER_PNGS:
        (sweep_dir / former).unlink(missing_ok=True)
    return written


@dataclass(frozen=True)
class StudyView:
    """What the figures show of a study: its finished trials, the searched parameters with
    their short names, the degenerate trials and the best one, as trials.md has them."""

    study: optuna.Study
    definition: SweepDefinition
    finished: list[FrozenTrial]
    searched: list[str]
    names: dict[str, str]
    degenerate: set[int]
    best: int | None

    @classmethod
    def of(cls, study: optuna.Study, definition: SweepDefinition) -> StudyView:
        finished = [
            trial
            for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if trial.value is not None and math.isfinite(trial.value)
        ]
        searched = [
            name for name in swept_parameters(definition) if any(name in t.params for t in finished)
        ]
        rows = trial_rows(study, definition)
        best = best_row(definition, rows)
        return cls(
            study=study,
            definition=definition,
            finished=finished,
            searched=searched,
            names=short_keys(searched),
            degenerate={row["trial"] for row in rows if row.get("degenerate")},
            best=None if best is None else best["trial"],
        )

    @property
    def metric(self) -> str:
        """The metric as tables title it (``FID``), else its summary key."""
        key = BY_NAME.get(self.definition.summary_key)
        return key.label if key else self.definition.summary_key

    @property
    def better(self) -> str:
        return "lower" if self.definition.minimize else "higher"

    def title(self, what: str) -> str:
        return f"sweep {self.definition.name}: {what}"


def history_figure(view: StudyView) -> Figure | None:
    """The metric of each finished trial against its number, and the best so far (degenerate
    trials are never best)."""
    if not view.finished:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    numbers = [trial.number for trial in view.finished]
    values = [float(trial.value) for trial in view.finished]
    _scatter_trials(ax, numbers, values, numbers, view)
    pick = min if view.definition.minimize else max
    best_so_far, best = [], math.nan
    for number, value in zip(numbers, values, strict=True):
        if number not in view.degenerate:
            best = value if math.isnan(best) else pick(best, value)
        best_so_far.append(best)
    if not all(math.isnan(b) for b in best_so_far):
        ax.step(numbers, best_so_far, where="post", color="C1", lw=1.5, label="best so far")
    integer_ticks(ax.xaxis)
    ax.set(xlabel="trial", ylabel=view.metric)
    _title(fig, ax, view.title(f"{view.metric} of each finished trial ({view.better} is better)"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT_SIZE, loc="best")
    fig.tight_layout()
    return fig


def slice_figure(view: StudyView) -> Figure | None:
    """One panel per searched parameter: the metric of each finished trial against its value;
    categories at even spaces in the definition's order (numbers in their own order), a log
    axis where the definition draws the parameter on a log scale."""
    if not view.finished or not view.searched:
        return None
    columns = min(_COLUMNS, len(view.searched))
    rows = -(-len(view.searched) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(min(WIDTH, max(4.5, 1.0 + _PANEL_WIDTH * columns)), 0.5 + 2.6 * rows),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for index, ax in enumerate(axes.flat):
        if index >= len(view.searched):
            ax.set_visible(False)
            continue
        _slice_panel(ax, view, view.searched[index])
        if index % columns == 0:
            ax.set_ylabel(view.metric)
    fit_width(
        fig,
        fig.suptitle(
            view.title(f"{view.metric} against each searched parameter ({view.better} is better)"),
            fontsize="large",
        ),
    )
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=FONT_SIZE)
    for ax in axes.flat[: len(view.searched)]:
        keep_tick_labels_apart(fig, ax)
    return fig


def _slice_panel(ax: Axes, view: StudyView, name: str) -> None:
    trials = [t for t in view.finished if name in t.params]
    values = [float(t.value) for t in trials]
    spec = view.definition.parameters[name]
    kind = distribution_of(name, spec)
    label = view.names[name]
    if kind == "categorical":
        categories = _categories([*spec["values"], *(t.params[name] for t in trials)])
        positions = {_category_key(c): i for i, c in enumerate(categories)}
        jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(trials))
        xs = [
            positions[_category_key(t.params[name])] + offset
            for t, offset in zip(trials, jitter, strict=True)
        ]
        prefix = _category_ticks(ax, name, categories)
        label += f" ({prefix}…)" if prefix else ""
    else:
        xs = [float(t.params[name]) for t in trials]
    _scatter_trials(ax, xs, values, [t.number for t in trials], view)
    if kind in _LOG_SCALED:
        log_x_axis(ax)
    elif kind == "int_uniform":
        integer_ticks(ax.xaxis)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.set_xlabel(label)
    ax.tick_params(axis="y", labelsize=FONT_SIZE)
    ax.grid(alpha=0.3)


def _category_ticks(ax: Axes, name: str, categories: list[Any]) -> str:
    """A tick per category, labelled by its short value without the start that all share
    (``lucic2018/fashion_mnist_``); returns that start (``""`` if none)."""
    labels = [label_value(name, c) for c in categories]
    prefix = common_prefix(labels) if all(isinstance(c, str) for c in categories) else ""
    ax.set_xticks(range(len(categories)), [x.removeprefix(prefix) for x in labels])
    ax.set_xlim(-0.5, len(categories) - 0.5)
    return prefix


def _categories(values: list[Any]) -> list[Any]:
    """A categorical parameter's values once each: numbers in their order, others in the
    order given (the definition's, then any a trial of an earlier definition drew)."""
    first: dict[str, Any] = {}
    for value in values:
        first.setdefault(_category_key(value), value)
    unique = list(first.values())
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in unique)
    return sorted(unique) if numbers else unique


def _category_key(value: Any) -> str:
    """The same key for a value as defined and as the study returns it (``1`` and ``1.0`` are
    one category, ``True`` and ``1`` two)."""
    return f"{type(value) is bool}:{float(value) if isinstance(value, int | float) else value}"


def intermediate_figure(view: StudyView) -> Figure | None:
    """Each trial's evaluations while it trained against the evaluation's number (the count
    early termination uses); pruned trials end with a cross where they were stopped."""
    trials = [t for t in view.study.get_trials(deepcopy=False) if t.intermediate_values]
    if not trials:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH, 3.8))
    styles = {
        TrialState.COMPLETE: ("C0", "-", "finished"),
        TrialState.PRUNED: ("C3", "-", "pruned (x: where it was stopped)"),
    }
    other = ("grey", "--", "failed, interrupted or running")
    shown: dict[str, Line2D] = {}
    for trial in trials:
        colour, style, label = styles.get(trial.state, other)
        steps = sorted(trial.intermediate_values)
        values = [trial.intermediate_values[step] for step in steps]
        (line,) = ax.plot(
            steps, values, color=colour, ls=style, lw=1, alpha=0.8, marker="o", ms=2.5
        )
        shown.setdefault(label, line)
        if trial.state == TrialState.PRUNED:
            ax.plot(steps[-1], values[-1], "x", color=colour, ms=8, mew=2)
    integer_ticks(ax.xaxis)
    every = view.definition.parameters.get("metrics.every_n_steps", {}).get("value")
    ax.set(
        xlabel="evaluation" + (f" (every {every} optimizer steps)" if every else ""),
        ylabel=view.metric,
    )
    _title(fig, ax, view.title(f"{view.metric} at each evaluation while training"))
    ax.grid(alpha=0.3)
    ax.legend(shown.values(), shown.keys(), fontsize=FONT_SIZE, loc="best")
    fig.tight_layout()
    return fig


# Trials that ended: what they spent counts (interrupted ones run again).
_ENDED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def expected_best_of_study(view: StudyView) -> Figure | None:
    """The expected best metric of k of the study's ended trials, against k and against
    training time; None for a metric that is none of genlab's scores (a logged loss), or
    without a scored trial."""
    key = view.definition.summary_key
    if key not in METRICS:
        return None
    scored = {t.number: float(t.value) for t in view.finished if t.number not in view.degenerate}
    ended = [
        t
        for t in view.study.get_trials(deepcopy=False, states=_ENDED)
        if t.user_attrs.get("status") != "interrupted"
    ]
    trials = TrialSet(
        view.definition.name,
        [scored.get(t.number) for t in ended],
        [t.user_attrs.get("wall_s") for t in ended],
        "",
    )
    return expected_best_figure([trials], key, f"sweep {view.definition.name}")


def importances_figure(view: StudyView) -> Figure | None:
    """Each searched parameter's importance for the metric (PED-ANOVA, normalised to sum to
    1), with two or more searched parameters and finished trials of two or more values (where
    all tie, PED-ANOVA gives every parameter the same importance and says so)."""
    if len(view.searched) < 2 or len({t.value for t in view.finished}) < 2:
        return None
    importances = optuna.importance.get_param_importances(  # better: the study's direction
        view.study,
        evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
        params=view.searched,
    )
    order = sorted(view.searched, key=lambda name: importances.get(name, 0.0))
    fig, ax = plt.subplots(figsize=(WIDTH, 1.2 + 0.4 * len(order)))
    bars = ax.barh(
        [view.names[name] for name in order],
        [importances.get(name, 0.0) for name in order],
        color="C0",
    )
    ax.bar_label(bars, fmt="%.2f", padding=3, fontsize=FONT_SIZE)
    ax.set_xlim(0, 1.15 * max(max(importances.values(), default=0.0), 0.01))
    ax.set_xlabel(f"importance for {view.metric} (PED-ANOVA; they sum to 1)")
    _title(fig, ax, view.title("importance of each searched parameter"))
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _title(fig: Figure, ax: Axes, title: str) -> None:
    fit_width(fig, ax.set_title(title))


def _scatter_trials(
    ax: Axes, xs: list[float], values: list[float], numbers: list[int], view: StudyView
) -> None:
    """Trials as dots, degenerate ones hollow, the best trial as a star."""
    points = list(zip(xs, values, numbers, strict=True))
    kinds = (
        ("finished trial", lambda n: n not in view.degenerate, {"color": "C0", "s": 22}),
        (
            "degenerate ⚠ (never best)",
            lambda n: n in view.degenerate,
            {"facecolors": "none", "edgecolors": "grey", "s": 22},
        ),
        ("best trial", lambda n: n == view.best, {"marker": "*", "color": "C1", "s": 140}),
    )
    for zorder, (label, chosen, style) in enumerate(kinds, start=3):
        drawn = [(x, v) for x, v, n in points if chosen(n)]
        if drawn:
            ax.scatter(
                [x for x, _ in drawn], [v for _, v in drawn], zorder=zorder, label=label, **style
            )
