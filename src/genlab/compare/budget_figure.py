"""expected_best.png: each variant's expected best score against the number of trials and
against the training time they take, with 95% bootstrap bands over its trials."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from genlab.compare.expected_best import bootstrap_band, expected_best_curve
from genlab.compare.stats import METRICS
from genlab.compare.tuning_budget import TrialSet
from genlab.figures import FONT_SIZE, WIDTH, fit_width, integer_ticks, wrap
from genlab.metrics.keys import BY_NAME

# Training time shown in the unit that keeps its numbers short.
_UNITS = ((3600.0, "h"), (60.0, "min"), (1.0, "s"))


def expected_best_figure(trial_sets: list[TrialSet], metric: str, title: str) -> Figure | None:
    """Left: the expected best against k trials; right: against the training time k trials
    take on average (when the trials recorded it). None when no variant has a score."""
    minimize = METRICS[metric] == "lower"
    curves = {t.label: expected_best_curve(t.scores, minimize) for t in trial_sets}
    if all(math.isnan(e.mean) for curve in curves.values() for e in curve):
        return None
    timed = [t for t in trial_sets if math.isfinite(t.mean_wall_s)]
    longest = max((t.mean_wall_s * t.n for t in timed), default=math.nan)
    scale, unit = next(((s, u) for s, u in _UNITS if longest >= 2 * s), (1.0, "s"))
    fig, axes = plt.subplots(1, 2 if timed else 1, figsize=(WIDTH, 3.8), squeeze=False)
    by_trials, by_time = axes[0, 0], axes[0, -1] if timed else None
    label = BY_NAME[metric].label if metric in BY_NAME else metric
    for index, t in enumerate(trial_sets):
        colour = f"C{index % 10}"
        ks = np.arange(1, t.n + 1)
        means = np.array([e.mean for e in curves[t.label]])
        low, high = bootstrap_band(t.scores, minimize, seed=index)
        name = wrap(f"{t.label} ({t.n} trials)", 40)
        by_trials.plot(ks, means, color=colour, lw=1.5, marker="o", ms=2.5, label=name)
        by_trials.fill_between(ks, low, high, color=colour, alpha=0.2, lw=0)
        if by_time is not None and t in timed:
            seconds = ks * t.mean_wall_s / scale
            by_time.plot(seconds, means, color=colour, lw=1.5, marker="o", ms=2.5)
            by_time.fill_between(seconds, low, high, color=colour, alpha=0.2, lw=0)
    integer_ticks(by_trials.xaxis)
    by_trials.set(xlabel="trials (k)", ylabel=f"expected best {label}")
    if by_time is not None:
        by_time.set(xlabel=f"training time ({unit}, summed over trials)")
        by_time.sharey(by_trials)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=FONT_SIZE)
    by_trials.legend(fontsize=FONT_SIZE, loc="best")
    fit_width(
        fig,
        fig.suptitle(
            f"{title}: expected best {label} against the tuning budget "
            f"({METRICS[metric]} is better; bands: 95% bootstrap)",
            fontsize="large",
        ),
    )
    fig.tight_layout()
    return fig
