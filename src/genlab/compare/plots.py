"""PNG figures of a comparison: metric over steps, final metric per variant, sample grids."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from genlab.compare.stats import METRICS, aggregate
from genlab.compare.variants import Variant


def plot_curves(metric: str, variants: list[Variant], path: Path) -> bool:
    """Each seed's metric over optimizer steps (thin) and the variant's mean where every seed
    was evaluated (thick). False when no run has a metrics history."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for index, variant in enumerate(variants):
        colour = f"C{index % 10}"
        series = []
        for run in variant.runs:
            points = {h["step"]: h[metric] for h in run.history if h.get(metric) is not None}
            if points:
                steps = sorted(points)
                ax.plot(steps, [points[s] for s in steps], color=colour, alpha=0.3, lw=1)
                series.append(points)
        if not series:
            continue
        common = sorted(set.intersection(*(set(s) for s in series)))
        mean = [np.mean([s[step] for s in series]) for step in common]
        ax.plot(common, mean, color=colour, lw=2.5, marker="o", label=_short(variant.label))
        drawn = True
    if drawn:
        ax.set(
            xlabel="optimizer step", ylabel=metric, title=f"{metric} ({METRICS[metric]} is better)"
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return drawn


def plot_final(metric: str, finals: dict[str, list[float]], path: Path) -> None:
    """Each seed's final value and the mean with its 95% interval, per variant."""
    labels = list(finals)
    seeds = [finals[label] for label in labels]
    aggregates = [aggregate(values, metric) for values in seeds]
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(labels)), 4.5))
    for index, (agg, values) in enumerate(zip(aggregates, seeds, strict=True)):
        ax.scatter([index] * len(values), values, color="grey", s=18, zorder=2)
        if agg.n >= 2:
            yerr = [[agg.mean - agg.ci_low], [agg.ci_high - agg.mean]]
            ax.errorbar(
                index,
                agg.mean,
                yerr=yerr,
                fmt="o",
                color=f"C{index % 10}",
                capsize=6,
                ms=8,
                zorder=3,
            )
        else:
            ax.plot(index, agg.mean, "o", color=f"C{index % 10}", ms=8, zorder=3)
    ax.set_xticks(
        range(len(labels)), [_short(label) for label in labels], rotation=20, ha="right", fontsize=8
    )
    ax.set(
        ylabel=metric, title=f"final {metric}: seeds, mean and 95% CI ({METRICS[metric]} is better)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_grids(variants: list[Variant], path: Path) -> bool:
    """The last sample grid of each variant's first run that has one, side by side."""
    panels = []
    for variant in variants:
        grid = next((g for g in (run.last_grid() for run in variant.runs) if g), None)
        if grid is not None:
            panels.append((variant.label, grid))
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, grid) in zip(axes[0], panels, strict=True):
        with Image.open(grid) as image:
            ax.imshow(np.asarray(image.convert("RGB")))
        ax.set_title(f"{_short(label)}\n{grid.name}", fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _short(label: str, width: int = 48) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1) :]
