"""PNG figures of a comparison: metric over steps, final metric per variant, sample grids."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from genlab.compare.axes import X_AXES
from genlab.compare.stats import aggregate
from genlab.compare.variants import Variant
from genlab.figures import FONT_SIZE, WIDTH, keep_tick_labels_apart, save, wrap
from genlab.metrics.keys import BY_NAME

log = logging.getLogger(__name__)


def plot_curves(
    metric: str, variants: list[Variant], path: Path, x: str = "generator_steps"
) -> bool:
    """:func:`curves_figure` written as ``path`` (PNG, 200 dpi) and beside it as PDF; False
    when no variant has a curve."""
    fig = curves_figure(metric, variants, x)
    if fig is not None:
        save(fig, path, pdf=True)
    return fig is not None


def curves_figure(
    metric: str, variants: list[Variant], x: str = "generator_steps"
) -> Figure | None:
    """Each seed's metric against ``x`` (thin lines), and per variant the mean with its 95%
    interval (line and band) at the points every seed was evaluated. Variants with fewer than
    two evaluations draw no curve; None when none has one."""
    fig, ax = plt.subplots(figsize=(WIDTH, 4.8))
    drawn = False
    for index, variant in enumerate(variants):
        colour = f"C{index % 10}"
        series = [_points(run.history, x, metric) for run in variant.runs]
        series = [points for points in series if len(points) >= 2]
        if not series:
            continue
        for points in series:
            steps = sorted(points)
            ax.plot(steps, [points[s] for s in steps], color=colour, alpha=0.35, lw=0.8)
        common = sorted(set.intersection(*(set(points) for points in series)))
        if len(common) < 2:
            continue
        aggregates = [aggregate([points[s] for points in series], metric) for s in common]
        ax.plot(
            common, [a.mean for a in aggregates], color=colour, lw=2, marker="o", ms=3,
            label=wrap(f"{variant.label} ({len(series)} seed{'s' * (len(series) > 1)})", 48),
        )  # fmt: skip
        if len(series) >= 2:
            ax.fill_between(
                common, [a.ci_low for a in aggregates], [a.ci_high for a in aggregates],
                color=colour, alpha=0.15, lw=0,
            )  # fmt: skip
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    key = BY_NAME[metric]
    ax.set(xlabel=X_AXES.get(x, x), ylabel=key.label)
    ax.set_title(f"{key.label} during training ({key.better} is better; band: 95% CI of the mean)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT_SIZE, loc="best")
    fig.tight_layout()
    return fig


def curve_axis(variants: list[Variant]) -> str:
    """Generator steps when every evaluation recorded them (older runs recorded only the
    optimizer step), else optimizer steps."""
    records = [h for variant in variants for run in variant.runs for h in run.history]
    return "generator_steps" if all("generator_steps" in h for h in records) else "step"


def _points(history: list[dict], x: str, metric: str) -> dict[float, float]:
    """``x`` -> metric of one run's evaluations that recorded both."""
    return {h[x]: h[metric] for h in history if h.get(x) is not None and h.get(metric) is not None}


def plot_final(metric: str, finals: dict[str, list[float]], path: Path) -> None:
    """:func:`final_figure` written as ``path`` (PNG, 200 dpi) and beside it as PDF."""
    save(final_figure(metric, finals), path, pdf=True)


def final_figure(metric: str, finals: dict[str, list[float]]) -> Figure:
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
    ax.set_xticks(range(len(labels)), [wrap(label, 20) for label in labels], fontsize=FONT_SIZE)
    key = BY_NAME[metric]
    ax.set(
        ylabel=key.label,
        title=f"final {key.label}: seeds, mean and 95% CI ({key.better} is better)",
    )
    keep_tick_labels_apart(fig, ax)
    fig.tight_layout()
    return fig


def plot_grids(variants: list[Variant], path: Path, per_row: int = 4) -> bool:
    """The last sample grid of each variant's first run that has one, pasted at its native
    resolution (no resampling) under a caption naming the variant, the seed and the step."""
    panels = []
    for variant in variants:
        run = next((run for run in variant.runs if run.last_grid()), None)
        if run is not None:
            grid = run.last_grid()
            step = int(grid.stem.removeprefix("samples_step"))
            caption = f"{wrap(variant.label, 40)}\nseed {run.seed}, optimizer step {step}"
            try:
                # PNG's decoder only: Pillow chooses one by a file's content, not its name, and
                # the EPS decoder hands the file to Ghostscript, a PostScript interpreter.
                with Image.open(grid, formats=["PNG"]) as image:
                    panels.append((caption, image.convert("RGB")))
            except OSError as exc:  # not a PNG (UnidentifiedImageError), or damaged
                log.warning("Leaving out the sample grid %s, not a readable PNG (%s)", grid, exc)
    if not panels:
        return False
    font = ImageFont.load_default(size=13)
    caption_height = 18 * max(caption.count("\n") + 1 for caption, _ in panels)
    gap = 12
    width = max(
        max(image.width for _, image in panels),
        *(font.getlength(line) for caption, _ in panels for line in caption.splitlines()),
    )
    width = int(width) + 1
    height = max(image.height for _, image in panels) + caption_height
    rows = -(-len(panels) // per_row)
    columns = min(per_row, len(panels))
    mosaic = Image.new("RGB", (columns * (width + gap) + gap, rows * (height + gap) + gap), "white")
    draw = ImageDraw.Draw(mosaic)
    for index, (caption, image) in enumerate(panels):
        left = gap + (index % per_row) * (width + gap)
        top = gap + (index // per_row) * (height + gap)
        draw.multiline_text((left, top), caption, fill="black", font=font, spacing=3)
        mosaic.paste(image, (left, top + caption_height))
    mosaic.save(path)
    return True
